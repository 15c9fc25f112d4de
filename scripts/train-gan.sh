#!/usr/bin/env bash
# Reproduces the embedded default DCGAN generator (models/dcgan/default/README.md): trains the
# MNIST classifier that scores it (if clf.onnx is absent), then the generator for one hour of
# wall time — Adam, batch normalisation in the generator (folded into the export), the moving
# average of its weights, wider layers, no dropout or label noise in the discriminator, the
# learning rates decayed over the last quarter — scoring it every 2,000 steps, and finally scores the
# export on 10,000 samples. Output: OUT (default gan-1h.onnx), OUT's .train/ directory (sample
# grids, progress.gif, loss.png, score.png, checkpoints), clf.onnx. Extra arguments go to
# `gendl-train gan` (e.g. --time-limit 10m).
#
#   scripts/train-gan.sh [--out gan-1h.onnx] [--time-limit 1h]
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/gendl-train ./cmd/gendl-train
out=gan-1h.onnx
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	*) args+=("$1"); shift ;;
	esac
done
[ -f clf.onnx ] || bin/gendl-train classifier --dataset mnist --epochs 15 --seed 1 --out clf.onnx
bin/gendl-train gan --dataset mnist --optimizer adam --batch 32 --seed 1 \
	--gen-batchnorm --ema 0.999 --gen-base 128 --gen-filters 128,64 --disc-filters 64,128 \
	--dropout 0 --label-noise 0 --lr-decay 0.25 --steps 18000 --time-limit 1h --classifier clf.onnx --eval-every 2000 --out "$out" "${args[@]}"
bin/gendl-train eval gan --model "$out" --classifier clf.onnx --samples 10000 --splits 10
