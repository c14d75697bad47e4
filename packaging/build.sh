#!/usr/bin/env bash
# Build the one-folder desktop app with PyInstaller: dist/answerspan/answerspan.
#
#   bash packaging/build.sh            # build (uses the active venv, else .venv, else creates it)
#   bash packaging/build.sh --smoke    # build, then start the app offscreen until its models load
#   bash packaging/build.sh --install-desktop   # also add the menu entry for this user
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if [ -n "${VIRTUAL_ENV:-}" ]; then
  PY=python
else
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q torch==2.13.0
    .venv/bin/python -m pip install -q -e .
  fi
  PY=.venv/bin/python
fi
"$PY" -m pip install -q "pyinstaller>=6.0"

"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/answerspan.spec
echo "built dist/answerspan: $(du -sh dist/answerspan | cut -f1)"

for arg in "$@"; do
  case "$arg" in
    --smoke)
      # Opens the window offscreen, waits for the models to load, closes: exit 0 when they did.
      tmp="$(mktemp -d)"
      QT_QPA_PLATFORM=offscreen ANSWERSPAN_SMOKE_SECONDS=180 \
        ANSWERSPAN_LIBRARY="$tmp/library" XDG_CONFIG_HOME="$tmp/config" dist/answerspan/answerspan
      echo "smoke test passed: the built app starts and loads its models"
      ;;
    --install-desktop)
      apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
      icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
      mkdir -p "$apps" "$icons" "$HOME/.local/bin"
      ln -sf "$PWD/dist/answerspan/answerspan" "$HOME/.local/bin/answerspan"
      cp packaging/answerspan.svg "$icons/answerspan.svg"
      cp packaging/answerspan.desktop "$apps/answerspan.desktop"
      echo "installed the menu entry (answerspan is linked into ~/.local/bin)"
      ;;
  esac
done
