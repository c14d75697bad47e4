#!/usr/bin/env bash
# Set up a virtual environment (CPU torch from local disk) and run the whole test suite,
# including the tests marked `slow` that load the real bundled models.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
