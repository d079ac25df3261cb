#!/usr/bin/env bash
# `make check-pytorch`: loads the shipped trained weights (or the file given)
# into PyTorch modules named as the release's, with load_state_dict(strict=True),
# runs the spec's computation in PyTorch and compares it with `segscope forward`
# (Tests/Tools/check_pytorch.py). Not part of `make test`: it installs torch
# (hundreds of MB) into the reference venv.
set -euo pipefail
cd "$(dirname "$0")/.."
weights="${1:-samples/weights/street-c64.safetensors}"
python=.build/pyref/bin/python3
"$python" -c "import torch" 2>/dev/null || .build/pyref/bin/pip install --quiet torch
swift build -c release --product segscope >/dev/null
bin="$(swift build -c release --show-bin-path)/segscope"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
channels=$("$python" -c "
import sys
from safetensors import safe_open
with safe_open(sys.argv[1], 'np') as f: print(f.get_slice('classifier.weight').get_shape()[1])" "$weights")
"$bin" synth --out "$work/data" --sequences 1 --frames 3 --size 256x512 --feature-dim "$channels" --seed 5 --split val
features="$work/data/features/val/synth"
"$bin" forward --weights "$weights" --frames "$features"/synth_000000_00000{0,1,2}.npy --out "$work/out"
"$python" Tests/Tools/check_pytorch.py "$weights" "$features"/synth_000000_00000{0,1,2}.npy "$work/out"
