"""The main window: library (left), chat (centre), sources (right), wired to one worker.

The window opens at once; the document list loads and the models warm up afterwards on the
background worker (status bar: "Loading models…" then "Ready"). Every error reaches the user
through ``MainWindow.notify`` (the notification bar above the panes), never a modal per file.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.service import Assistant
from assistant.types import AnswerResult
from assistant.ui import operations as ops
from assistant.ui.chat import ChatWidget
from assistant.ui.icons import app_icon
from assistant.ui.library_panel import LibraryPanel, summarize
from assistant.ui.notifications import NotificationBar, user_message
from assistant.ui.settings_dialog import SettingsDialog, load_settings, save_settings
from assistant.ui.sources import SourceRef, SourcesPane
from assistant.ui.style import STYLE
from assistant.ui.tasks import JobFailure, TaskManager

log = logging.getLogger(__name__)

# Seconds a question waits for a running import before it is answered between two files, from
# the documents indexed so far: long enough for a few dropped files, short against a big folder.
QUESTION_PATIENCE = 15.0

# Passages tagged per background job: about 3 s on a 2-core laptop CPU, the longest a question
# asked meanwhile waits for the worker.
TAGGING_STEP = 16

# Questions the bundled sample documents answer (resources/samples), offered after adding them.
SAMPLE_QUESTIONS = [
    "How many visitors came to the harbour festival?",
    "How much treated water is lost to leaks?",
    "When was the Larkspur Valley reservoir built?",
]


class MainWindow(QMainWindow):
    """Answerspan's window.

    Args:
        settings: start-up settings (default: stored QSettings over ``Settings()``).
        store: where settings and layout persist (default: the user's QSettings).
        assistant_factory: builds the worker's ``Assistant`` from settings.
        warm_up: load models in the background once the window is shown.
    """

    models_ready = Signal(bool, str)  # ok, message

    def __init__(
        self,
        settings: Settings | None = None,
        store: QSettings | None = None,
        assistant_factory: Callable[[Settings], Assistant] = ops.make_assistant,
        warm_up: bool = True,
    ) -> None:
        super().__init__()
        self.store = store if store is not None else QSettings("Answerspan", "Answerspan")
        self.settings = settings if settings is not None else load_settings(self.store)
        self.tasks = TaskManager(self.settings, assistant_factory, self)
        self.tasks.failed.connect(self._job_failed)
        self.tasks.busy_changed.connect(self._busy_changed)
        self._warm_up = warm_up
        self._started = False
        self.background_started = False  # set once the start-up jobs are queued
        self._sizes_before_page: list[int] | None = None
        self._ingest_jobs: list = []
        self._tagging_job = None  # the queued or running step of background tagging
        self.models_state = "not loaded"

        self.setWindowTitle("Answerspan")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setStyleSheet(STYLE)

        self.library = LibraryPanel()
        self.chat = ChatWidget()
        self.sources = SourcesPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.addWidget(self.library)
        self.splitter.addWidget(self.chat)
        self.splitter.addWidget(self.sources)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([330, 480, 470])

        self.notification = NotificationBar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(4)
        layout.addWidget(self.notification)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.models_label = QLabel("Loading models…" if warm_up else "Models load on first use")
        self.statusBar().addPermanentWidget(self.models_label)

        self._build_actions()
        self._wire()
        self._watcher = QFileSystemWatcher(self)
        self._watch_timer = QTimer(self, singleShot=True, interval=2000)
        self._watch_timer.timeout.connect(self._rescan_watched)
        self._changed_dirs: set[str] = set()
        self._watcher.directoryChanged.connect(self._directory_changed)
        self._restore_layout()
        self._watch(self.watched_folders())

    # -- setup -----------------------------------------------------------------------------
    def _action(
        self, text: str, slot: Callable, shortcut: QKeySequence | str | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
        action.triggered.connect(lambda checked=False: slot())
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        icon = self.style().standardIcon
        self.add_files_action = self._action(
            "&Add files…",
            self.add_files_dialog,
            QKeySequence.StandardKey.Open,
            "Add documents to the library",
        )
        self.add_files_action.setIcon(icon(sp.SP_FileIcon))
        self.add_folder_action = self._action(
            "Add &folder…",
            self.add_folder_dialog,
            "Ctrl+Shift+O",
            "Add every document in a folder (and watch it for changes)",
        )
        self.add_folder_action.setIcon(icon(sp.SP_DirOpenIcon))
        self.samples_action = self._action(
            "Add &sample documents", self.add_samples, None, "Add the bundled sample documents"
        )
        self.export_action = self._action(
            "&Export conversation…",
            self.export_dialog,
            "Ctrl+E",
            "Save the conversation as Markdown",
        )
        self.export_action.setIcon(icon(sp.SP_DialogSaveButton))
        self.settings_action = self._action(
            "&Settings…", self.settings_dialog, QKeySequence.StandardKey.Preferences, "Settings"
        )
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        if self.quit_action.shortcut().isEmpty():
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.focus_question_action = self._action(
            "Ask a &question", self.focus_question, "Ctrl+L", "Move to the question box"
        )
        self.copy_answer_action = self._action(
            "&Copy answer", self.chat.copy_selected, None, "Copy the selected answer"
        )
        self.copy_chat_action = self._action(
            "Copy &conversation",
            self.chat.copy_all,
            "Ctrl+Shift+C",
            "Copy the whole conversation as Markdown",
        )
        self.clear_chat_action = self._action(
            "C&lear conversation", self.clear_chat, None, "Start a new conversation"
        )
        self.reindex_action = self._action(
            "&Re-index",
            self.library.reindex_button.click,
            "Ctrl+R",
            "Re-read changed documents (the selected ones, or all)",
        )
        self.reindex_action.setIcon(icon(sp.SP_BrowserReload))
        self.remove_action = self._action(
            "Re&move from library",
            self.remove_selected,
            QKeySequence.StandardKey.Delete,
            "Remove the selected documents from the library",
        )
        self.remove_action.setIcon(icon(sp.SP_TrashIcon))
        # Del must not fire while typing a question: only when the library has focus.
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.library.addAction(self.remove_action)
        self.cancel_action = self._action(
            "&Cancel indexing", self.cancel_indexing, "Ctrl+.", "Stop the running batch"
        )
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.about_action = self._action("&About Answerspan", self.show_about)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for a in (self.add_files_action, self.add_folder_action, self.samples_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menu.addMenu("&Edit")
        for a in (
            self.focus_question_action,
            self.copy_answer_action,
            self.copy_chat_action,
            self.clear_chat_action,
        ):
            edit_menu.addAction(a)
        lib_menu = menu.addMenu("&Library")
        for a in (self.reindex_action, self.remove_action, self.cancel_action):
            lib_menu.addAction(a)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)
        self.addAction(self.focus_question_action)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("MainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.add_files_action)
        toolbar.addAction(self.add_folder_action)
        toolbar.addAction(self.reindex_action)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        toolbar.addAction(self.settings_action)
        self.addToolBar(toolbar)

    def _wire(self) -> None:
        lib = self.library
        lib.add_files_requested.connect(self.add_files_dialog)
        lib.add_folder_requested.connect(self.add_folder_dialog)
        lib.add_samples_requested.connect(self.add_samples)
        lib.remove_requested.connect(self.remove_documents)
        lib.reindex_requested.connect(self.reindex)
        lib.cancel_requested.connect(self.cancel_indexing)
        self.chat.question_submitted.connect(self.ask)
        self.chat.answer_selected.connect(self.sources.show_result)
        self.sources.text_needed.connect(self._fetch_page_text)
        self.sources.page_view_toggled.connect(self._page_view_toggled)

    # -- start-up --------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            # After the first paint: the window is up before anything heavy starts.
            QTimer.singleShot(0, self.start_background)

    def start_background(self) -> None:
        """List the library, then warm up the models, on the worker."""
        self.background_started = True
        self.tasks.run(
            ops.list_documents, success=self.library.set_documents, label="Opening the library"
        )
        if self._warm_up:
            self.warm_up_models()
        self.tag_in_background()  # passages left untagged by an earlier session

    def warm_up_models(self) -> None:
        """Load the embedder and reader in the background."""
        self._set_models_state("loading", "Loading models…")
        self.tasks.run(
            ops.warm_up,
            success=lambda _: self._set_models_state("ready", "Ready"),
            failure=self._warm_up_failed,
            label="Loading models",
        )

    def tag_in_background(self) -> None:
        """Tag the passages indexed without tags, a small step per job.

        Indexing leaves tagging for later (it costs twice the embedding). Each step is a job
        of a few seconds on the one worker, and the next step is queued only when it ends, so
        a question or an import asked meanwhile runs after the current step, not after all
        of them.
        """
        if self._tagging_job is not None or not self.settings.tag_passages:
            return
        holder: list = []
        job = self.tasks.run(
            ops.tag_pending(TAGGING_STEP),
            success=self._tagged_some,
            failure=self._tagging_failed,
            label="Tagging sources",
            finished=lambda: self._tagging_ended(holder[0] if holder else None),
        )
        if job is not None:
            holder.append(job)
            self._tagging_job = job

    def _tagged_some(self, step: ops.TaggingStep) -> None:
        # Queued before this job reports finished, so the worker never looks idle in between.
        self._tagging_job = None
        more = step.tagged > 0 and step.left > 0 and self.settings.tag_passages
        self.library.set_untagged(step.left if more else 0)
        if more:
            self.tag_in_background()

    def _tagging_failed(self, exc: BaseException) -> None:
        self.library.set_untagged(0)
        self.notify("warning", f"Could not tag the sources: {user_message(exc)}")

    def _tagging_ended(self, job) -> None:
        if job is not None and self._tagging_job is job:  # cancelled or failed: stop
            self._tagging_job = None

    def _warm_up_failed(self, exc: BaseException) -> None:
        message = user_message(exc)
        self._set_models_state("failed", "Models not loaded")
        self.notify("error", f"Could not load the models: {message}")

    def _set_models_state(self, state: str, text: str) -> None:
        self.models_state = state
        self.models_label.setText(text)
        if state in ("ready", "failed"):
            self.models_ready.emit(state == "ready", text)

    # -- notifications (the one place errors reach the user) -------------------------------
    def notify(self, level: str, message: str) -> None:
        """Tell the user something: a bar above the panes and the status bar."""
        getattr(log, "info" if level == "info" else "warning")("%s", message)
        self.notification.show_message(level, message)
        self.statusBar().showMessage(message.split("\n")[0], 8000)

    def _job_failed(self, failure: JobFailure) -> None:
        if not isinstance(failure.error, AssistantError):
            log.error("%s failed", failure.label, exc_info=failure.error)
        self.notify("error", f"{failure.label} failed: {user_message(failure.error)}")

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            return
        if self.models_state == "ready" and not self.library.all_paths():
            self.statusBar().showMessage(
                "Tip: drop documents anywhere in this window (or press Ctrl+O), then ask in the "
                "chat (Ctrl+L)."
            )
        elif self.statusBar().currentMessage().endswith("…"):
            self.statusBar().clearMessage()  # "Adding 3 items…" is over

    # -- adding documents ------------------------------------------------------------------
    def add_files_dialog(self) -> None:
        """Pick files to add."""
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Add documents",
            str(Path.home()),
            "Documents (*.pdf *.txt *.md *.markdown *.html *.htm);;All files (*)",
        )
        if files:
            self.add_paths(files)

    def add_folder_dialog(self) -> None:
        """Pick a folder to add (and watch)."""
        folder = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if folder:
            self.add_paths([folder])

    def add_samples(self) -> None:
        """Add the bundled sample documents."""
        self._start_batch(ops.add_samples, "Adding the sample documents…", "Samples")

    def add_paths(self, paths: Iterable[str | Path]) -> None:
        """Index files and folders in the background; folders are watched for changes."""
        items = [str(Path(p)) for p in paths]
        if not items:
            return
        folders = [p for p in items if Path(p).is_dir()]
        if folders:
            self._remember_folders(folders)
        n = len(items)
        label = f"Adding {n} item{'s' if n != 1 else ''}…"
        self._start_batch(ops.ingest(tuple(items)), label, "Last import")

    def reindex(self, paths: Sequence[str]) -> None:
        """Re-read documents that changed and drop those whose file is gone."""
        if paths:
            self._start_batch(ops.reindex(tuple(paths)), "Re-indexing…", "Re-index")

    def remove_selected(self) -> None:
        """Remove the selected documents (Del)."""
        self.remove_documents(self.library.selected_paths())

    def remove_documents(self, paths: Sequence[str]) -> None:
        """Remove documents from the library (the files stay on disk)."""
        if paths:
            self._start_batch(ops.remove(tuple(paths)), "Removing…", "Removed")

    def cancel_indexing(self) -> None:
        """Stop the running batch after its current step and skip queued batches."""
        if self._ingest_jobs:
            for job in self._ingest_jobs:
                job.cancel()
            self.library.set_cancelling()

    def _start_batch(self, op, label: str, title: str) -> None:
        holder: list = []

        def done() -> None:
            if holder and holder[0] in self._ingest_jobs:
                self._ingest_jobs.remove(holder[0])
            if not self._ingest_jobs:
                self.library.end_batch()

        job = self.tasks.run(
            op,
            success=lambda outcome: self._batch_done(title, outcome),
            failure=lambda exc: self.notify("error", f"{title} failed: {user_message(exc)}"),
            progress=self.library.set_progress,
            partial=self.library.set_documents,  # the list grows during a long import
            label=label.rstrip("…"),
            finished=done,
        )
        if job is None:
            return
        holder.append(job)
        if not self._ingest_jobs:
            self.library.begin_batch(label)
        self._ingest_jobs.append(job)
        self.statusBar().showMessage(label)

    def _batch_done(self, title: str, outcome: ops.IngestOutcome) -> None:
        self.library.set_documents(outcome.documents)
        self.tag_in_background()
        reports = outcome.reports
        if not reports:
            if title == "Samples":
                self.notify("warning", "No sample documents are bundled with this installation.")
            return
        self.library.show_reports(title, reports)
        if title == "Samples":
            self.chat.set_examples(SAMPLE_QUESTIONS)
        bad = [r for r in reports if not r.ok]
        summary = summarize(reports)
        if outcome.cancelled:
            self.notify("warning", f"Indexing was cancelled ({summary}).")
        elif bad:
            # One message for the whole batch; the reasons are listed under the library.
            names = ", ".join(Path(r.path).name for r in bad[:3]) + ("…" if len(bad) > 3 else "")
            self.notify(
                "warning",
                f"{len(bad)} of {len(reports)} file{'s' if len(reports) != 1 else ''} could "
                f"not be added ({names}). The reasons are listed under the library.",
            )
        else:
            self.statusBar().showMessage(f"{title}: {summary}", 8000)

    # -- watched folders -------------------------------------------------------------------
    def watched_folders(self) -> list[str]:
        """Folders added with "Add folder…" or by drop, re-scanned when their files change."""
        value = self.store.value("library/watched_folders", [])
        folders = [value] if isinstance(value, str) else list(value or [])
        return [f for f in folders if f]

    def _remember_folders(self, folders: Sequence[str]) -> None:
        known = self.watched_folders()
        new = [f for f in folders if f not in known]
        if new:
            self.store.setValue("library/watched_folders", known + new)
            self._watch(new)

    def _watch(self, folders: Sequence[str]) -> None:
        existing = [f for f in folders if Path(f).is_dir()]
        if existing:
            self._watcher.addPaths(existing)

    def _directory_changed(self, path: str) -> None:
        self._changed_dirs.add(path)
        self._watch_timer.start()  # wait for a burst of changes (a copy) to settle

    def _rescan_watched(self) -> None:
        dirs, self._changed_dirs = sorted(self._changed_dirs), set()
        if dirs:
            self._start_batch(ops.ingest(tuple(dirs)), "Updating watched folders…", "Watched")

    # -- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
            self.statusBar().showMessage("Drop to add to your library")
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if _local_paths(event.mimeData().urls()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.statusBar().clearMessage()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)
        else:
            event.ignore()

    # -- questions -------------------------------------------------------------------------
    def focus_question(self) -> None:
        """Put the cursor in the question box (Ctrl+L)."""
        self.chat.input.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.chat.input.selectAll()

    def ask(self, question: str) -> None:
        """Ask on the worker; the answer appears in the chat.

        Behind a running import the question waits up to ``QUESTION_PATIENCE`` seconds, then
        is answered between two files from the documents indexed so far, and says so.
        """
        waiting = "Waiting for indexing to finish…" if self._ingest_jobs else ""
        row = self.chat.add_question(question, waiting)

        def failed(exc: BaseException) -> None:
            message = user_message(exc)
            self.chat.set_error(row, f"Could not answer: {message}")
            self.notify("error", f"Could not answer “{question}”: {message}")

        job = self.tasks.run(
            ops.ask(question, self.settings.top_k, self.library.scope_paths()),
            success=lambda result: self._answered(row, result),
            failure=failed,
            label="Answering",
            interleave_after=QUESTION_PATIENCE,
        )
        if job is not None and waiting:
            job.signals.started.connect(lambda: self.chat.set_pending(row))

    def _answered(self, row: int, result: AnswerResult) -> None:
        progress = self.library.batch_progress()
        note = ""
        if self._ingest_jobs and progress is not None:  # answered between two files
            done, total = progress
            note = (f"Asked while indexing ({done} of {total} files done): answered from the "
                    "documents indexed so far.")
        self.chat.set_result(row, result, note)
        if self.models_state != "ready" and not self._warm_up:
            self._set_models_state("ready", "Ready")

    def clear_chat(self) -> None:
        """Start over: empty conversation and sources."""
        self.chat.clear()
        self.sources.show_result(None)

    def _page_view_toggled(self, shown: bool) -> None:
        """A page is hard to read in a third of the window: widen the sources pane meanwhile."""
        if shown:
            self._sizes_before_page = self.splitter.sizes()
            lib, chat, src = self._sizes_before_page
            total = lib + chat + src
            wide = max(src, int(total * 0.55))
            narrow_chat = max(self.chat.minimumSizeHint().width(), total - lib - wide)
            self.splitter.setSizes([lib, narrow_chat, total - lib - narrow_chat])
        elif self._sizes_before_page:
            self.splitter.setSizes(self._sizes_before_page)
            self._sizes_before_page = None

    def _fetch_page_text(self, ref: SourceRef) -> None:
        self.tasks.run(
            ops.page_text(ref.document, ref.page),
            success=lambda page: (
                self.sources.viewer.show_text(page.text) if self.sources.viewer.ref is ref else None
            ),
            failure=lambda exc: self.sources.viewer.show_error(
                f"Could not load the page: {user_message(exc)}"
            ),
            label="Loading the page",
            interleave_after=0.0,  # a quick read: never behind a whole import
        )

    # -- export ----------------------------------------------------------------------------
    def export_dialog(self) -> None:
        """Save the conversation as Markdown (Ctrl+E)."""
        if not self.chat.model.entries():
            self.notify("info", "There is no conversation to export yet.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export conversation",
            str(Path.home() / "answerspan-chat.md"),
            "Markdown (*.md)",
        )
        if path:
            self.export_chat(Path(path))

    def export_chat(self, path: Path) -> None:
        """Write the conversation to ``path`` as Markdown."""
        try:
            path.write_text(self.chat.model.to_markdown(), encoding="utf-8")
        except OSError as err:
            self.notify("error", f"Could not export the conversation: {user_message(err)}")
        else:
            self.statusBar().showMessage(f"Conversation saved to {path}", 8000)

    # -- settings --------------------------------------------------------------------------
    def settings_dialog(self) -> None:
        """Edit and apply settings."""
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def apply_settings(self, new: Settings) -> None:
        """Persist ``new``; rebuild the worker's assistant if a model or the library moved."""
        old = self.settings
        self.settings = new
        save_settings(self.store, new)
        rebuild = (
            new.library_dir != old.library_dir
            or new.reader_model != old.reader_model
            or new.tag_passages != old.tag_passages
            or new.no_answer_threshold != old.no_answer_threshold
        )
        if rebuild:
            self.tasks.reconfigure(new)
            self.sources.show_result(None)
            self.start_background()
        # Otherwise only the number of passages changed: ``ask`` reads it from self.settings.
        self.statusBar().showMessage("Settings saved", 5000)

    # -- help ------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        """List the keyboard shortcuts."""
        rows = [
            (
                a.text().replace("&", ""),
                a.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            )
            for a in (
                self.add_files_action,
                self.add_folder_action,
                self.focus_question_action,
                self.export_action,
                self.copy_chat_action,
                self.reindex_action,
                self.remove_action,
                self.cancel_action,
                self.settings_action,
                self.quit_action,
            )
        ]
        text = "".join(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>" for name, keys in rows)
        QMessageBox.information(
            self,
            "Keyboard shortcuts",
            f"<table cellpadding=3>{text}<tr><td>Send question</td><td><b>Enter</b></td></tr>"
            "</table>",
        )

    def show_about(self) -> None:
        """A short description."""
        QMessageBox.about(
            self,
            "About Answerspan",
            "<b>Answerspan</b><br>Answers questions about your documents with the exact words "
            "and where they are. Private and offline: nothing leaves this computer.",
        )

    # -- layout and shutdown ---------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.store.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = QApplication.primaryScreen()
            avail = screen.availableGeometry() if screen is not None else None
            if avail is not None and avail.width() < 1400:
                self.resize(int(avail.width() * 0.95), int(avail.height() * 0.9))
            else:
                self.resize(1280, 800)
        state = self.store.value("window/state")
        if state is not None:
            self.restoreState(state)
        splitter = self.store.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_layout(self) -> None:
        """Remember window geometry, toolbar state and pane sizes."""
        self.sources.show_cards()  # store the normal pane sizes, not the widened page view
        self.store.setValue("window/geometry", self.saveGeometry())
        self.store.setValue("window/state", self.saveState())
        self.store.setValue("window/splitter", self.splitter.saveState())
        self.store.sync()

    def shutdown(self) -> None:
        """Cancel background work and wait for it (idempotent)."""
        self._watch_timer.stop()
        self.tasks.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        # Gone from the screen at once; a running step (e.g. loading a model) may need a moment.
        self.hide()
        self.shutdown()
        event.accept()


def _local_paths(urls: Iterable[QUrl]) -> list[str]:
    return [u.toLocalFile() for u in urls if u.isLocalFile() and u.toLocalFile()]


def run_app(argv: Sequence[str] | None = None) -> int:
    """Open the window and run the event loop; returns the exit code.

    With ``ANSWERSPAN_SMOKE_SECONDS`` set, the app quits once the models are loaded (exit 0)
    or failed / the time ran out (exit 1): a start-up check for packaged builds.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName("Answerspan")
    app.setOrganizationName("Answerspan")
    app.setDesktopFileName("answerspan")
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.show()
    smoke = os.environ.get("ANSWERSPAN_SMOKE_SECONDS")
    if smoke:
        outcome = {"code": 1}

        def ready(ok: bool, message: str) -> None:
            outcome["code"] = 0 if ok else 1
            log.info("smoke: window shown, models: %s", message)
            window.close()

        window.models_ready.connect(ready)
        QTimer.singleShot(int(float(smoke) * 1000), window.close)
        app.exec()
        return outcome["code"]
    return app.exec()
