#!/usr/bin/env bash
# Re-creates the shipped sample from scratch (see samples/README.md):
# 2 synthetic sequences x 12 frames at 256x512 (JPEG frames) with ground truth,
# the baseline, STF and MAR predictions and confidences that `segscope infer`
# gives with the committed weights (samples/weights/street-c64.safetensors,
# trained by `make reproduce`) on the float16 features, and those features for
# the first sequence only (all of them would not fit the 8 MB budget).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product segscope >/dev/null
bin="$(swift build -c release --show-bin-path)/segscope"
scene=(--sequences 2 --frames 12 --size 256x512 --seed 2026 --split val --frame-format jpeg)
"$bin" synth --out samples/street "${scene[@]}" --feature-dim 64 --feature-type float16 --force
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" synth --out "$tmp/street" "${scene[@]}" --no-features
# The frames and GT do not depend on the features.
diff -r "$tmp/street/gtFine" samples/street/gtFine
diff -r "$tmp/street/leftImg8bit_sequence" samples/street/leftImg8bit_sequence
# Predictions of every frame from exactly the features that are shipped (float16).
"$bin" infer samples/street --weights samples/weights/street-c64.safetensors --out "$tmp/run" --compact
cp -r "$tmp/run/pred" "$tmp/run/conf" samples/street/
# Only the first sequence's features are kept: synth_000000, frames 0-11.
rm samples/street/features/val/synth/synth_000001_*.npy
