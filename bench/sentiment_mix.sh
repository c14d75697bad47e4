#!/usr/bin/env bash
# Which sentiment data to mix: train the sentiment tagger on the news sets alone and on the news
# sets plus SemEval-2017 tweets and SST-5, same budget per file, and score both on dev sets of
# four domains. Prints each run's per-epoch dev macro-F1 (the last line of each is epoch 2).
# About 10 minutes on 2 CPU cores. Results are in resources/models/taggers/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/data/sentiment
OUT=${OUT:-runs/sentiment-mix}
common=(--task sentiment --epochs 2 --lr 8e-5 --batch-size 16 --max-length 96
  --limit-train 1500 --limit-dev 600 --threads 2
  --dev "$D/newsmtsc/devtest_mt.jsonl" "$D/semeval2017-4a/twitter-2016dev-A.tsv" "$D/sst5/dev.txt")
answerspan train classifier "${common[@]}" --out "$OUT/news" \
  --train "$D/financial-phrasebank-train.csv" "$D/newsmtsc/train.jsonl" 2>&1 | grep "dev mean"
answerspan train classifier "${common[@]}" --out "$OUT/news+tweets+sst5" \
  --train "$D/financial-phrasebank-train.csv" "$D/newsmtsc/train.jsonl" \
  "$D/semeval2017-4a/twitter-2016train-A.tsv" "$D/sst5/train.txt" 2>&1 | grep "dev mean"
