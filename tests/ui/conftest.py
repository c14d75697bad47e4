"""GUI test fixtures: isolated QSettings, real windows on temporary libraries, a background guard.

Every window here is the real ``MainWindow`` with the real ``Assistant`` on its worker. The
autouse ``background_guard`` fails a test that ends while a worker still has jobs queued or
running (tests must wait for their work), then shuts every worker down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ui_helpers import assert_idle


@pytest.fixture(autouse=True)
def background_guard(qapp) -> Iterator[None]:
    """Fail the test if it leaves background work running; then stop all workers and windows."""
    from assistant.ui.main_window import MainWindow
    from assistant.ui.tasks import TaskManager

    before = set(TaskManager.instances)
    yield
    qapp.processEvents()  # deliver already-queued ``finished`` signals first
    created = [m for m in TaskManager.instances if m not in before]
    try:
        assert_idle(created)
    finally:
        for widget in qapp.topLevelWidgets():
            if isinstance(widget, MainWindow):
                widget.close()
                widget.deleteLater()
        for manager in created:
            manager.shutdown()
        qapp.processEvents()


@pytest.fixture
def store(tmp_path: Path):
    """A private QSettings file, so tests never read or write the user's settings."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "answerspan.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, tmp_path: Path, store) -> Callable:
    """Factory: a shown ``MainWindow`` on ``library_dir`` (default: a fresh temporary folder)."""
    from assistant.config import Settings
    from assistant.ui.main_window import MainWindow

    def make(library_dir: Path | None = None, warm_up: bool = False, **settings) -> MainWindow:
        settings.setdefault("tag_passages", False)
        window = MainWindow(
            Settings(library_dir=library_dir or tmp_path / "library", **settings),
            store=store,
            warm_up=warm_up,
        )
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make
