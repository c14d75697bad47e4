#!/usr/bin/env bash
# Does learning to tag BABE's biased words help the bias classifier? Bias-only fine-tunes with
# and without the auxiliary word loss (`--word-loss W`), paired by seed: the seed also draws the
# 15% held-out dev split, so only runs with the same seed are comparable. Prints each run's
# per-epoch dev macro-F1 (the best epoch is kept). About 10 minutes per run on one CPU core;
# two runs go side by side. Usage: bash bench/bias_word_loss.sh [W] [SEED...]
# EXTRA="--freeze-word-embeddings" adds options to both runs (the bundled bias model's recipe is
# EXTRA="--freeze-word-embeddings" bash bench/bias_word_loss.sh 2 13).
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-0.5}
shift || true
SEEDS=("${@:-13 21 7}")
OUT=${OUT:-runs/bias-word-loss}
run() {  # run NAME SEED [options]
  local name=$1 seed=$2
  shift 2
  answerspan train classifier --task bias --train ../shared/data/bias/babe-sg2-train.csv \
    --epochs 3 --lr 8e-5 --batch-size 16 --max-length 96 --threads 1 --seed "$seed" \
    ${EXTRA:-} "$@" --out "$OUT/$name-seed$seed" 2>&1 | grep "dev mean" | sed "s/^/$name seed $seed: /"
}
for seed in ${SEEDS[*]}; do
  run plain "$seed" &
  run "word-loss-$W" "$seed" --word-loss "$W" &
  wait
done
