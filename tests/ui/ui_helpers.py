"""Helpers shared by the GUI tests (waiting, screenshots, copies of real files)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def assert_idle(managers) -> None:
    """Raise AssertionError naming every manager with queued or running work."""
    busy = [
        f"{m.pending()} job(s) pending, {m.pool.activeThreadCount()} thread(s) active"
        for m in managers
        if m.pending() or m.pool.activeThreadCount()
    ]
    assert not busy, "background work left running: " + "; ".join(busy)


def wait_idle(qtbot, window, timeout: float = 120.0) -> None:
    """Wait until the window has started its jobs and its worker has nothing left to do."""
    qtbot.waitUntil(
        lambda: window.background_started and not window.tasks.is_busy(),
        timeout=int(timeout * 1000),
    )


def screenshot(widget, name: str) -> Path:
    """Save ``widget`` as test-artifacts/screenshots/<name>.png (kept by CI)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


def settle(qtbot, ms: int = 200) -> None:
    """Let pending paints and layouts run (PDF pages render asynchronously)."""
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        qtbot.wait(20)


def copy_files(paths, folder: Path) -> list[Path]:
    """Copies of real files in ``folder`` (the shared originals are read-only)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in paths:
        dst = folder / Path(p).name
        shutil.copyfile(p, dst)
        out.append(dst)
    return out
