#!/usr/bin/env bash
# `make reproduce`: the paper's training schedule and ablation on synthetic
# street video, end to end on CPU (see README, "Reproducing the ablation").
#   1. synth: disjoint train (8 sequences, seed 1) and val (3 sequences, seed 2)
#      splits, 256x512 frames, C=64 features at 32x64, one simulated backbone;
#   2. train the baseline classifier; STF + a fresh classifier; build the
#      memory from the STF model; MAR + a fresh classifier on the fixed STF;
#      and, for the "+MAR" row, a memory and MAR on the raw features;
#   3. infer on val and print the ablation (Table 3 form) and the per-class
#      IoU (Table 5 form) with `segscope eval`.
# Everything goes to $REPRODUCE_DIR (default .build/reproduce); the weights
# of the full model are left there as full.safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product segscope >/dev/null
bin="$(swift build -c release --show-bin-path)/segscope"
work="${REPRODUCE_DIR:-.build/reproduce}"
rm -rf "$work"
mkdir -p "$work"
start=$SECONDS
step() { echo "[$((SECONDS - start))s] $*" >&2; }

step "synthetic data"
"$bin" synth --out "$work/train" --sequences 8 --frames 12 --size 256x512 --feature-dim 64 --seed 1 --split train
"$bin" synth --out "$work/val" --sequences 3 --frames 12 --size 256x512 --feature-dim 64 --seed 2 --split val --first-sequence 100

common=(--val "$work/val" --seed 7)
stf_shape=(--block 8x8 --ffn 128 --pe-size 16x32)
step "stage 1: baseline classifier"
"$bin" train classifier "$work/train" --out "$work/base.safetensors" --epochs 4 --lr 0.01 "${common[@]}"
step "stage 2: STF + classifier"
"$bin" train stf "$work/train" --init "$work/base.safetensors" --out "$work/stf.safetensors" --epochs 10 --lr 0.003 "${stf_shape[@]}" "${common[@]}"
step "stage 3: memory from the STF model"
"$bin" memory build "$work/train" --weights "$work/stf.safetensors" --out "$work/memory-stf"
step "stage 4: MAR + classifier on the fixed STF"
"$bin" train mar "$work/train" --init "$work/stf.safetensors" --memory "$work/memory-stf" --out "$work/full.safetensors" --epochs 12 --lr 0.003 "${common[@]}"
step "MAR alone: memory and MAR on the raw features"
"$bin" memory build "$work/train" --weights "$work/base.safetensors" --out "$work/memory-base"
"$bin" train mar "$work/train" --init "$work/base.safetensors" --memory "$work/memory-base" --out "$work/mar-only.safetensors" --epochs 12 --lr 0.003 "${common[@]}"

step "inference on val"
"$bin" infer "$work/val" --weights "$work/full.safetensors" --out "$work/run-full"
"$bin" infer "$work/val" --weights "$work/mar-only.safetensors" --out "$work/run-mar-only"
methods=(--pred "baseline=$work/run-full/pred/baseline" --pred "+STF=$work/run-full/pred/stf"
         --pred "+MAR=$work/run-mar-only/pred/mar" --pred "+STF+MAR=$work/run-full/pred/mar" --pred-encoding trainIds)
step "evaluation"
echo
echo "## Ablation (form of the paper's Table 3), synthetic val: 3 sequences x 12 frames"
echo
"$bin" eval "$work/val" "${methods[@]}" --format ablation
echo
echo "## Per-class IoU (form of the paper's Table 5)"
echo
"$bin" eval "$work/val" "${methods[@]}" --format markdown
step "done"
