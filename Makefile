# README's two set-up-from-nothing commands:
#   make run   — install libtorch and the base encoder (cached outside the clone), build, label
#                the seed corpus into out/seeds and evaluate it against the hand-tagged gold
#   make test  — install the same, check formatting and lints, then run every test of the
#                workspace (unit and end-to-end, real model)
STANCE := target/release/stance
OUT ?= out/seeds

.PHONY: setup build run test lint test-core calibrate
setup:
	bash scripts/setup.sh

build: setup
	cargo build --release --locked

run: build
	$(STANCE) run --manifest seeds/manifest.csv --out $(OUT)
	$(STANCE) eval --gold eval/gold/seeds.csv --pred $(OUT)/sentences.csv

test: setup lint
	cargo test --release --locked --workspace

# Formatting and lints, as CI runs them (part of make test).
lint: setup
	cargo fmt --all --check
	cargo clippy --release --locked --workspace --all-targets -- -D warnings

# The torch-free core alone: text, data, statistics (seconds, no libtorch).
test-core:
	cargo test --release --locked -p stance-core

# Re-measures the zero-shot margins in stance.toml on training data (needs ../shared/datasets).
calibrate: build
	python3 eval/calibrate_zero_shot.py
