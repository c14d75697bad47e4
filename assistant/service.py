"""The assistant as plain Python: ingest documents, answer questions. No Qt here.

One ``Assistant`` owns the library (SQLite + FAISS), the embedder, the reader and the taggers.
It is not thread-safe on purpose: the GUI runs it on a single background worker and the CLI
in the main thread, so models load once and need no locks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.types import Answer, AnswerResult, Passage
from retrieval.tables import TableView
from retrieval.types import DocumentInfo, FileReport, Hit

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


class Assistant:
    """Facade over library, reader and taggers. Construction is cheap; models load lazily.

    Args:
        settings: library location, models, passages per question.
        tag_later: index documents untagged and tag them with :meth:`tag_pending` (the GUI
            does, in small steps between other work), so they can be asked about sooner.
    """

    def __init__(self, settings: Settings | None = None, tag_later: bool = False) -> None:
        self.settings = settings or Settings()
        self.tag_later = tag_later
        self._library = None
        self._reader = None
        self._tagger = None

    # -- lazy components -------------------------------------------------------------------
    @property
    def library(self):  # -> retrieval.library.Library
        """The open document library (opened on first use)."""
        if self._library is None:
            from assistant.nlp.models import resolve_model
            from retrieval.embedding import Embedder
            from retrieval.library import Library

            embedder = Embedder(resolve_model(self.settings.embedder, "base"))
            # Tagger models load on the first ingest, not when a search merely opens the library.
            tagger = self._tag_passages if self.settings.tag_passages else None
            self._library = Library(Path(self.settings.library_dir), embedder, tagger=tagger,
                                    tag_later=self.tag_later)
        return self._library

    @property
    def tagger(self):  # -> assistant.nlp.taggers.PassageTagger | None
        """Tags passages with sentiment, bias and topic; ``None`` if no tagger model is bundled."""
        if self._tagger is None:
            from assistant.nlp.taggers import PassageTagger

            self._tagger = PassageTagger.from_settings(self.settings)
        return self._tagger

    def _tag_passages(self, texts: list[str]) -> list[dict]:
        """Tags for each passage; empty dicts when no tagger model is available."""
        tagger = self.tagger
        return tagger(texts) if tagger is not None else [{} for _ in texts]

    @property
    def reader(self):  # -> assistant.nlp.reader.Reader
        """The extractive QA reader (loaded on first use)."""
        if self._reader is None:
            from assistant.nlp.models import resolve_model
            from assistant.nlp.reader import Reader

            self._reader = Reader(
                resolve_model(self.settings.reader_model, "reader"),
                max_answer_tokens=self.settings.max_answer_tokens,
                no_answer_threshold=self.settings.no_answer_threshold,
            )
        return self._reader

    def warm_up(self) -> None:
        """Load every model now (the GUI calls this on the worker after the window shows)."""
        self.library.embedder.warm_up()
        self.reader.warm_up()

    # -- documents -------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | Path],
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[FileReport]:
        """Add files and folders (recursively); returns one report per file."""
        return self.library.add([Path(p) for p in paths], progress=progress, cancel=cancel)

    def untagged(self) -> int:
        """How many passages still wait for their sentiment, bias and topic tags."""
        return self.library.untagged()

    def tag_pending(self, limit: int = 16) -> int:
        """Tag up to ``limit`` untagged passages; returns how many (0 when tagging is off)."""
        return self.library.tag_pending(limit)

    def remove(self, paths: Iterable[str | Path]) -> list[FileReport]:
        """Remove documents (rows and vectors) by path."""
        return self.library.remove([Path(p) for p in paths])

    def documents(self) -> list[DocumentInfo]:
        """Every document in the library."""
        return self.library.documents()

    def page_text(self, document: str, page: int | None) -> str:
        """The full text of ``page`` (1-based; ``None`` for page-less files) of ``document``."""
        return self.library.page_text(document, page)

    # -- questions -------------------------------------------------------------------------
    def search(self, question: str, k: int | None = None, mode: str = "hybrid",
               documents: Sequence[str | Path] = ()) -> list[Hit]:
        """The ``k`` best passages for ``question`` (``mode``: hybrid, dense or lexical), from
        ``documents`` only when given (paths in the library), else from the whole library."""
        return self.library.search(question, k or self.settings.top_k, mode=mode,
                                   documents=list(documents) or None)

    def ask(self, question: str, k: int | None = None, max_answers: int = 3,
            documents: Sequence[str | Path] = ()) -> AnswerResult:
        """Retrieve passages (from ``documents`` only, when given), read them, and return
        answers mapped to document, page and offsets."""
        question = question.strip()
        if not question:
            raise AssistantError("Please type a question.")
        started = time.perf_counter()
        hits = self.search(question, k, documents=documents)
        passages = tuple(_passage(h) for h in hits)
        scope = tuple(str(d) for d in documents)
        if not hits:
            return AnswerResult(question, (), passages, True, time.perf_counter() - started,
                                documents=scope)
        views = self.library.table_views(hits)
        output = self.reader.read(question, hits, top_n=max_answers, views=views)
        answers = tuple(_answer(span, hits, views) for span in output.answers)
        if output.no_answer or not answers:
            guess = answers[0] if answers and output.offers_guess else None
            return AnswerResult(question, (), passages, True, time.perf_counter() - started,
                                best_guess=guess, documents=scope)
        return AnswerResult(question, answers, passages, False, time.perf_counter() - started,
                            documents=scope)

    def close(self) -> None:
        """Flush and close the library."""
        if self._library is not None:
            self._library.close()
            self._library = None


def _passage(hit: Hit) -> Passage:
    c = hit.chunk
    return Passage(hit.document, c.page, c.start, c.end, c.text, hit.score, dict(c.tags))


def _answer(span, hits: Sequence[Hit], views: Sequence[TableView | None] = ()) -> Answer:
    """Map a reader span (offsets inside a chunk) to offsets inside the chunk's page, naming
    its table cell when the chunk's table view (``views[span.hit_index]``) has it."""
    hit = hits[span.hit_index]
    c = hit.chunk
    view = views[span.hit_index] if span.hit_index < len(views) else None
    return Answer(
        text=c.text[span.start : span.end],
        document=hit.document,
        page=c.page,
        start=c.start + span.start,
        end=c.start + span.end,
        score=span.score,
        context=c.text,
        context_start=c.start,
        tags=dict(c.tags),
        table_cell=view.cell_name(span.start, span.end) if view is not None else "",
    )
