#!/usr/bin/env bash
# Retrieval benchmark: recall@1/5/10 and latency of hybrid, dense-only and lexical-only search on
# the full SQuAD v1.1 dev set (10,570 questions over 2,067 paragraphs). About 5-10 minutes on a
# 2-core CPU. Extra arguments go to the command, e.g. `bash bench/retrieval.sh --limit 2000`.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
SQUAD=${SQUAD:-../shared/data/qa/squad-v1.1-dev.json.gz}
mkdir -p runs
.venv/bin/answerspan evaluate retrieval --squad "$SQUAD" --mode all --threads "${THREADS:-2}" --json "$@" \
  | tee runs/retrieval-bench.json
