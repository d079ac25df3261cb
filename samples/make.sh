#!/usr/bin/env bash
# Re-creates the shipped sample from scratch (see samples/README.md):
# 2 synthetic sequences x 12 frames at 256x512 with ground truth, and the
# baseline, STF and MAR predictions and confidences that `segscope infer`
# gives with the committed weights (samples/weights/street-c64.safetensors,
# trained by `make reproduce`). The features are made on the fly and not kept.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product segscope >/dev/null
bin="$(swift build -c release --show-bin-path)/segscope"
scene=(--sequences 2 --frames 12 --size 256x512 --seed 2026 --split val)
"$bin" synth --out samples/street "${scene[@]}" --no-features --force
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" synth --out "$tmp/street" "${scene[@]}" --feature-dim 64
# The frames and GT do not depend on the features.
diff -r "$tmp/street/gtFine" samples/street/gtFine
"$bin" infer "$tmp/street" --weights samples/weights/street-c64.safetensors --out "$tmp/run" --compact
cp -r "$tmp/run/pred" "$tmp/run/conf" samples/street/
