"""The window opens fast: the GUI modules load no torch, faiss or pypdf; `python -m assistant`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from assistant.ui.main_window import MainWindow
app = QApplication([])
window = MainWindow(store=QSettings(sys.argv[1], QSettings.Format.IniFormat), warm_up=False)
heavy = [m for m in ("torch", "faiss", "pypdf", "transformers", "numpy") if m in sys.modules]
window.show()
app.processEvents()
shown = time.perf_counter() - t0
QTimer.singleShot(0, window.close)
app.exec()
print(json.dumps({"heavy": heavy, "shown": shown}))
"""


def test_window_shows_without_loading_heavy_libraries(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ANSWERSPAN_LIBRARY=str(tmp_path / "lib"))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], "the GUI thread imported model code before the window showed"
    assert report["shown"] < 5.0, f"window took {report['shown']:.1f} s to show"


def test_python_m_assistant_help_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "desktop app" in out.stdout
