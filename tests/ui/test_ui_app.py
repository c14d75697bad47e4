"""The real window end to end: drop real documents, index, ask, read the highlighted source,
open its page. Real models (embedder, bundled reader); screenshots of each state."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox
from ui_helpers import copy_files, screenshot, settle, wait_idle

from assistant.ui.chat import NOT_FOUND
from assistant.ui.sources import HAVE_QTPDF, HIGHLIGHT, chip_texts, highlighted_runs
from retrieval.library import DB_FILE
from retrieval.store import Store

pytestmark = pytest.mark.slow

NEWS = "news/bbc-business_001.txt"
PDF = "pdf/annotation_guidelines_BABE.pdf"
PDF_QUESTION = "Where did Alexandria Ocasio-Cortez and other Democrats visit a processing center?"
NEWS_QUESTION = "How many subscribers did AOL lose in the fourth quarter?"


def drop(window, paths) -> None:
    """Simulate dragging files from a file manager onto the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(window.rect().center())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, event)
    assert event.isAccepted()


def ask(qtbot, window, question: str):
    """Type the question, press Enter, wait for the answer; returns the AnswerResult."""
    window.chat.input.setFocus()
    QTest.keyClicks(window.chat.input, question)
    QTest.keyClick(window.chat.input, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    entry = window.chat.model.entries()[-1]
    assert entry.role == "answer", entry.text
    return entry.result


class GapMeter:
    """Measures the longest pause of the GUI event loop with a 20 ms timer."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.max_gap = 0.0
        self.ticks = 0

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1

    def stop(self) -> None:
        self.timer.stop()


def tagger_bundled() -> bool:
    """True when a sentiment/bias/topic model is bundled (then passages carry tags)."""
    from assistant.config import Settings
    from assistant.nlp.taggers import PassageTagger

    return PassageTagger.from_settings(Settings()) is not None


def no_dialogs() -> bool:
    """True when no dialog or message box is open."""
    return not [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QDialog | QMessageBox) and w.isVisible()
    ]


def test_drop_index_ask_and_see_the_answer_on_its_page(
    qtbot, make_window, docs_dir, tmp_path, monkeypatch
):
    # Small tagging steps, so these two documents (17 passages) take several.
    monkeypatch.setattr("assistant.ui.main_window.TAGGING_STEP", 4)
    window = make_window(warm_up=True, tag_passages=True)
    screenshot(window, "01-empty-library")
    assert window.library.stack.currentWidget() is window.library.empty

    meter = GapMeter()
    meter.start()
    started: list[str] = []
    window.tasks.job_started.connect(started.append)
    drop(window, [docs_dir / NEWS, docs_dir / PDF])
    # Ask right away: the question waits behind indexing on the one worker.
    window.chat.input.setText(PDF_QUESTION)
    window.chat.submit()
    qtbot.waitUntil(lambda: "Indexing" in window.library.progress_label.text(), timeout=60000)
    screenshot(window, "02-indexing")
    if tagger_bundled():  # indexing leaves the tags for later, one short job at a time
        qtbot.waitUntil(window.library.tagging_label.isVisible, timeout=120000)
        assert "passages left" in window.library.tagging_label.text()
        screenshot(window, "02b-tagging-sources")
    wait_idle(qtbot, window)
    meter.stop()
    assert meter.ticks > 10
    assert meter.max_gap < 0.5, f"GUI thread blocked for {meter.max_gap:.2f} s"
    if tagger_bundled():
        # The question did not wait for the tagging, and every passage is tagged in the end.
        jobs = [label for label in started if label in ("Adding 2 items", "Answering",
                                                        "Tagging sources")]
        jobs = jobs[jobs.index("Adding 2 items"):]  # not a start-up step on the empty library
        assert jobs[:3] == ["Adding 2 items", "Answering", "Tagging sources"], jobs
        assert jobs.count("Tagging sources") >= 2, jobs
        assert window.library.tagging_label.isHidden()
        store = Store(window.settings.library_dir / DB_FILE)
        assert store.untagged_count() == 0 and store.chunk_count() > 8
        store.close()

    assert window.models_state == "ready"
    assert sorted(Path(p).name for p in window.library.all_paths()) == [
        "annotation_guidelines_BABE.pdf",
        "bbc-business_001.txt",
    ]
    assert window.library.results_label.text() == "Last import: 2 added"

    # The PDF answer, its highlighted span in the sources pane, and the page it is on.
    result = window.chat.model.entries()[-1].result
    assert not result.no_answer
    best = result.answers[0]
    assert "Clint" in best.text
    assert Path(best.document).name == "annotation_guidelines_BABE.pdf" and best.page == 2
    card = window.sources.answer_cards()[0]
    assert card.highlighted() == [best.text]
    assert card.place_label.text() == "annotation_guidelines_BABE.pdf, page 2"
    if tagger_bundled():  # each tag of the passage is shown as a chip
        chips = [c for c in card.findChildren(QLabel) if c.objectName().startswith("chip_")]
        assert chip_texts(best.tags) and len(chips) == len(chip_texts(best.tags))
    settle(qtbot, 300)
    screenshot(window, "03-answer-with-highlighted-source")

    card.open_button.click()
    viewer = window.sources.viewer
    if HAVE_QTPDF:
        assert viewer.stack.currentWidget() is viewer.pdf_view
        qtbot.waitUntil(lambda: viewer.current_page() == 2, timeout=5000)
        assert viewer.found_on_page >= 1, "the answer was not found on the PDF page"
        assert "the answer is highlighted" in viewer.match_label.text()
    else:
        wait_idle(qtbot, window)
        assert highlighted_runs(viewer.text_view.document(), HIGHLIGHT) == [best.text]
    settle(qtbot, 600)  # pages render asynchronously
    screenshot(window, "04-pdf-page-view")
    viewer.back_button.click()

    # A news article: the text view with the span highlighted.
    result = ask(qtbot, window, NEWS_QUESTION)
    best = result.answers[0]
    assert "464,000" in best.text and best.page is None
    card = window.sources.answer_cards()[0]
    assert card.highlighted() == [best.text]
    card.open_button.click()
    wait_idle(qtbot, window)  # the page text comes from the worker
    assert viewer.stack.currentWidget() is viewer.text_view
    assert highlighted_runs(viewer.text_view.document(), HIGHLIGHT) == [best.text]
    settle(qtbot, 200)
    screenshot(window, "05-news-text-view")

    # A question the documents cannot answer: the reader abstains.
    viewer.back_button.click()
    result = ask(qtbot, window, "What is the boiling point of mercury on Jupiter?")
    assert result.no_answer and result.passages
    last = window.chat.model.index(window.chat.model.rowCount() - 1)
    assert last.data() == NOT_FOUND
    assert window.sources.summary.text().startswith("No passage answers this question")
    assert {c.ref.label for c in window.sources.cards} == {"Closest passage"}
    settle(qtbot, 200)
    screenshot(window, "08-not-found")

    # Asking only the selected news article: the PDF's answer is out of reach.
    news_row = [Path(p).name for p in window.library.all_paths()].index("bbc-business_001.txt")
    window.library.table.selectRow(news_row)
    window.library.scope_check.setChecked(True)
    assert window.library.scope_check.text() == "Ask only the selected documents (1)"
    result = ask(qtbot, window, PDF_QUESTION)
    assert [Path(d).name for d in result.documents] == ["bbc-business_001.txt"]
    assert result.passages and all(
        Path(p.document).name == "bbc-business_001.txt" for p in result.passages)
    assert all("Clint" not in a.text for a in result.answers)
    assert "Searched only bbc-business_001.txt" in window.chat.model.to_markdown()
    assert "Searched only bbc-business_001.txt" in window.sources.summary.text()
    settle(qtbot, 200)
    screenshot(window, "09-scoped-question")
    window.library.scope_check.setChecked(False)
    assert window.library.scope_paths() == []

    out = tmp_path / "chat.md"
    window.export_chat(out)
    md = out.read_text(encoding="utf-8")
    assert f"**You:** {PDF_QUESTION}" in md and f"**You:** {NEWS_QUESTION}" in md
    assert f"**{best.text}**" in md and "annotation_guidelines_BABE.pdf, page 2" in md
    assert f"**Answerspan:** {NOT_FOUND}" in md
    assert no_dialogs()

    # The library persists: a new window on the same folder lists both documents.
    library_dir = window.settings.library_dir
    window.close()
    again = make_window(library_dir=library_dir)
    wait_idle(qtbot, again)
    assert len(again.library.all_paths()) == 2


def test_bad_files_give_one_summary_and_remove_reindex_work(qtbot, make_window, docs_dir, tmp_path):
    folder = tmp_path / "inbox"
    (good,) = copy_files([docs_dir / NEWS], folder)
    corrupt = folder / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)  # a PDF header, then garbage
    empty = folder / "empty.txt"
    empty.write_text("")
    window = make_window()
    wait_idle(qtbot, window)
    drop(window, [good, corrupt, empty])
    wait_idle(qtbot, window)
    assert no_dialogs()
    warnings = [m for level, m in window.notification.history if level != "info"]
    assert len(warnings) == 1 and warnings[0].startswith("2 of 3 files could not be added")
    assert window.notification.isVisible()
    lines = [window.library.results.item(i).text() for i in range(window.library.results.count())]
    assert any(line.startswith("✓ bbc-business_001.txt — added") for line in lines)
    assert sum("skipped" in line for line in lines) == 2
    screenshot(window, "06-bad-files-one-summary")

    # Re-index notices the changed file; Del (with the library focused) removes it.
    good.write_text(good.read_text(encoding="utf-8") + "\nA late correction.\n", encoding="utf-8")
    window.reindex_action.trigger()
    wait_idle(qtbot, window)
    assert window.library.results_label.text() == "Re-index: 1 updated"
    window.library.table.selectRow(0)
    window.library.table.setFocus()
    QTest.keyClick(window.library.table, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)
    assert window.library.all_paths() == []
    assert window.library.stack.currentWidget() is window.library.empty


def test_question_without_answer_says_not_found(qtbot, make_window):
    window = make_window()
    wait_idle(qtbot, window)
    result = ask(qtbot, window, "What is the boiling point of mercury on Jupiter?")
    assert result.no_answer
    index = window.chat.model.index(window.chat.model.rowCount() - 1)
    assert index.data() == NOT_FOUND
    assert "Nothing in your library" in window.sources.summary.text()


def test_a_library_left_untagged_is_tagged_when_the_app_opens_it(
    qtbot, make_window, docs_dir, tmp_path
):
    from assistant.config import Settings
    from assistant.service import Assistant

    if not tagger_bundled():
        pytest.skip("no tagger model bundled")
    library_dir = tmp_path / "untagged"
    indexer = Assistant(Settings(library_dir=library_dir, tag_passages=False))  # index --no-tags
    (report,) = indexer.ingest([docs_dir / NEWS])
    indexer.close()

    def untagged() -> int:
        store = Store(library_dir / DB_FILE)
        try:
            return store.untagged_count()
        finally:
            store.close()

    assert report.chunks >= 2 and untagged() == report.chunks
    window = make_window(library_dir=library_dir)  # tagging off: the passages stay as they are
    wait_idle(qtbot, window)
    assert untagged() == report.chunks and window.library.tagging_label.isHidden()
    window.close()
    window = make_window(library_dir=library_dir, tag_passages=True)
    wait_idle(qtbot, window)
    assert untagged() == 0 and window.library.tagging_label.isHidden()


def test_layout_and_settings_are_remembered(qtbot, make_window, store, tmp_path):
    from dataclasses import replace

    from assistant.ui.main_window import MainWindow

    window = make_window()
    wait_idle(qtbot, window)
    window.resize(780, 700)  # the offscreen screen is 800 x 800: restored geometry must fit
    window.splitter.setSizes([200, 330, 250])
    sizes = window.splitter.sizes()
    window.apply_settings(replace(window.settings, top_k=8))
    wait_idle(qtbot, window)
    window.close()

    again = MainWindow(store=store, warm_up=False)  # settings come from the store
    again.show()
    qtbot.waitExposed(again)
    wait_idle(qtbot, again)
    assert again.settings.top_k == 8
    assert again.settings.library_dir == tmp_path / "library"
    assert again.splitter.sizes() == sizes
    QTest.keyClick(again, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert again.chat.input.hasFocus() or QApplication.focusWidget() is again.chat.input


def test_dropped_folder_is_indexed_and_watched(qtbot, make_window, docs_dir, tmp_path):
    folder = tmp_path / "watched"
    copy_files([docs_dir / NEWS], folder)
    window = make_window()
    window._watch_timer.setInterval(200)  # the app waits 2 s for a burst of changes to settle
    wait_idle(qtbot, window)
    drop(window, [folder])
    wait_idle(qtbot, window)
    assert [Path(p).name for p in window.library.all_paths()] == ["bbc-business_001.txt"]
    assert str(folder) in window.watched_folders()
    copy_files([docs_dir / "news/bbc-tech_100.txt"], folder)  # a new file appears in the folder
    qtbot.waitUntil(lambda: len(window.library.all_paths()) == 2, timeout=60000)
    wait_idle(qtbot, window)
    assert window.library.results_label.text() == "Watched: 1 added, 1 unchanged"


def test_python_m_assistant_opens_the_window_and_loads_models(tmp_path):
    """`python -m assistant` (no arguments) opens the app; it quits once the models are loaded."""
    import os
    import subprocess
    import sys

    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        ANSWERSPAN_SMOKE_SECONDS="150",
        ANSWERSPAN_LIBRARY=str(tmp_path / "lib"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # QSettings: not the user's
    )
    out = subprocess.run(
        [sys.executable, "-m", "assistant"],
        capture_output=True,
        text=True,
        timeout=200,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "smoke: window shown, models: Ready" in out.stderr


def test_cancel_stops_a_batch_between_files(qtbot, make_window, docs_dir):
    window = make_window()
    wait_idle(qtbot, window)
    news = sorted((docs_dir / "news").glob("*.txt"))
    window.add_paths(news)
    qtbot.waitUntil(lambda: window.library.progress_bar.value() >= 1, timeout=60000)
    QTest.keyClick(window, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert window.library.progress_label.text() == "Cancelling…"
    wait_idle(qtbot, window)
    assert not window.library.progress_box.isVisible()
    assert window.notification.history[-1][1].startswith("Indexing was cancelled")
    assert 1 <= len(window.library.all_paths()) < len(news)


def test_a_question_asked_during_a_long_import_is_answered_between_files(
    qtbot, make_window, docs_dir, monkeypatch
):
    monkeypatch.setattr("assistant.ui.main_window.QUESTION_PATIENCE", 0.0)
    window = make_window(warm_up=True)
    wait_idle(qtbot, window)
    # The article first, then a 25-page paper that takes a while.
    window.add_paths([docs_dir / NEWS, docs_dir / PDF, docs_dir / "pdf/quiet-star-2403.09629.pdf"])
    qtbot.waitUntil(lambda: window.library.progress_bar.value() >= 1, timeout=60000)
    window.chat.input.setText(NEWS_QUESTION)
    window.chat.submit()
    entry = window.chat.model.entries()[-1]
    assert entry.role == "pending" and entry.text == "Waiting for indexing to finish…"
    qtbot.waitUntil(lambda: window.chat.model.entries()[-1].role == "answer", timeout=120000)
    # Answered from the article while the paper was still being indexed, and the answer says so.
    assert window.library.progress_box.isVisible() and window.tasks.is_busy()
    # The list shows the documents indexed so far (refreshed between files during an import).
    assert Path(NEWS).name in [Path(p).name for p in window.library.all_paths()]
    assert len(window.library.all_paths()) < 3
    entry = window.chat.model.entries()[-1]
    assert "464,000" in entry.result.answers[0].text
    assert entry.note.startswith("Asked while indexing (") and "of 3 files done" in entry.note
    assert entry.note in window.chat.model.to_markdown()
    screenshot(window, "10-answered-while-indexing")
    window.cancel_indexing()
    wait_idle(qtbot, window)


def test_sample_documents_button_and_switching_libraries(qtbot, make_window, tmp_path):
    from dataclasses import replace

    window = make_window()
    wait_idle(qtbot, window)
    window.library.samples_button.click()
    wait_idle(qtbot, window)
    names = sorted(Path(p).name for p in window.library.all_paths())
    assert "reservoir-report.pdf" in names and "harbour-festival.html" in names
    assert not window.notification.isVisible()
    assert "How many visitors came to the harbour festival?" in window.chat.placeholder.text()
    screenshot(window, "07-samples-added")
    window.chat.placeholder.linkActivated.emit(
        "ask:How many visitors came to the harbour festival?"
    )
    wait_idle(qtbot, window)
    question, answer = window.chat.model.entries()
    assert question.text == "How many visitors came to the harbour festival?"
    assert answer.role == "answer" and answer.result.passages

    first = window.settings
    window.apply_settings(replace(first, library_dir=tmp_path / "other"))
    wait_idle(qtbot, window)
    assert window.library.all_paths() == []  # a new, empty library
    window.apply_settings(first)
    wait_idle(qtbot, window)
    assert sorted(Path(p).name for p in window.library.all_paths()) == names
