"""The sources pane: each passage with the answer span highlighted, its tags, and a page view.

Cards list the passages of the selected answer; "Open page" shows the document at that page:
a PDF through QtPdf (``QPdfView`` jumps to the page, ``QPdfSearchModel`` marks the answer on
it), other files as their page text with the span highlighted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.types import Answer, AnswerResult, Passage
from assistant.ui.chat import confidence_text, place_text, scope_text, shown_answers
from assistant.ui.flow_layout import FlowLayout

log = logging.getLogger(__name__)

try:  # QtPdf ships in the PySide6_Pdf wheel; without it PDFs open as page text.
    from PySide6.QtPdf import QPdfDocument, QPdfSearchModel
    from PySide6.QtPdfWidgets import QPdfView

    HAVE_QTPDF = True
except ImportError:  # pragma: no cover - depends on the installed wheels
    HAVE_QTPDF = False

HIGHLIGHT = QColor("#ffd54f")  # the answer span
GUESS_HIGHLIGHT = QColor("#c9d3dc")  # a closest guess: marked, but not in the answer's yellow
PASSAGE_TINT = QColor("#eef4ff")  # the passage around it, in the page view


@dataclass(frozen=True)
class SourceRef:
    """A passage to show: offsets are into the page text; ``span_*`` is ``None`` without answer."""

    document: str
    page: int | None
    passage: str
    passage_start: int
    span_start: int | None = None
    span_end: int | None = None
    score: float | None = None
    label: str = ""
    tags: dict = field(default_factory=dict, compare=False, hash=False)
    guess: bool = False  # the span is the reader's closest guess, not an answer

    @property
    def highlight(self) -> QColor:
        """The colour of the span: the answer's yellow, or grey for a closest guess."""
        return GUESS_HIGHLIGHT if self.guess else HIGHLIGHT

    @property
    def span_text(self) -> str:
        """The answer words (empty for a passage without answer)."""
        if self.span_start is None or self.span_end is None:
            return ""
        lo, hi = self.span_start - self.passage_start, self.span_end - self.passage_start
        return self.passage[lo:hi]

    @property
    def is_pdf(self) -> bool:
        """True for PDF files (shown in the page view)."""
        return Path(self.document).suffix.lower() == ".pdf"

    @classmethod
    def from_answer(cls, answer: Answer, label: str = "") -> SourceRef:
        """The passage an answer was read from, with the answer span."""
        return cls(
            answer.document,
            answer.page,
            answer.context,
            answer.context_start,
            answer.start,
            answer.end,
            answer.score,
            label,
            dict(answer.tags),
        )

    @classmethod
    def from_passage(cls, passage: Passage, label: str = "") -> SourceRef:
        """A retrieved passage without an answer in it."""
        return cls(
            passage.document,
            passage.page,
            passage.text,
            passage.start,
            None,
            None,
            None,
            label,
            dict(passage.tags),
        )


GUESS_LABEL = "Closest guess (not confident)"


def refs_for(result: AnswerResult) -> list[SourceRef]:
    """The cards for one answer: each answer's passage, then the other passages that were read.

    When the reader abstains, its best guess (if any) comes first, its span highlighted, with no
    confidence figure: the reader's own score would read as more sure than it is.
    """
    answers = shown_answers(result)
    refs = [
        SourceRef.from_answer(a, f"Answer {i}" if len(answers) > 1 else "Answer")
        for i, a in enumerate(answers, 1)
    ]
    if not answers and result.best_guess is not None:
        answers = [result.best_guess]
        refs = [replace(SourceRef.from_answer(result.best_guess, GUESS_LABEL), score=None,
                        guess=True)]
    used = {(a.document, a.page, a.context_start) for a in answers}
    others = [p for p in result.passages if (p.document, p.page, p.start) not in used]
    label = "Closest passage" if not result.answers else "Also read"
    refs += [SourceRef.from_passage(p, label) for p in others]
    return refs


def qt_text(text: str) -> str:
    """Text for a QTextDocument with one position per character (CR and tabs kept 1:1)."""
    return text.replace("\r", " ").replace("\u2028", "\n").replace("\u2029", "\n")


def u16(text: str, index: int) -> int:
    """Python index into ``text`` -> Qt (UTF-16) position: emoji and rare signs take two."""
    if text.isascii():
        return index
    return len(text[:index].encode("utf-16-le")) // 2


def highlight_range(doc: QTextDocument, start: int, end: int, color: QColor) -> None:
    """Give Qt positions ``[start, end)`` of ``doc`` a background colour."""
    cursor = QTextCursor(doc)
    last = doc.characterCount() - 1
    cursor.setPosition(max(0, min(start, last)))
    cursor.setPosition(max(0, min(end, last)), QTextCursor.MoveMode.KeepAnchor)
    fmt = QTextCharFormat()
    fmt.setBackground(color)
    cursor.mergeCharFormat(fmt)


def highlighted_runs(doc: QTextDocument, color: QColor = HIGHLIGHT) -> list[str]:
    """Texts of the runs of ``doc`` whose background is ``color`` (what the user sees marked)."""
    runs: list[str] = []
    current = ""
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid():
                bg = frag.charFormat().background()
                if bg.style() != Qt.BrushStyle.NoBrush and bg.color() == color:
                    current += frag.text()
                elif current:
                    runs.append(current)
                    current = ""
            it += 1
        block = block.next()
        if current and block.isValid():
            current += "\n"
    if current:
        runs.append(current.rstrip("\n"))
    return runs


# -- chips -------------------------------------------------------------------------------------
_CHIP_COLORS = {
    "positive": ("#e6f4ea", "#1b7a3a"),
    "negative": ("#fdecea", "#b00020"),
    "neutral": ("#eef0f3", "#444d56"),
    "biased": ("#fff1e0", "#a35200"),
    "non-biased": ("#e6f4ea", "#1b7a3a"),
    "unbiased": ("#e6f4ea", "#1b7a3a"),
}


def chip_texts(tags: dict) -> list[tuple[str, str]]:
    """(kind, text) of each chip, e.g. ``("bias", "biased 70% · slammed")``."""
    chips = []
    for kind in ("sentiment", "bias", "topic"):
        tag = tags.get(kind)
        if not isinstance(tag, dict) or not tag.get("label"):
            continue
        text = f"{kind.capitalize()}: {tag['label']}"
        if isinstance(tag.get("score"), int | float):
            text += f" {tag['score']:.0%}"
        words = tag.get("words") or []
        if words:
            text += " · " + ", ".join(str(w) for w in words[:3]) + ("…" if len(words) > 3 else "")
        chips.append((kind, text))
    return chips


def make_chip(kind: str, text: str, label: str) -> QLabel:
    """A small rounded label."""
    bg, fg = _CHIP_COLORS.get(label.lower(), ("#eef0f3", "#24292e"))
    if kind == "topic":
        bg, fg = "#f0e9ff", "#5a32a3"
    chip = QLabel(text)
    chip.setObjectName(f"chip_{kind}")
    chip.setStyleSheet(
        f"QLabel {{ background:{bg}; color:{fg}; border-radius:9px; padding:2px 8px; }}"
    )
    chip.setToolTip(
        {
            "sentiment": "Tone of the passage, from the bundled sentiment model",
            "bias": "Media-bias estimate of the passage (and the words that carry it)",
            "topic": "Topic of the passage",
        }[kind]
    )
    return chip


class PassageText(QTextBrowser):
    """Read-only passage text sized to its content (no inner scrollbar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setOpenLinks(False)
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)

    def _fit(self, *args) -> None:
        self.setFixedHeight(int(self.document().size().height()) + 4)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()


class SourceCard(QFrame):
    """One passage: title, text with the highlighted span, tag chips and an "Open page" button."""

    open_requested = Signal(object)  # SourceRef

    def __init__(self, ref: SourceRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self.setObjectName("SourceCard")
        self.setProperty("answer", ref.span_start is not None)
        self.setFrameShape(QFrame.Shape.StyledPanel)

        title = QLabel(
            f"<b>{ref.label}</b>"
            + (f" · {confidence_text(ref.score)}" if ref.score is not None else "")
        )
        place = self.place_label = QLabel(place_text(document=ref.document, page=ref.page))
        place.setObjectName("Muted")
        place.setToolTip(ref.document)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(place)

        self.text = PassageText()
        doc = self.text.document()
        # Line breaks of PDF extraction read better as spaces in a card (same length: 1 for 1).
        passage = qt_text(ref.passage).replace("\n", " ")
        doc.setPlainText(passage)
        if ref.span_start is not None and ref.span_end is not None:
            lo = u16(passage, ref.span_start - ref.passage_start)
            hi = u16(passage, ref.span_end - ref.passage_start)
            highlight_range(doc, lo, hi, ref.highlight)
            cursor = QTextCursor(doc)
            cursor.setPosition(lo)
            self.text.setTextCursor(cursor)
        self.text.mouseReleaseEvent = self._text_clicked  # type: ignore[method-assign]

        chips = FlowLayout(spacing=6)  # wraps: chips never widen the card
        for kind, text in chip_texts(ref.tags):
            chips.addWidget(make_chip(kind, text, str(ref.tags[kind].get("label", ""))))
        where = f"page {ref.page}" if ref.page else "text"
        self.open_button = QPushButton(f"Open {where}")
        self.open_button.setToolTip("Show the document at this passage")
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self.ref))
        chips.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(head)
        layout.addWidget(self.text)
        layout.addLayout(chips)

    def highlighted(self) -> list[str]:
        """The marked words as rendered in the card."""
        return highlighted_runs(self.text.document(), self.ref.highlight)

    def _text_clicked(self, event) -> None:
        if (
            event.button() == Qt.MouseButton.LeftButton
            and not self.text.textCursor().hasSelection()
        ):
            self.open_requested.emit(self.ref)


class DocumentViewer(QWidget):
    """The page view: a PDF page with the answer marked, or the page text with the span marked."""

    back_requested = Signal()
    text_needed = Signal(object)  # SourceRef: the main window fetches the page text on the worker

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ref: SourceRef | None = None
        self.back_button = QPushButton("← Sources")
        self.back_button.clicked.connect(self.back_requested)
        self.title = QLabel()
        self.title.setObjectName("ViewerTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.external_button = QPushButton("Open file")
        self.external_button.setToolTip("Open the file in your usual application")
        self.external_button.clicked.connect(self._open_external)
        self.match_label = QLabel()
        self.match_label.setObjectName("Muted")
        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addWidget(self.title, 1)
        head.addWidget(self.external_button)

        self.text_view = QTextBrowser()
        self.text_view.setOpenLinks(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.text_view)
        self.pdf_document = None
        self.pdf_view = None
        self.search_model = None
        self.pdf_path = ""
        self.found_on_page = 0
        if HAVE_QTPDF:
            self.pdf_document = QPdfDocument(self)
            self.pdf_view = QPdfView(self)
            self.pdf_view.setDocument(self.pdf_document)
            self.pdf_view.setPageMode(QPdfView.PageMode.MultiPage)
            self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
            self.search_model = QPdfSearchModel(self)
            self.search_model.setDocument(self.pdf_document)
            self.pdf_view.setSearchModel(self.search_model)
            self.stack.addWidget(self.pdf_view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.match_label)
        layout.addWidget(self.stack, 1)

    # -- opening ---------------------------------------------------------------------------
    def open(self, ref: SourceRef) -> None:
        """Show ``ref``'s document at its page (PDFs directly, text after ``text_needed``)."""
        self.ref = ref
        self.title.setText(f"<b>{Path(ref.document).name}</b>")
        self.title.setToolTip(ref.document)
        if ref.is_pdf and HAVE_QTPDF and self._open_pdf(ref):
            return
        self.match_label.setText("Loading the page…")
        self.stack.setCurrentWidget(self.text_view)
        self.text_view.clear()
        self.text_needed.emit(ref)

    def current_page(self) -> int | None:
        """The 1-based page shown (PDF view), ``None`` in the text view."""
        if self.pdf_view is not None and self.stack.currentWidget() is self.pdf_view:
            return self.pdf_view.pageNavigator().currentPage() + 1
        return self.ref.page if self.ref else None

    def _open_pdf(self, ref: SourceRef) -> bool:
        assert self.pdf_document is not None and self.pdf_view is not None
        if self.pdf_path != ref.document:
            self.search_model.setSearchString("")
            err = self.pdf_document.load(ref.document)
            if err != QPdfDocument.Error.None_:
                log.info("QtPdf could not open %s: %s", ref.document, err)
                self.pdf_path = ""
                return False
            self.pdf_path = ref.document
        self.stack.setCurrentWidget(self.pdf_view)
        page = max(0, (ref.page or 1) - 1)
        nav = self.pdf_view.pageNavigator()
        link = self._find_on_page(ref, page)
        if link is not None:
            nav.jump(link)
        else:
            nav.jump(page, QPointF(0, 0), nav.currentZoom())
        where = f"Page {page + 1} of {self.pdf_document.pageCount()}"
        if self.found_on_page:
            self.match_label.setText(f"{where} — the answer is highlighted.")
        else:
            self.match_label.setText(f"{where} — the passage is on this page.")
        return True

    def _find_on_page(self, ref: SourceRef, page: int):
        """Search the answer (or the passage start) on the page; select the first match."""
        assert self.search_model is not None and self.pdf_view is not None
        self.found_on_page = 0
        for needle in _needles(ref.span_text or ref.passage):
            self.search_model.setSearchString(needle)
            links = self.search_model.resultsOnPage(page)
            if links:
                self.found_on_page = len(links)
                before = sum(len(self.search_model.resultsOnPage(p)) for p in range(page))
                self.pdf_view.setCurrentSearchResultIndex(before)
                return links[0]
        self.search_model.setSearchString("")
        return None

    def show_text(self, text: str) -> None:
        """Show fetched page text, the passage tinted and the answer span highlighted."""
        ref = self.ref
        if ref is None:
            return
        self.stack.setCurrentWidget(self.text_view)
        doc = self.text_view.document()
        doc.setPlainText(qt_text(text))
        start = ref.passage_start
        if text[start : start + len(ref.passage)] != ref.passage:
            start = text.find(ref.passage)  # the file changed since indexing: find it again
        if start < 0:
            self.match_label.setText("This passage is no longer in the file; re-index it.")
            return
        end = start + len(ref.passage)
        highlight_range(doc, u16(text, start), u16(text, end), PASSAGE_TINT)
        focus = u16(text, start)
        if ref.span_start is not None and ref.span_end is not None:
            lo = u16(text, start + (ref.span_start - ref.passage_start))
            hi = u16(text, start + (ref.span_end - ref.passage_start))
            highlight_range(doc, lo, hi, ref.highlight)
            focus = lo
        where = f"Page {ref.page}" if ref.page else "Text"
        marked = "the closest guess is marked" if ref.guess else "the answer is highlighted"
        self.match_label.setText(f"{where} — {marked}." if ref.span_text else f"{where}")
        cursor = QTextCursor(doc)
        cursor.setPosition(min(u16(text, end), doc.characterCount() - 1))
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        cursor.setPosition(focus)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()

    def show_error(self, message: str) -> None:
        """The page could not be fetched."""
        self.match_label.setText(message)

    def _open_external(self) -> None:
        if self.ref is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.ref.document))


def _needles(text: str) -> list[str]:
    """Search strings from specific to loose: PDF text extraction differs (ligatures, breaks)."""
    words = [w for w in re.split(r"\s+", text.strip()) if w]
    if not words:
        return []
    out = [" ".join(words)]
    for n in (6, 3, 1):
        if len(words) > n:
            out.append(" ".join(words[:n]))
    longest = max(words, key=len)
    if len(longest) >= 4:
        out.append(longest)
    seen: set[str] = set()
    return [s for s in out if not (s in seen or seen.add(s))][:5]


class SourcesPane(QWidget):
    """Right pane: the source cards of the selected answer, or one document's page."""

    text_needed = Signal(object)  # SourceRef
    page_view_toggled = Signal(bool)  # True when a document page is shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: AnswerResult | None = None
        self.cards: list[SourceCard] = []

        title = QLabel("Sources")
        title.setObjectName("PaneTitle")
        self.summary = QLabel()
        self.summary.setObjectName("Muted")
        self.summary.setWordWrap(True)

        self.placeholder = QLabel(
            "<p><b>No answer selected.</b></p>"
            "<p>When you ask a question, the passages it was answered from appear here, "
            "the answer <span style='background:#ffd54f'>&nbsp;highlighted&nbsp;</span>, "
            "with the file, page and tags for sentiment, bias and topic.</p>"
            "<p>Click a passage to open the page it comes from.</p>"
        )
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.placeholder.setObjectName("SourcesPlaceholder")
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        self.card_box = QWidget()
        self.card_layout = QVBoxLayout(self.card_box)
        self.card_layout.setContentsMargins(0, 0, 0, 0)
        self.card_layout.setSpacing(8)
        self.card_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.card_box)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        list_page = QWidget()
        lp = QVBoxLayout(list_page)
        lp.setContentsMargins(0, 0, 0, 0)
        lp.addWidget(self.summary)
        lp.addWidget(self.placeholder)
        lp.addWidget(self.scroll, 1)

        self.viewer = DocumentViewer()
        self.viewer.back_requested.connect(self.show_cards)
        self.viewer.text_needed.connect(self.text_needed)

        self.stack = QStackedWidget()
        self.list_page = list_page
        self.stack.addWidget(list_page)
        self.stack.addWidget(self.viewer)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 8, 8)
        layout.addWidget(title)
        layout.addWidget(self.stack, 1)
        self.show_result(None)

    def show_result(self, result: AnswerResult | None) -> None:
        """Show the sources of ``result`` (``None`` clears the pane)."""
        self.result = result
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        self.show_cards()
        if result is None:
            self.placeholder.show()
            self.scroll.hide()
            self.summary.hide()
            return
        self.placeholder.hide()
        self.scroll.show()
        self.summary.show()
        if result.no_answer and result.best_guess is not None:
            self.summary.setText(
                "No passage answers this question with confidence. The reader's closest guess "
                "is marked in grey in the first card, then come the other passages it read:"
            )
        elif result.no_answer:
            self.summary.setText(
                "No passage answers this question. These were the closest:"
                if result.passages
                else "Nothing in your library matches this question."
            )
        else:
            n = len(result.passages)
            self.summary.setText(
                f"“{result.question}” — read {n} passage{'s' if n != 1 else ''} "
                f"in {result.seconds:.1f} s."
            )
        if result.documents:  # the question went to chosen documents only: say which
            self.summary.setText(f"{self.summary.text()} ({scope_text(result)}.)")
        for ref in refs_for(result):
            card = SourceCard(ref)
            card.open_requested.connect(self.open_source)
            self.card_layout.insertWidget(self.card_layout.count() - 1, card)
            self.cards.append(card)
        self.scroll.verticalScrollBar().setValue(0)

    def open_source(self, ref: SourceRef) -> None:
        """Show the document of ``ref`` at its page."""
        showing = self.stack.currentWidget() is self.viewer
        self.stack.setCurrentWidget(self.viewer)
        if not showing:
            self.page_view_toggled.emit(True)
        self.viewer.open(ref)

    def show_cards(self) -> None:
        """Back from the page view to the cards."""
        if self.stack.currentWidget() is self.viewer:
            self.stack.setCurrentWidget(self.list_page)
            self.page_view_toggled.emit(False)

    def answer_cards(self) -> Sequence[SourceCard]:
        """Cards that carry an answer span."""
        return [c for c in self.cards if c.ref.span_start is not None]
