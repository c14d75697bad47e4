"""Background work: one private single-thread pool that owns the ``Assistant``.

Everything that touches models, FAISS, SQLite or pypdf runs here, one job at a time, so models
load once and need no locks (the design of Anki's ``TaskManager``/``QueryOp``). A job is a plain
function ``op(ctx) -> value``; its value (a frozen dataclass or tuple) reaches the GUI thread
through a queued signal, where ``success`` or ``failure`` is called. Cancellation is cooperative:
``ctx.cancel`` is a ``threading.Event`` the library checks between files and batches.

    tasks.run(lambda ctx: ctx.assistant.ask(question), success=show_answer, label="Answering")
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from assistant.config import Settings
from assistant.service import Assistant

log = logging.getLogger(__name__)


class JobContext:
    """What a job sees on the worker: the assistant, a cancel flag and a progress reporter."""

    def __init__(self, manager: TaskManager, job: Job) -> None:
        self._manager = manager
        self._job = job
        self.cancel: threading.Event = job.cancel_event

    @property
    def assistant(self) -> Assistant:
        """The worker's assistant (created on first use, on the worker thread)."""
        return self._manager._worker_assistant()

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress; safe to call from the worker (delivered by a queued signal)."""
        self._job.signals.progress.emit(int(done), int(total), str(message))

    def partial(self, value: Any) -> None:
        """Hand an intermediate value (frozen) to the GUI thread while the job goes on."""
        self._job.signals.partial.emit(value)

    def run_waiting(self) -> None:
        """At a step boundary of a long job: run the short jobs that may not wait any longer.

        Those are jobs queued with ``interleave_after`` that have waited that long (a
        question asked during a long import). They run here, on the worker, between two steps
        of this job; the job must be at a consistent state (e.g. between two files).
        """
        self._manager._run_waiting(self._job)

    def has_waiting(self) -> bool:
        """Whether ``run_waiting`` would run a job now (one has waited long enough)."""
        return self._manager._has_due(self._job)


class JobSignals(QObject):
    """Signals of one job; the object lives in the GUI thread, so slots run there."""

    started = Signal()
    progress = Signal(int, int, str)
    partial = Signal(object)
    result = Signal(object)
    error = Signal(object)
    finished = Signal()


class Job(QRunnable):
    """One unit of background work. Not auto-deleted: the manager holds it until ``finished``."""

    def __init__(self, manager: TaskManager, op: Callable[[JobContext], Any], label: str) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.label = label
        self.op = op
        self.signals = JobSignals()
        self.cancel_event = threading.Event()
        self._manager = manager
        self._claim_lock = threading.Lock()
        self._claimed = False

    def cancel(self) -> None:
        """Ask the job to stop (skipped if still queued; cooperative if running)."""
        self.cancel_event.set()

    def claim(self) -> bool:
        """True the first time only: a job run between the steps of another is not run again
        when the pool reaches it."""
        with self._claim_lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def run(self) -> None:
        """Run on the worker thread: skip if cancelled, else report the value or the error."""
        if not self.claim():
            return
        try:
            if self.cancel_event.is_set():
                return
            self._emit(self.signals.started)
            try:
                value = self.op(JobContext(self._manager, self))
            except Exception as exc:  # every failure is reported to the GUI
                log.debug("job %r failed", self.label, exc_info=True)
                self._emit(self.signals.error, exc)
            else:
                self._emit(self.signals.result, value)
        finally:
            self._emit(self.signals.finished)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the GUI side is gone (interpreter exit): nobody is listening
            log.debug("job %r: result dropped, its receiver was deleted", self.label)


@dataclass(frozen=True)
class JobFailure:
    """A failed job as the GUI sees it: what was being done and the exception."""

    label: str
    error: BaseException


class TaskManager(QObject):
    """The single background worker of the app.

    Signals:
        busy_changed(bool): True while any job is queued or running.
        job_started(str): the label of the job that just started.
        failed(JobFailure): a job without its own ``failure`` callback raised.
    """

    busy_changed = Signal(bool)
    job_started = Signal(str)
    failed = Signal(object)

    #: Every live manager, so tests can check that none is left with work running.
    instances: ClassVar[weakref.WeakSet[TaskManager]] = weakref.WeakSet()

    def __init__(
        self,
        settings: Settings,
        assistant_factory: Callable[[Settings], Assistant] = Assistant,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._factory = assistant_factory
        self._assistant: Assistant | None = None  # touched only on the worker thread
        self._jobs: list[Job] = []  # queued or running, in submission order (GUI thread only)
        # Jobs that may run between the steps of a long one: (job, submitted at, patience in
        # s). Shared with the worker thread, hence the lock.
        self._interleavable: list[tuple[Job, float, float]] = []
        self._interleave_lock = threading.Lock()
        self._closed = False
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        # SQLite connections belong to the thread that opened them: never let the worker expire.
        self.pool.setExpiryTimeout(-1)
        TaskManager.instances.add(self)
        app = QCoreApplication.instance()
        if app is not None:  # never leave the worker running into interpreter shutdown
            app.aboutToQuit.connect(self.shutdown)

    # -- submitting ------------------------------------------------------------------------
    def run(
        self,
        op: Callable[[JobContext], Any],
        success: Callable[[Any], None] | None = None,
        failure: Callable[[BaseException], None] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        label: str = "Working",
        finished: Callable[[], None] | None = None,
        interleave_after: float | None = None,
        partial: Callable[[Any], None] | None = None,
    ) -> Job | None:
        """Queue ``op`` on the worker; the callbacks run on the GUI thread.

        ``finished`` runs last in every case, also when the job was cancelled before it started.
        ``interleave_after`` marks a short job that only reads: once it has waited that many
        seconds behind a long job, it runs at that job's next step boundary
        (:meth:`JobContext.run_waiting`) instead of after the whole job. ``partial`` receives
        the values the job hands over while it runs (:meth:`JobContext.partial`).

        Returns the job (to cancel it), or ``None`` after shutdown.
        """
        if self._closed:
            return None
        job = Job(self, op, label)
        job.signals.started.connect(lambda: self.job_started.emit(label))
        if progress is not None:
            job.signals.progress.connect(progress)
        if partial is not None:
            job.signals.partial.connect(partial)
        if success is not None:
            job.signals.result.connect(success)
        if failure is not None:
            job.signals.error.connect(failure)
        else:
            job.signals.error.connect(lambda exc: self.failed.emit(JobFailure(label, exc)))
        job.signals.finished.connect(lambda: self._finished(job))
        if finished is not None:
            job.signals.finished.connect(finished)
        was_idle = not self._jobs
        self._jobs.append(job)
        if interleave_after is not None:
            with self._interleave_lock:
                self._interleavable.append((job, time.monotonic(), float(interleave_after)))
        self.pool.start(job)
        if was_idle:
            self.busy_changed.emit(True)
        return job

    def reconfigure(self, settings: Settings) -> None:
        """Use new settings: the current assistant is closed on the worker and rebuilt lazily."""

        def swap(ctx: JobContext) -> None:
            self._close_worker_assistant()
            self._settings = settings

        self.run(swap, label="Applying settings")

    # -- state -----------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        """The settings the worker's assistant is (or will be) built from."""
        return self._settings

    def pending(self) -> int:
        """Jobs queued or running."""
        return len(self._jobs)

    def is_busy(self) -> bool:
        """True while a job is queued or running."""
        return bool(self._jobs)

    def cancel_all(self) -> None:
        """Cancel the running job (cooperatively) and skip every queued one."""
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything, close the assistant on the worker and wait for the pool.

        Returns True if the worker stopped within ``timeout_ms``.
        """
        if self._closed:
            return True
        self.cancel_all()
        closer = Job(self, lambda ctx: self._close_worker_assistant(), "Closing")
        self._closed = True
        self.pool.start(closer)
        done = self.pool.waitForDone(timeout_ms)
        if not done:
            log.warning("background work did not stop within %d ms", timeout_ms)
        # Queued ``finished`` signals of cancelled jobs may still be pending: the jobs are over.
        self._jobs.clear()
        return done

    # -- worker side -----------------------------------------------------------------------
    def _worker_assistant(self) -> Assistant:
        if self._assistant is None:
            self._assistant = self._factory(self._settings)
        return self._assistant

    def _close_worker_assistant(self) -> None:
        if self._assistant is not None:
            try:
                self._assistant.close()
            finally:
                self._assistant = None

    def _due(self, running: Job) -> list[Job]:
        """The interleavable jobs other than ``running`` that have waited long enough
        (the caller holds ``_interleave_lock``)."""
        now = time.monotonic()
        return [job for job, since, patience in self._interleavable
                if job is not running and now - since >= patience]

    def _has_due(self, running: Job) -> bool:
        with self._interleave_lock:
            return bool(self._due(running))

    def _run_waiting(self, running: Job) -> None:
        """On the worker: run the interleavable jobs that have waited long enough."""
        with self._interleave_lock:
            due = self._due(running)
            self._interleavable = [e for e in self._interleavable if e[0] not in due]
        for job in due:
            log.debug("running %r between the steps of %r", job.label, running.label)
            job.run()  # claims it: the pool skips it later

    def _finished(self, job: Job) -> None:
        with self._interleave_lock:
            self._interleavable = [e for e in self._interleavable if e[0] is not job]
        if job in self._jobs:
            self._jobs.remove(job)
            if not self._jobs:
                self.busy_changed.emit(False)
