"""Worker-side operations: plain functions of a ``JobContext`` returning frozen values.

They run on the single background worker (``tasks.TaskManager``) and never touch widgets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.service import Assistant
from assistant.types import AnswerResult
from assistant.ui.tasks import JobContext
from retrieval.types import DocumentInfo, FileReport


@dataclass(frozen=True)
class IngestOutcome:
    """One batch of files: a report per file, the library afterwards, and whether it was cut short."""

    reports: tuple[FileReport, ...]
    documents: tuple[DocumentInfo, ...]
    cancelled: bool


@dataclass(frozen=True)
class PageText:
    """The text of one page of a document, fetched for the document viewer."""

    document: str
    page: int | None
    text: str


@dataclass(frozen=True)
class TaggingStep:
    """One step of tagging in the background: passages tagged now, and still waiting."""

    tagged: int
    left: int


def make_assistant(settings: Settings) -> Assistant:
    """The worker's assistant; first imports the model stack without blocking the GUI thread.

    It indexes without tagging (documents can be asked about about three times sooner); the
    window tags the passages afterwards in small steps (:func:`tag_pending`).
    """
    from assistant.ui.preload import preload_model_stack

    preload_model_stack()
    return Assistant(settings, tag_later=True)


def list_documents(ctx: JobContext) -> tuple[DocumentInfo, ...]:
    """Every document in the library."""
    return tuple(ctx.assistant.documents())


def warm_up(ctx: JobContext) -> None:
    """Load the embedder and the reader now, so the first question is fast."""
    ctx.assistant.warm_up()


def _between_files(ctx: JobContext, list_every: float = 1.0):
    """The progress callback of an import, called between two files (where the library is
    consistent): reports progress, hands the document list over (at most every
    ``list_every`` seconds, so the list grows during a long import, and always before a
    question runs, so its answer cites listed documents), and lets a question that has waited
    long enough run."""
    listed = time.monotonic()

    def report(done: int, total: int, message: str) -> None:
        nonlocal listed
        ctx.progress(done, total, message)
        if done and (ctx.has_waiting() or time.monotonic() - listed >= list_every):
            ctx.partial(tuple(ctx.assistant.documents()))
            listed = time.monotonic()
        ctx.run_waiting()

    return report


def ingest(paths: tuple[str, ...]):
    """An operation adding ``paths`` (files and folders) to the library."""

    def op(ctx: JobContext) -> IngestOutcome:
        reports = ctx.assistant.ingest(paths, progress=_between_files(ctx), cancel=ctx.cancel)
        return IngestOutcome(tuple(reports), tuple(ctx.assistant.documents()), ctx.cancel.is_set())

    return op


def reindex(paths: tuple[str, ...]):
    """An operation refreshing documents: changed files are re-read, vanished ones removed."""

    def op(ctx: JobContext) -> IngestOutcome:
        missing = [p for p in paths if not Path(p).exists()]
        present = [p for p in paths if Path(p).exists()]
        reports: list[FileReport] = []
        if missing:
            reports += [
                FileReport(r.path, r.status, r.reason or "the file no longer exists")
                for r in ctx.assistant.remove(missing)
            ]
        if present:
            reports += ctx.assistant.ingest(present, progress=_between_files(ctx),
                                            cancel=ctx.cancel)
        return IngestOutcome(tuple(reports), tuple(ctx.assistant.documents()), ctx.cancel.is_set())

    return op


def remove(paths: tuple[str, ...]):
    """An operation removing documents from the library (the files on disk stay)."""

    def op(ctx: JobContext) -> IngestOutcome:
        reports = ctx.assistant.remove(paths)
        return IngestOutcome(tuple(reports), tuple(ctx.assistant.documents()), False)

    return op


def ask(question: str, k: int, documents: Sequence[str] = ()):
    """An operation answering ``question`` from the ``k`` best passages (of ``documents``
    only, when given)."""
    documents = tuple(documents)

    def op(ctx: JobContext) -> AnswerResult:
        return ctx.assistant.ask(question, k, documents=documents)

    return op


def tag_pending(limit: int):
    """An operation tagging up to ``limit`` passages that wait for their tags."""

    def op(ctx: JobContext) -> TaggingStep:
        tagged = ctx.assistant.tag_pending(limit)
        return TaggingStep(tagged, ctx.assistant.untagged())

    return op


def page_text(document: str, page: int | None):
    """An operation fetching the stored text of one page."""

    def op(ctx: JobContext) -> PageText:
        return PageText(document, page, ctx.assistant.page_text(document, page))

    return op


def add_samples(ctx: JobContext) -> IngestOutcome:
    """Add the sample documents shipped in ``resources/samples`` (none: an empty outcome)."""
    from assistant.nlp.models import resources_dir  # imports torch: keep it on the worker

    folder = resources_dir() / "samples"
    # The folder is also a package directory: skip its scripts, caches and README.
    files = sorted(
        p
        for p in (folder.rglob("*") if folder.is_dir() else ())
        if p.is_file()
        and not p.name.startswith((".", "_"))
        and p.name != "README.md"
        and p.suffix not in (".py", ".pyc")
    )
    if not files:
        return IngestOutcome((), tuple(ctx.assistant.documents()), False)
    return ingest(tuple(str(p) for p in files))(ctx)
