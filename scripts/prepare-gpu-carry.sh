#!/usr/bin/env bash
# Fill the git-ignored carry/ folder that scripts/gpu-retrain.sh needs on a GPU machine where only
# the checkout travels (64 MiB): the base model as fp16 (45 MB instead of 90 MB) and the training
# and dev files of ../shared/data (xz-compressed). Move resources/models/*/model*.safetensors out
# of the checkout while the GPU call runs (they would count too), then `git checkout resources`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p carry
"$PY" - <<'EOF'
import torch
from transformers import AutoModel, AutoTokenizer

from assistant.nlp.models import base_model_path

base = base_model_path()
model = AutoModel.from_pretrained(base, dtype=torch.float32).half()
model.save_pretrained("carry/base", safe_serialization=True)
AutoTokenizer.from_pretrained(base).save_pretrained("carry/base")
EOF
(cd ../shared && tar -cJf "$OLDPWD/carry/data.tar.xz" \
  data/qa/squad-v1.1-dev.json.gz data/qa/squad-v2.0-dev.json.gz \
  data/qa/extra/squad-v2.0-train-first10articles.json \
  data/qa/extra/subjqa/{electronics,grocery,restaurants,tripadvisor}/splits/train.csv \
  data/sentiment/financial-phrasebank-train.csv data/sentiment/newsmtsc/train.jsonl \
  data/sentiment/newsmtsc/devtest_mt.jsonl data/bias/babe-sg2-train.csv \
  data/topic/bbc-news-train.csv data/sentiment/sst2/train.tsv data/sentiment/sst2/dev.tsv \
  data/sentiment/semeval2017-4a/twitter-2016train-A.tsv \
  data/sentiment/semeval2017-4a/twitter-2016dev-A.tsv data/sentiment/sst5/train.txt \
  data/sentiment/sst5/dev.txt)
cp ../shared/data/qa/squad-v1.1-train.json.gz carry/
du -sh carry
