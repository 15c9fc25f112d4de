#!/usr/bin/env bash
# Trains the char-LSTM on the embedded default corpus (Newton's Opticks) with the book's
# settings: maxlen 60, step 3, LSTM(128), batch 128, RMSprop 0.01, gradient clipping at 5,
# 5% validation. Extra arguments are passed to `gendl-train text` (e.g. --epochs 2).
# After every epoch it prints samples at temperatures 0.2, 0.5, 1.0 and 1.2, and writes
# samples.txt, metrics.jsonl, steps.tsv and loss.png beside the checkpoints (lstm.train/ for
# --out lstm.onnx); on a terminal it shows a progress bar with ETA.
#
#   scripts/train-text.sh --epochs 10 --out lstm.onnx
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/gendl-train ./cmd/gendl-train
exec bin/gendl-train text --seed 1 "$@"
