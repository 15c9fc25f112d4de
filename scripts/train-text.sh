#!/usr/bin/env bash
# Trains the char-LSTM on the embedded default corpus (Newton's Opticks) with the book's
# settings: maxlen 60, step 3, LSTM(128), batch 128, RMSprop 0.01, gradient clipping at 5,
# 5% validation. Extra arguments are passed to `gendl-train text` (e.g. --epochs 2).
#
#   scripts/train-text.sh --epochs 10 --out lstm.onnx
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/gendl-train ./cmd/gendl-train
exec bin/gendl-train text --seed 1 "$@"
