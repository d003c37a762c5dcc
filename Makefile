# README's two set-up-from-nothing commands:
#   make run   — install libtorch and the base encoder (cached outside the clone), build, label
#                the seed corpus into out/seeds and evaluate it against the hand-tagged gold
#   make test  — install the same, then run every test (unit and end-to-end, real model)
STANCE := target/release/stance
OUT ?= out/seeds

.PHONY: setup build run test calibrate
setup:
	bash scripts/setup.sh

build: setup
	cargo build --release --locked

run: build
	$(STANCE) run --manifest seeds/manifest.csv --out $(OUT)
	$(STANCE) eval --gold eval/gold/seeds.csv --pred $(OUT)/sentences.csv

test: setup
	cargo test --release --locked

# Re-measures the zero-shot margins in stance.toml on training data (needs ../shared/datasets).
calibrate: build
	python3 eval/calibrate_zero_shot.py
