"""The conversation: a list model of questions and answers, drawn as bubbles, plus the input row."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from assistant.types import Answer, AnswerResult

Index = QModelIndex | QPersistentModelIndex

NOT_FOUND = "Not found in your documents."
GUESS = "Closest guess, not confident:"
THINKING = "Looking through your documents…"


@dataclass(frozen=True)
class ChatEntry:
    """One message. ``role`` is ``user``, ``pending``, ``answer`` or ``error``.

    ``note`` says something about how an answer came about (e.g. asked while indexing).
    """

    role: str
    text: str
    result: AnswerResult | None = None
    time: str = ""
    note: str = ""


def confidence_text(score: float) -> str:
    """Reader scores in [0, 1] read as a percentage; anything else as a plain score."""
    if 0.0 <= score <= 1.0:
        return f"{score:.0%}"
    return f"score {score:.2f}"


def shown_answers(result: AnswerResult) -> list[Answer]:
    """The answers worth showing: the best, and others with a tenth of its score (5 % at least).

    The reader's scores are a softmax over every candidate span, so runners-up at 0-1 % are
    noise a reader would only have to skip.
    """
    if result.no_answer or not result.answers:
        return []
    best = result.answers[0]
    floor = max(0.05, 0.1 * best.score) if 0.0 <= best.score <= 1.0 else float("-inf")
    seen: set[str] = {best.text}
    out = [best]
    for a in result.answers[1:]:
        if a.text.strip() and a.score >= floor and a.text not in seen:
            seen.add(a.text)
            out.append(a)
    return out


def scope_text(result: AnswerResult, shown: int = 3) -> str:
    """``"Searched only report.pdf, notes.txt"`` when the question was limited to some
    documents; empty when it went to the whole library."""
    names = [Path(d).name or d for d in result.documents]
    if not names:
        return ""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"Searched only {', '.join(names[:shown])}{more}"


def place_text(answer: Answer | None = None, document: str = "", page: int | None = None) -> str:
    """``"report.pdf, page 3"`` (or just the file name for page-less files), and the table
    cell of an answer that is one (``"…, page 3, table: Finland, Area (km2)"``)."""
    cell = ""
    if answer is not None:
        document, page = answer.document, answer.page
        cell = f", table: {answer.table_cell}" if answer.table_cell else ""
    name = Path(document).name or document
    return (f"{name}, page {page}" if page else name) + cell


class ChatModel(QAbstractListModel):
    """The conversation of this session, in order."""

    EntryRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[ChatEntry] = []

    def entries(self) -> list[ChatEntry]:
        """All messages, oldest first."""
        return list(self._entries)

    def add(self, entry: ChatEntry) -> int:
        """Append a message; returns its row."""
        row = len(self._entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.append(replace(entry, time=entry.time or datetime.now().strftime("%H:%M")))
        self.endInsertRows()
        return row

    def set_entry(self, row: int, entry: ChatEntry) -> None:
        """Replace a message (the pending placeholder becomes the answer)."""
        self._entries[row] = replace(entry, time=entry.time or self._entries[row].time)
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def clear(self) -> None:
        """Forget the conversation."""
        self.beginResetModel()
        self._entries.clear()
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        if role == self.EntryRole:
            return entry
        if role == Qt.ItemDataRole.DisplayRole:
            return entry_plain_text(entry)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._entries[index.row()].role == "answer":
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled

    def to_markdown(self) -> str:
        """The conversation as Markdown (questions, answers, confidence and sources)."""
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
        lines = [f"# Answerspan conversation ({stamp})", ""]
        for entry in self._entries:
            if entry.role == "user":
                lines += [f"**You:** {entry.text}", ""]
            elif entry.role == "error":
                lines += [f"**Answerspan:** _{entry.text}_", ""]
            elif entry.role == "answer" and entry.result is not None:
                lines += _answer_markdown(entry.result)
                lines += [f"_{entry.note}_", ""] if entry.note else []
        return "\n".join(lines).rstrip() + "\n"


def _answer_markdown(result: AnswerResult) -> list[str]:
    scope = scope_text(result)
    return _result_markdown(result) + ([f"_{scope}._", ""] if scope else [])


def _result_markdown(result: AnswerResult) -> list[str]:
    if result.no_answer or not result.answers:
        lines = [f"**Answerspan:** {NOT_FOUND}", ""]
        if result.best_guess is not None:
            lines += [f"{GUESS} {result.best_guess.text}", ""] + _quote(result.best_guess)
        return lines
    best = result.answers[0]
    lines = [f"**Answerspan:** {best.text} (confidence {confidence_text(best.score)})", ""]
    for answer in result.answers:
        lines += _quote(answer)
    return lines


def _quote(answer: Answer) -> list[str]:
    """The answer's passage as a Markdown quote, the span in bold, and where it is."""
    lo = answer.start - answer.context_start
    hi = answer.end - answer.context_start
    ctx = answer.context
    quote = f"{ctx[:lo]}**{ctx[lo:hi]}**{ctx[hi:]}".replace("\n", " ").strip()
    return [f"> {quote}", f"> — *{place_text(answer)}*", ""]


def entry_plain_text(entry: ChatEntry) -> str:
    """What Copy puts on the clipboard for one message."""
    if entry.role != "answer" or entry.result is None:
        return entry.text
    result = entry.result
    if result.no_answer or not result.answers:
        guess = result.best_guess
        if guess is None:
            return NOT_FOUND
        return f"{NOT_FOUND}\n{GUESS} {guess.text}\n— {place_text(guess)}"
    best = result.answers[0]
    return f"{best.text}\n— {place_text(best)} (confidence {confidence_text(best.score)})"


def entry_html(entry: ChatEntry) -> str:
    """Rich text of one bubble."""
    esc = html.escape
    muted = "color:#6a737d;"
    if entry.role == "user":
        return f"<div>{esc(entry.text)}</div>"
    if entry.role == "pending":
        return f"<div style='{muted}'><i>{esc(entry.text)}</i></div>"
    if entry.role == "error":
        return f"<div style='color:#b00020;'>{esc(entry.text)}</div>"
    result = entry.result
    assert result is not None
    scope = scope_text(result)
    scope_html = f"<div style='{muted}'>{esc(scope)}.</div>" if scope else ""
    note_html = f"<div style='{muted}'>{esc(entry.note)}</div>" if entry.note else ""
    return _result_html(result, muted) + scope_html + note_html


def _result_html(result: AnswerResult, muted: str) -> str:
    esc = html.escape
    if result.no_answer or not result.answers:
        guess = result.best_guess
        if guess is not None:
            return (
                f"<div style='font-size:large; font-weight:600;'>{NOT_FOUND}</div>"
                f"<div style='margin-top:4px;'>{GUESS} <i>{esc(guess.text)}</i></div>"
                f"<div style='{muted}'>{esc(place_text(guess))} · its passage is on the "
                "right, with the closest others.</div>"
            )
        extra = (
            "The closest passages are on the right."
            if result.passages
            else "Add documents to the library, then ask again."
        )
        return (
            f"<div style='font-size:large; font-weight:600;'>{NOT_FOUND}</div>"
            f"<div style='{muted}'>{extra}</div>"
        )
    best = result.answers[0]
    parts = [
        f"<div style='font-size:large; font-weight:600;'>{esc(best.text)}</div>",
        (
            f"<div style='{muted}'>Confidence {confidence_text(best.score)} · "
            f"{esc(place_text(best))}</div>"
        ),
    ]
    others = [a for a in shown_answers(result)[1:] if a.text != best.text]
    if others:
        alts = "; ".join(
            f"{esc(a.text)} <span style='{muted}'>({confidence_text(a.score)})</span>"
            for a in others
        )
        parts.append(f"<div style='margin-top:4px;'>Also possible: {alts}</div>")
    return "".join(parts)


class BubbleDelegate(QStyledItemDelegate):
    """Draws each message as a bubble: questions on the right, answers on the left."""

    PAD = 10
    GAP = 6
    MAX_FRACTION = 0.85

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def _layout(self, entry: ChatEntry, width: int) -> tuple[QTextDocument, float]:
        doc = QTextDocument()
        doc.setDefaultFont(self._view.font())
        doc.setDocumentMargin(0)
        doc.setHtml(entry_html(entry))
        max_text = max(80.0, width * self.MAX_FRACTION - 2 * self.PAD)
        doc.setTextWidth(max_text)
        text_width = min(max_text, doc.idealWidth() + 1)
        if entry.role == "answer":
            text_width = max_text  # answers get the full width: sources and alternatives wrap
        doc.setTextWidth(text_width)
        return doc, text_width

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        entry: ChatEntry = index.data(ChatModel.EntryRole)
        width = self._view.viewport().width()
        doc, _ = self._layout(entry, width)
        return QSize(width, int(doc.size().height()) + 2 * self.PAD + 2 * self.GAP)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        entry: ChatEntry = index.data(ChatModel.EntryRole)
        rect = option.rect
        doc, text_width = self._layout(entry, rect.width())
        w = text_width + 2 * self.PAD
        h = doc.size().height() + 2 * self.PAD
        x = rect.right() - w - 8 if entry.role == "user" else rect.left() + 8
        bubble = QRectF(x, rect.top() + self.GAP, w, h)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        fill, border = {
            "user": ("#dbeafe", "#b6d4fe"),
            "pending": ("#f6f8fa", "#d0d7de"),
            "error": ("#fdecea", "#f5c2c0"),
        }.get(entry.role, ("#ffffff", "#d0d7de"))
        if entry.role == "answer" and entry.result is not None and entry.result.no_answer:
            fill, border = "#fff8e1", "#f0d58c"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#2f6feb" if selected else border), 2 if selected else 1))
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(bubble, 10, 10)
        painter.translate(bubble.left() + self.PAD, bubble.top() + self.PAD)
        doc.drawContents(painter)
        painter.restore()


class ChatView(QListView):
    """The message list; selecting an answer shows its sources."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(BubbleDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setObjectName("ChatView")
        self.setFrameShape(QListView.Shape.NoFrame)


PLACEHOLDER = (
    "<div style='text-align:center'>"
    "<p style='font-size:x-large; font-weight:600'>Ask a question</p>"
    "<p>Type it below and press <b>Enter</b>.</p>"
    "<p>Answers are the exact words from your documents, with the file and page."
    "<br>Click an answer to see its source passage on the right,<br>"
    "then open the page it came from.</p>"
    "<p style='color:#6a737d'>You can ask while documents are still being indexed.</p>"
    "{examples}</div>"
)


class ChatWidget(QWidget):
    """Conversation view and question input. Emits ``question_submitted`` on Enter."""

    question_submitted = Signal(str)
    answer_selected = Signal(object)  # AnswerResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ChatModel(self)
        self.view = ChatView()
        self.view.setModel(self.model)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

        title = QLabel("Ask your documents")
        title.setObjectName("PaneTitle")
        self.placeholder = QLabel(PLACEHOLDER.format(examples=""))
        self.placeholder.linkActivated.connect(self._example_clicked)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setObjectName("ChatPlaceholder")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.view)

        self.input = QLineEdit()
        self.input.setObjectName("QuestionInput")
        self.input.setPlaceholderText("Ask a question about your documents… (Enter to send)")
        self.input.setClearButtonEnabled(True)
        self.input.returnPressed.connect(self.submit)
        self.send_button = QPushButton("Ask")
        self.send_button.setObjectName("Primary")
        self.send_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 8)
        layout.addWidget(title)
        layout.addWidget(self.stack, 1)
        layout.addLayout(row)

        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)

        copy = QShortcut(QKeySequence.StandardKey.Copy, self.view)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_selected)

    # -- conversation ----------------------------------------------------------------------
    def set_examples(self, questions: list[str]) -> None:
        """Offer example questions (clickable) in the empty conversation."""
        links = "<br>".join(
            f"<a href='ask:{html.escape(q, quote=True)}'>{html.escape(q)}</a>" for q in questions
        )
        block = f"<p style='margin-top:12px'><b>Try:</b><br>{links}</p>" if questions else ""
        self.placeholder.setText(PLACEHOLDER.format(examples=block))

    def _example_clicked(self, link: str) -> None:
        if link.startswith("ask:"):
            self.input.setText(link[4:])
            self.submit()

    def submit(self) -> None:
        """Send the typed question (ignored when empty)."""
        text = self.input.text().strip()
        if not text:
            return
        self.input.clear()
        self.question_submitted.emit(text)

    def add_question(self, question: str, waiting: str = "") -> int:
        """Show the question and a pending placeholder; returns the placeholder's row."""
        self.stack.setCurrentWidget(self.view)
        self.model.add(ChatEntry("user", question))
        row = self.model.add(ChatEntry("pending", waiting or THINKING))
        self.view.scrollToBottom()
        return row

    def set_pending(self, row: int, text: str = THINKING) -> None:
        """Update the placeholder at ``row`` (e.g. when its job starts running)."""
        if self.model.entries()[row].role == "pending":
            self.model.set_entry(row, ChatEntry("pending", text))
            self.view.doItemsLayout()

    def set_result(self, row: int, result: AnswerResult, note: str = "") -> None:
        """Replace the placeholder at ``row`` by the answer (with ``note`` below it) and
        select it."""
        self.model.set_entry(row, ChatEntry("answer", result.question, result, note=note))
        self.view.doItemsLayout()
        idx = self.model.index(row)
        self.view.setCurrentIndex(idx)
        self.view.scrollTo(idx)  # currentChanged emits answer_selected

    def set_error(self, row: int, message: str) -> None:
        """Replace the placeholder at ``row`` by an error message."""
        self.model.set_entry(row, ChatEntry("error", message))
        self.view.doItemsLayout()

    def clear(self) -> None:
        """Forget the conversation."""
        self.model.clear()
        self.stack.setCurrentWidget(self.placeholder)

    def selected_entry(self) -> ChatEntry | None:
        """The selected answer, if any."""
        idx = self.view.currentIndex()
        return idx.data(ChatModel.EntryRole) if idx.isValid() else None

    def copy_selected(self) -> None:
        """Copy the selected answer (with its source) to the clipboard."""
        entry = self.selected_entry()
        if entry is not None:
            QApplication.clipboard().setText(entry_plain_text(entry))

    def copy_all(self) -> None:
        """Copy the whole conversation as Markdown."""
        QApplication.clipboard().setText(self.model.to_markdown())

    def _context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        if index.isValid() and index.data(ChatModel.EntryRole).role == "answer":
            self.view.setCurrentIndex(index)
            menu.addAction("Copy answer", self.copy_selected)
        menu.addAction("Copy conversation as Markdown", self.copy_all)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        entry = current.data(ChatModel.EntryRole) if current.isValid() else None
        if entry is not None and entry.role == "answer" and entry.result is not None:
            self.answer_selected.emit(entry.result)
