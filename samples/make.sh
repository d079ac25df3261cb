#!/usr/bin/env bash
# Re-creates the shipped sample from scratch: 2 synthetic sequences x 12 frames
# at 256x512, frames and ground truth only (see samples/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product segscope >/dev/null
bin="$(swift build -c release --show-bin-path)/segscope"
"$bin" synth --out samples/street --sequences 2 --frames 12 --size 256x512 --seed 2026 --split val --no-features --force
