"""Widgets on real inputs, without models: chat model and export, source cards, page view,
library panel, settings persistence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from assistant.config import Settings
from assistant.types import Answer, AnswerResult, Passage
from assistant.ui.chat import (
    GUESS,
    NOT_FOUND,
    ChatEntry,
    ChatModel,
    ChatWidget,
    confidence_text,
    entry_html,
    entry_plain_text,
    scope_text,
)
from assistant.ui.library_panel import LibraryPanel, describe, summarize
from assistant.ui.settings_dialog import SettingsDialog, load_settings, save_settings
from assistant.ui.sources import (
    GUESS_HIGHLIGHT,
    GUESS_LABEL,
    HAVE_QTPDF,
    HIGHLIGHT,
    DocumentViewer,
    SourceCard,
    SourceRef,
    SourcesPane,
    highlighted_runs,
)
from retrieval.types import DocumentInfo, FileReport

NEWS = "news/bbc-business_001.txt"
PDF = "pdf/annotation_guidelines_BABE.pdf"


def answer_in(text: str, document: str, words: str, page=None, width=300) -> Answer:
    """An Answer as the service builds it: a passage of ``text`` around ``words``."""
    start = text.index(words)
    ctx_start = max(0, start - width)
    context = text[ctx_start : start + len(words) + width]
    return Answer(
        words,
        document,
        page,
        start,
        start + len(words),
        0.87,
        context,
        ctx_start,
        {
            "sentiment": {"label": "negative", "score": 0.81},
            "bias": {"label": "biased", "score": 0.66, "words": ["flops"]},
            "topic": {"label": "business", "score": 0.93},
        },
    )


@pytest.fixture
def news(docs_dir: Path) -> tuple[str, str]:
    path = docs_dir / NEWS
    return str(path), path.read_text(encoding="utf-8")


def test_source_card_highlights_exactly_the_answer(qtbot, news):
    path, text = news
    answer = answer_in(text, path, "464,000 subscribers")
    card = SourceCard(SourceRef.from_answer(answer, "Answer"))
    qtbot.addWidget(card)
    assert card.highlighted() == ["464,000 subscribers"]
    chips = {c.objectName(): c.text() for c in card.findChildren(QLabel) if c.objectName()}
    assert chips["chip_sentiment"] == "Sentiment: negative 81%"
    assert chips["chip_bias"] == "Bias: biased 66% · flops"
    assert chips["chip_topic"] == "Topic: business 93%"
    assert card.open_button.text() == "Open text"


def test_card_offsets_survive_newlines_and_wide_characters(qtbot):
    text = "Intro 📈 line\nSecond line with the answer here.\r\nEnd"
    words = "the answer"
    answer = answer_in(text, "/tmp/x.txt", words, width=100)
    card = SourceCard(SourceRef.from_answer(answer))
    qtbot.addWidget(card)
    assert card.highlighted() == [words]


def test_sources_pane_lists_answers_then_other_passages(qtbot, news):
    path, text = news
    a1 = answer_in(text, path, "464,000")
    other = Passage(path, None, 0, 40, text[:40], 0.2, {})
    result = AnswerResult("How many subscribers did AOL lose?", (a1,), (other,), False, 0.4)
    pane = SourcesPane()
    qtbot.addWidget(pane)
    pane.show_result(result)
    assert [c.ref.label for c in pane.cards] == ["Answer", "Also read"]
    assert pane.answer_cards()[0].highlighted() == ["464,000"]
    assert not pane.cards[1].highlighted()
    pane.show_result(AnswerResult("q", (), (other,), True))
    assert "No passage answers" in pane.summary.text()
    assert [c.ref.label for c in pane.cards] == ["Closest passage"]


def test_abstaining_shows_the_closest_guess_without_a_confidence(qtbot, news):
    path, text = news
    guess = answer_in(text, path, "464,000")
    other = Passage(path, None, 0, 40, text[:40], 0.2, {})
    result = AnswerResult("How many?", (), (other,), True, 0.4, best_guess=guess)
    pane = SourcesPane()
    qtbot.addWidget(pane)
    pane.show_result(result)
    assert [c.ref.label for c in pane.cards] == [GUESS_LABEL, "Closest passage"]
    assert pane.cards[0].highlighted() == ["464,000"]
    # marked in grey, not in the yellow of an answer the reader stands by
    assert highlighted_runs(pane.cards[0].text.document(), HIGHLIGHT) == []
    assert highlighted_runs(pane.cards[0].text.document(), GUESS_HIGHLIGHT) == ["464,000"]
    assert pane.cards[0].ref.score is None  # the reader abstained: no "87%" on a guess
    assert "closest guess" in pane.summary.text()
    entry = ChatEntry("answer", "", result)
    assert NOT_FOUND in entry_html(entry) and "464,000" in entry_html(entry)
    assert entry_plain_text(entry).splitlines()[:2] == [NOT_FOUND, f"{GUESS} 464,000"]
    chat = ChatWidget()
    qtbot.addWidget(chat)
    chat.set_result(chat.add_question("How many?"), result)
    md = chat.model.to_markdown()
    assert f"**Answerspan:** {NOT_FOUND}" in md and "**464,000**" in md


def test_text_view_highlights_span_in_the_page(qtbot, news):
    path, text = news
    answer = answer_in(text, path, "Catwoman")
    viewer = DocumentViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.text_needed, timeout=1000):
        viewer.open(SourceRef.from_answer(answer))
    viewer.show_text(text)
    from assistant.ui.sources import PASSAGE_TINT

    doc = viewer.text_view.document()
    assert highlighted_runs(doc, HIGHLIGHT) == ["Catwoman"]
    before, after = highlighted_runs(doc, PASSAGE_TINT)  # the passage, around the span
    assert before + "Catwoman" + after == answer.context


@pytest.mark.skipif(not HAVE_QTPDF, reason="PySide6_Pdf not installed")
def test_pdf_view_jumps_to_the_page_and_finds_the_answer(qtbot, docs_dir):
    path = str(docs_dir / PDF)
    from pypdf import PdfReader

    page2 = PdfReader(path).pages[1].extract_text()
    answer = answer_in(page2, path, "Clint, Texas", page=2, width=120)
    viewer = DocumentViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 800)
    viewer.show()
    viewer.open(SourceRef.from_answer(answer))
    assert viewer.stack.currentWidget() is viewer.pdf_view
    qtbot.waitUntil(lambda: viewer.current_page() == 2, timeout=3000)
    assert viewer.found_on_page == 1
    assert viewer.pdf_view.currentSearchResultIndex() >= 0
    link = viewer.search_model.resultAtIndex(viewer.pdf_view.currentSearchResultIndex())
    assert link.page() == 1


def test_chat_export_markdown_and_not_found(qtbot, news):
    path, text = news
    chat = ChatWidget()
    qtbot.addWidget(chat)
    answered = AnswerResult("How many?", (answer_in(text, path, "464,000"),), (), False, 0.3)
    with qtbot.waitSignal(chat.question_submitted) as sent:
        chat.input.setText("  How many?  ")
        chat.input.returnPressed.emit()
    assert sent.args == ["How many?"]
    row = chat.add_question("How many?")
    with qtbot.waitSignal(chat.answer_selected):
        chat.set_result(row, answered)
    row2 = chat.add_question("Who won the 1850 cup?")
    chat.set_result(row2, AnswerResult("Who won the 1850 cup?", (), (), True))
    md = chat.model.to_markdown()
    assert "**You:** How many?" in md
    assert "**Answerspan:** 464,000 (confidence 87%)" in md
    assert "**464,000**" in md and "bbc-business_001.txt" in md
    assert f"**Answerspan:** {NOT_FOUND}" in md
    entries = chat.model.entries()
    assert [e.role for e in entries] == ["user", "answer", "user", "answer"]


def test_chat_model_only_answers_are_selectable(qapp):
    model = ChatModel()
    model.add(ChatEntry("user", "q"))
    model.add(ChatEntry("pending", "…"))
    from PySide6.QtCore import Qt

    assert not model.flags(model.index(0)) & Qt.ItemFlag.ItemIsSelectable
    assert confidence_text(0.5) == "50%" and confidence_text(7.5) == "score 7.50"


def test_library_panel_empty_state_documents_and_reports(qtbot):
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    assert panel.stack.currentWidget() is panel.empty
    docs = [
        DocumentInfo(1, "/d/b.pdf", "pdf", "B", 4, 14, "h1", "2026-01-01"),
        DocumentInfo(2, "/d/a.txt", "txt", "A", 1, 3, "h2", "2026-01-01"),
    ]
    panel.set_documents(docs)
    assert panel.stack.currentWidget() is panel.table
    assert panel.model.data(panel.model.index(0, 0)) == "a.txt"  # sorted by name
    assert panel.model.data(panel.model.index(1, 2)) == "4"
    reports = [
        FileReport("/d/a.txt", "added", pages=1, chunks=3),
        FileReport("/d/bad.pdf", "skipped", "corrupt PDF"),
    ]
    panel.show_reports("Last import", reports)
    assert summarize(reports) == "1 added, 1 skipped"
    assert describe(reports[1]) == "⚠ bad.pdf — skipped: corrupt PDF"
    assert panel.results.count() == 2
    with qtbot.waitSignal(panel.reindex_requested) as sig:
        panel.reindex_button.click()
    assert sorted(sig.args[0]) == ["/d/a.txt", "/d/b.pdf"]


def test_library_panel_limits_questions_to_the_selection_when_asked(qtbot):
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    assert not panel.scope_check.isEnabled()  # nothing to choose from yet
    panel.set_documents([
        DocumentInfo(1, "/d/b.pdf", "pdf", "B", 4, 14, "h1", "2026-01-01"),
        DocumentInfo(2, "/d/a.txt", "txt", "A", 1, 3, "h2", "2026-01-01"),
    ])
    panel.table.selectRow(1)
    assert panel.scope_paths() == []  # selected, but the box is off: the whole library
    panel.scope_check.setChecked(True)
    assert panel.scope_paths() == ["/d/b.pdf"]
    assert panel.scope_check.text().endswith("(1)")
    # An import refreshes the list (a watched folder's too): the chosen scope survives it.
    panel.set_documents([
        DocumentInfo(3, "/d/0-new.md", "md", "New", 1, 1, "h3", "2026-01-02"),
        *panel.model.documents(),
    ])
    assert panel.scope_paths() == ["/d/b.pdf"] and panel.scope_check.text().endswith("(1)")
    panel.set_documents([d for d in panel.model.documents() if d.path != "/d/b.pdf"])
    assert panel.scope_paths() == [] and "none selected" in panel.scope_check.text()
    panel.table.selectRow(0)
    panel.table.clearSelection()
    assert panel.scope_paths() == [] and "none selected" in panel.scope_check.text()
    result = AnswerResult("q", (), (), True, documents=("/d/b.pdf", "/d/a.txt", "/x/c.md",
                                                         "/x/d.md"))
    assert scope_text(result) == "Searched only b.pdf, a.txt, c.md and 1 more"
    assert scope_text(AnswerResult("q", (), (), True)) == ""


def test_settings_round_trip_and_validation(qtbot, tmp_path):
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    s = Settings(library_dir=tmp_path / "lib", top_k=7, tag_passages=False)
    save_settings(store, s)
    again = load_settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert (again.library_dir, again.top_k, again.tag_passages, again.reader_model) == (
        tmp_path / "lib",
        7,
        False,
        None,
    )
    store.setValue("settings/top_k", 1000)  # out of range: the stored settings are ignored
    assert load_settings(store, Settings(library_dir=tmp_path)).top_k == 5
    dialog = SettingsDialog(again)
    qtbot.addWidget(dialog)
    dialog.reader_edit.setText(str(tmp_path))  # a folder without config.json
    dialog.accept()
    assert (
        dialog.error_label.isVisibleTo(dialog) and "not a model folder" in dialog.error_label.text()
    )
    dialog.reader_edit.setText("")
    dialog.top_k_spin.setValue(3)
    assert dialog.result_settings().top_k == 3


def test_runner_up_answers_below_a_tenth_of_the_best_are_hidden(news):
    from assistant.ui.chat import shown_answers

    path, text = news
    best = answer_in(text, path, "464,000")
    good = replace(answer_in(text, path, "Catwoman"), score=0.2)
    noise = replace(answer_in(text, path, "Google"), score=0.01)
    same = replace(best, score=0.3)
    result = AnswerResult("q", (best, good, noise, same), (), False)
    assert [a.text for a in shown_answers(result)] == ["464,000", "Catwoman"]
    assert shown_answers(AnswerResult("q", (best,), (), True)) == []


def test_no_answer_threshold_is_stored_and_edited(qtbot, tmp_path):
    path = str(tmp_path / "s.ini")
    save_settings(QSettings(path, QSettings.Format.IniFormat),
                  Settings(library_dir=tmp_path, no_answer_threshold=-7.25))
    stored = load_settings(QSettings(path, QSettings.Format.IniFormat))
    assert stored.no_answer_threshold == -7.25

    # Default (None): the dialog shows the bundled reader's calibrated value, read-only: the
    # one the app uses over a library's passages.
    dialog = SettingsDialog(Settings(library_dir=tmp_path))
    qtbot.addWidget(dialog)
    from assistant.nlp.models import (
        bundled_model_dir,
        library_no_answer_threshold,
        read_model_settings,
    )

    calibrated = library_no_answer_threshold(read_model_settings(bundled_model_dir("reader")))
    assert dialog.threshold_default.isChecked() and not dialog.threshold_spin.isEnabled()
    assert dialog.threshold_spin.value() == pytest.approx(calibrated, abs=0.05)
    assert dialog.result_settings().no_answer_threshold is None
    dialog.threshold_default.setChecked(False)
    assert dialog.threshold_spin.isEnabled()
    dialog.threshold_spin.setValue(-3.5)
    edited = dialog.result_settings()
    assert edited.no_answer_threshold == -3.5

    save_settings(QSettings(path, QSettings.Format.IniFormat), replace(edited,
                  no_answer_threshold=None))
    assert load_settings(QSettings(path, QSettings.Format.IniFormat)).no_answer_threshold is None
    store = QSettings(path, QSettings.Format.IniFormat)
    store.setValue("settings/no_answer_threshold", "a lot")  # unreadable: the default stays
    assert load_settings(store, Settings(library_dir=tmp_path)).no_answer_threshold is None


def test_settings_reject_a_threshold_that_is_not_a_number(tmp_path):
    from assistant.errors import ConfigError

    for bad in (float("nan"), float("inf"), 5000):
        with pytest.raises(ConfigError, match="no-answer threshold"):
            Settings(library_dir=tmp_path, no_answer_threshold=bad)
    assert Settings(library_dir=tmp_path, no_answer_threshold="2.5").no_answer_threshold == 2.5


def _reader_settings_copy(tmp_path: Path, shift: float) -> tuple[Path, float]:
    """A reader folder with the bundled reader's config and calibration, its library threshold
    moved by ``shift`` (what a retrained reader looks like to the settings: no weights needed)."""
    import json
    import shutil

    from assistant.nlp.models import bundled_model_dir

    bundled = bundled_model_dir("reader")
    other = tmp_path / "other-reader"
    other.mkdir()
    shutil.copy(bundled / "config.json", other / "config.json")
    conf = json.loads((bundled / "answerspan.json").read_text())
    conf["passage_scoring"]["no_answer_threshold"] += shift
    (other / "answerspan.json").write_text(json.dumps(conf))
    return other, conf["passage_scoring"]["no_answer_threshold"]


def test_a_users_threshold_moves_with_the_readers_calibration(qtbot, tmp_path):
    from assistant.ui.settings_dialog import calibrated_threshold

    bundled = calibrated_threshold(None)
    other, other_calibrated = _reader_settings_copy(tmp_path, 3.0)
    assert calibrated_threshold(str(other)) == pytest.approx(bundled + 3.0)

    path = str(tmp_path / "s.ini")
    save_settings(QSettings(path, QSettings.Format.IniFormat),
                  Settings(library_dir=tmp_path, no_answer_threshold=bundled - 2.0))
    # Same reader: the user's value as saved.
    assert load_settings(QSettings(path, QSettings.Format.IniFormat)).no_answer_threshold == (
        pytest.approx(bundled - 2.0))
    # The reader now in use was calibrated 3 higher (a retrained reader, or the user's reader
    # folder changed): the user's value keeps its distance from the calibration.
    store = QSettings(path, QSettings.Format.IniFormat)
    store.setValue("settings/reader_model", str(other))
    moved = load_settings(store).no_answer_threshold
    assert moved == pytest.approx(other_calibrated - 2.0, abs=1e-3)

    # Saved by an earlier version (no calibrated value beside it): not applied on a guessed scale.
    store.remove("settings/no_answer_threshold_set_against")
    assert load_settings(store).no_answer_threshold is None


def test_settings_dialog_moves_the_threshold_when_the_reader_changes(qtbot, tmp_path):
    from assistant.ui.settings_dialog import calibrated_threshold

    bundled = calibrated_threshold(None)
    other, other_calibrated = _reader_settings_copy(tmp_path, -4.0)
    dialog = SettingsDialog(Settings(library_dir=tmp_path))
    qtbot.addWidget(dialog)
    dialog.reader_edit.setText(str(other))
    dialog.reader_edit.editingFinished.emit()
    # Calibrated value in use: the box shows the new reader's.
    assert dialog.threshold_spin.value() == pytest.approx(other_calibrated, abs=0.05)
    dialog.threshold_default.setChecked(False)
    dialog.threshold_spin.setValue(other_calibrated + 1.0)
    dialog.reader_edit.setText("")  # back to the bundled reader: the user's +1 goes along
    dialog.reader_edit.editingFinished.emit()
    assert dialog.threshold_spin.value() == pytest.approx(bundled + 1.0, abs=0.05)
    assert dialog.result_settings().no_answer_threshold == pytest.approx(bundled + 1.0, abs=0.05)


def test_an_answer_from_a_table_says_its_row_and_column(qtbot, docs_dir: Path) -> None:
    """The chat bubble, Copy and the Markdown export name a table answer's cell."""
    from retrieval.loaders import load_document

    page = load_document(docs_dir / "pdf" / "multicolumn.pdf").pages[2]
    cell = replace(answer_in(page.text, "multicolumn.pdf", "338,424", page=3),
                   table_cell="Finland, Area (km2)")
    entry = ChatEntry("answer", "", AnswerResult("Area of Finland?", (cell,), (), False, 0.3))
    assert "multicolumn.pdf, page 3, table: Finland, Area (km2)" in entry_html(entry)
    assert entry_plain_text(entry).splitlines()[1].startswith(
        "— multicolumn.pdf, page 3, table: Finland, Area (km2)")
    plain = replace(cell, table_cell="")
    assert "table:" not in entry_plain_text(
        ChatEntry("answer", "", AnswerResult("q", (plain,), (), False, 0.3)))
