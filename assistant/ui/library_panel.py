"""The library panel: documents, indexing progress, per-file results, remove and re-index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from retrieval.types import DocumentInfo, FileReport

Index = QModelIndex | QPersistentModelIndex

STATUS_TEXT = {
    "added": "added",
    "updated": "updated",
    "unchanged": "unchanged",
    "removed": "removed",
    "skipped": "skipped",
    "failed": "failed",
}
_STATUS_COLOR = {
    "added": "#1b7a3a",
    "updated": "#1b5e9a",
    "unchanged": "#666666",
    "removed": "#8a5a00",
    "skipped": "#b00020",
    "failed": "#b00020",
}
_STATUS_MARK = {"added": "✓", "updated": "↻", "unchanged": "=", "removed": "−"}


def summarize(reports: Sequence[FileReport]) -> str:
    """A one-line count of a batch, e.g. ``"2 added, 1 skipped"``."""
    counts = Counter(r.status for r in reports)
    order = ("added", "updated", "unchanged", "removed", "skipped", "failed")
    parts = [f"{counts[s]} {STATUS_TEXT[s]}" for s in order if counts.get(s)]
    return ", ".join(parts) if parts else "no files"


def describe(report: FileReport) -> str:
    """One line for one file of a batch."""
    name = Path(report.path).name or report.path
    mark = _STATUS_MARK.get(report.status, "⚠")
    line = f"{mark} {name} — {STATUS_TEXT.get(report.status, report.status)}"
    if report.reason:
        line += f": {report.reason}"
    elif report.status in ("added", "updated") and report.chunks:
        pages = f"{report.pages} page{'s' if report.pages != 1 else ''}, " if report.pages else ""
        kept = f", {report.kept_text}" if report.kept_text else ""
        line += f" ({pages}{report.chunks} passages{kept})"
    return line


class DocumentTableModel(QAbstractTableModel):
    """Documents of the library: name, type, pages, passages (the path is the tooltip)."""

    HEADERS = ("Name", "Type", "Pages", "Passages")
    PathRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._docs: list[DocumentInfo] = []

    def set_documents(self, docs: Sequence[DocumentInfo]) -> None:
        """Replace the list (sorted by name)."""
        self.beginResetModel()
        self._docs = sorted(docs, key=lambda d: _display_name(d).lower())
        self.endResetModel()

    def documents(self) -> list[DocumentInfo]:
        """The documents shown, in display order."""
        return list(self._docs)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._docs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        doc = self._docs[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                _display_name(doc),
                doc.kind.upper(),
                str(doc.pages) if doc.pages else "–",
                str(doc.chunks),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{doc.title}\n{doc.path}\nadded {doc.added_at}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.PathRole:
            return doc.path
        return None


def _display_name(doc: DocumentInfo) -> str:
    return Path(doc.path).name or doc.title


EMPTY_HINT = (
    "<h3>Your library is empty</h3>"
    "<p>Drag PDFs, text or news files — or whole folders — into this window, "
    "or add them with the buttons below.</p>"
    "<p>Then ask a question in the chat: Answerspan finds the exact words that answer "
    "it and shows where they are.</p>"
    "<p style='color:#666'>Everything stays on this computer.</p>"
)
FIRST_BATCH_HINT = (
    "<h3>Adding your documents…</h3>"
    "<p>Each file is read, split into passages and indexed on this computer. "
    "They appear here as they are indexed.</p>"
    "<p>You can already type a question: it is answered when indexing ends, or after about 15 "
    "seconds from the documents indexed so far.</p>"
)


class LibraryPanel(QWidget):
    """Left pane of the window. Emits requests; the main window runs them on the worker."""

    add_files_requested = Signal()
    add_folder_requested = Signal()
    add_samples_requested = Signal()
    remove_requested = Signal(list)
    reindex_requested = Signal(list)
    cancel_requested = Signal()
    document_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LibraryPanel")
        self.model = DocumentTableModel(self)

        title = QLabel("Library")
        title.setObjectName("PaneTitle")
        self.count_label = QLabel()
        self.count_label.setObjectName("Muted")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.count_label)

        # Empty state: says what to do first.
        self.empty = QWidget()
        self.empty.setObjectName("EmptyState")
        hint = self.empty_hint = QLabel(EMPTY_HINT)
        hint.setWordWrap(True)
        hint.setTextFormat(Qt.TextFormat.RichText)
        self.empty_add_files = QPushButton("Add files…")
        self.empty_add_folder = QPushButton("Add folder…")
        self.samples_button = QPushButton("Try the sample documents")
        self.samples_button.setObjectName("Primary")
        self.empty_add_files.clicked.connect(self.add_files_requested)
        self.empty_add_folder.clicked.connect(self.add_folder_requested)
        self.samples_button.clicked.connect(self.add_samples_requested)
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(hint)
        empty_layout.addSpacing(8)
        empty_layout.addWidget(self.empty_add_files)
        empty_layout.addWidget(self.empty_add_folder)
        empty_layout.addWidget(self.samples_button)
        empty_layout.addStretch(2)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(self._activated)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        # Batch progress (hidden when idle).
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop indexing after the current file (Ctrl+.)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.progress_bar, 1)
        bar_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        pb_layout = QVBoxLayout(self.progress_box)
        pb_layout.setContentsMargins(0, 0, 0, 0)
        pb_layout.addWidget(self.progress_label)
        pb_layout.addLayout(bar_row)
        self.progress_box.hide()

        # Tags are computed after indexing, in small steps between other work.
        self.tagging_label = QLabel()
        self.tagging_label.setObjectName("Muted")
        self.tagging_label.setToolTip(
            "Sentiment, bias and topic tags are added after indexing; you can ask meanwhile "
            "(the passages an answer shows are tagged first)")
        self.tagging_label.hide()

        # Per-file results of the last batch.
        self.results_label = QLabel()
        self.results_label.setObjectName("Muted")
        self.results_label.setWordWrap(True)
        self.results_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.results = QListWidget()
        self.results.setObjectName("BatchResults")
        self.results.setMaximumHeight(130)
        self.results.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.results.setWordWrap(True)
        self.results_label.hide()
        self.results.hide()

        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("Add files (Ctrl+O)")
        self.add_button.clicked.connect(self.add_files_requested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected documents from the library (Del)")
        self.remove_button.clicked.connect(self._remove_clicked)
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip(
            "Re-read the selected documents (all if none is selected) if they changed (Ctrl+R)"
        )
        self.reindex_button.clicked.connect(self._reindex_clicked)
        # Ask one report, not the whole library: questions go to the selected documents only.
        self.scope_check = QCheckBox("Ask only the selected documents")
        self.scope_check.setToolTip(
            "Questions search only the documents selected above (select with Ctrl/Shift-click)"
        )
        self.scope_check.toggled.connect(self._update_buttons)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.reindex_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.tagging_label)
        layout.addWidget(self.results_label)
        layout.addWidget(self.results)
        layout.addWidget(self.scope_check)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.set_documents([])

    # -- documents -------------------------------------------------------------------------
    def set_documents(self, docs: Sequence[DocumentInfo]) -> None:
        """Show the library's documents (or the empty-state hint).

        The selection survives (by path): it may be the scope of the next question, and the
        list is refreshed by every import, including a watched folder's.
        """
        selected = set(self.selected_paths())
        self.model.set_documents(docs)
        if selected:
            selection = QItemSelection()
            for row, doc in enumerate(self.model.documents()):
                if doc.path in selected:
                    selection.select(self.model.index(row, 0),
                                     self.model.index(row, self.model.columnCount() - 1))
            self.table.selectionModel().select(
                selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        n = len(docs)
        self.count_label.setText(f"{n} document{'s' if n != 1 else ''}" if n else "")
        self.stack.setCurrentWidget(self.table if n else self.empty)
        self._update_buttons()

    def selected_paths(self) -> list[str]:
        """Paths of the selected documents."""
        rows = self.table.selectionModel().selectedRows()
        return [self.model.data(i, DocumentTableModel.PathRole) for i in rows]

    def scope_paths(self) -> list[str]:
        """The documents questions are limited to: the selected ones when "Ask only the
        selected documents" is on, else none (the whole library)."""
        return self.selected_paths() if self.scope_check.isChecked() else []

    def all_paths(self) -> list[str]:
        """Paths of every document."""
        return [d.path for d in self.model.documents()]

    # -- batches ---------------------------------------------------------------------------
    def begin_batch(self, label: str) -> None:
        """Show the progress bar for a new batch."""
        self.progress_label.setText(label)
        self.progress_bar.setRange(0, 0)  # busy until the first progress report
        self.progress_box.show()
        self.cancel_button.setEnabled(True)
        self.empty_hint.setText(FIRST_BATCH_HINT)

    def set_progress(self, done: int, total: int, message: str) -> None:
        """Update the batch progress (``message`` is usually the file being read)."""
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
            self.progress_bar.setFormat(f"{done} / {total}")
        if message:
            self.progress_label.setText(f"Indexing {Path(message).name or message}")

    def batch_progress(self) -> tuple[int, int] | None:
        """``(files done, files)`` of the running batch; ``None`` when none runs or before its
        first report."""
        bar = self.progress_bar
        if self.progress_box.isHidden() or bar.maximum() <= 0:
            return None
        return bar.value(), bar.maximum()

    def set_cancelling(self) -> None:
        """The user asked to stop; the worker stops after the current step."""
        self.cancel_button.setEnabled(False)
        self.progress_label.setText("Cancelling…")

    def end_batch(self) -> None:
        """Hide the progress bar."""
        self.progress_box.hide()
        self.empty_hint.setText(EMPTY_HINT)

    def set_untagged(self, left: int) -> None:
        """Say how many passages still wait for their tags (hidden at 0)."""
        self.tagging_label.setText(
            f"Tagging sources: {left} passage{'s' if left != 1 else ''} left")
        self.tagging_label.setVisible(left > 0)

    def show_reports(self, title: str, reports: Sequence[FileReport]) -> None:
        """List what happened to each file of the last batch."""
        self.results.clear()
        for report in reports:
            item = QListWidgetItem(describe(report))
            item.setToolTip(report.path)
            item.setForeground(QBrush(QColor(_STATUS_COLOR.get(report.status, "#000000"))))
            self.results.addItem(item)
        self.results_label.setText(f"{title}: {summarize(reports)}")
        self.results_label.show()
        self.results.setVisible(bool(reports))

    # -- internals -------------------------------------------------------------------------
    def _update_buttons(self, *args) -> None:
        has_docs = self.model.rowCount() > 0
        selected = len(self.table.selectionModel().selectedRows())
        self.remove_button.setEnabled(bool(selected))
        self.reindex_button.setEnabled(has_docs)
        self.scope_check.setEnabled(has_docs)
        if self.scope_check.isChecked():
            self.scope_check.setText(
                f"Ask only the selected documents ({selected})" if selected
                else "Ask only the selected documents (none selected: all)")
        else:
            self.scope_check.setText("Ask only the selected documents")

    def _remove_clicked(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.remove_requested.emit(paths)

    def _reindex_clicked(self) -> None:
        self.reindex_requested.emit(self.selected_paths() or self.all_paths())

    def _activated(self, index: QModelIndex) -> None:
        self.document_activated.emit(self.model.data(index, DocumentTableModel.PathRole))
