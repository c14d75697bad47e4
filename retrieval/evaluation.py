"""Retrieval benchmark: passage recall@k and query latency on a SQuAD file.

Each SQuAD article becomes one document and each paragraph one page, so passages are the
paragraphs (a paragraph longer than a passage is split by the normal chunker). A question is a
hit at k when one of its first k passages contains one of its gold answers.
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval import RetrievalError
from retrieval.embedding import Embedder
from retrieval.library import MODES, Library
from retrieval.types import Page, SourceDocument

log = logging.getLogger(__name__)

KS = (1, 5, 10)


def read_squad(path: Path) -> list[dict]:
    """The ``data`` list of a SQuAD ``.json`` or ``.json.gz`` file.

    Raises:
        RetrievalError: the file is missing or not in SQuAD layout.
    """
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)["data"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise RetrievalError(f"{path} is not a readable SQuAD file: {err}") from err
    return data


@dataclass(frozen=True)
class SquadQuestion:
    """An answerable SQuAD question and where its paragraph sits in the corpus."""

    question: str
    answers: tuple[str, ...]
    document: str  # the SourceDocument id of its article
    page: int  # its paragraph's 1-based number


def squad_corpus(
    path: Path, articles: int | None = None, limit: int | None = None
) -> tuple[list[SourceDocument], list[SquadQuestion]]:
    """A SQuAD file as a library: one document per article, one page per paragraph.

    Args:
        path: SQuAD v1.1/v2.0 file (unanswerable questions are left out).
        articles: only the first ``articles`` articles.
        limit: only the first ``limit`` questions.

    Raises:
        RetrievalError: the file is missing or not in SQuAD layout.
    """
    docs: list[SourceDocument] = []
    questions: list[SquadQuestion] = []
    for article in read_squad(path)[: articles or None]:
        title = article.get("title", "untitled")
        doc_id = f"squad:{title}"
        pages = []
        for number, para in enumerate(article["paragraphs"], start=1):
            pages.append(Page(number, para["context"]))
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []) if a["text"].strip())
                if answers and not qa.get("is_impossible", False):
                    questions.append(SquadQuestion(qa["question"], answers, doc_id, number))
        docs.append(SourceDocument(doc_id, "squad", title.replace("_", " "), tuple(pages)))
    return docs, questions[: limit or None]


@contextmanager
def temporary_library(
    documents: Sequence[SourceDocument], embedder: Embedder
) -> Iterator[tuple[Library, float]]:
    """A library of ``documents`` in a temporary folder (removed afterwards), and the seconds
    indexing took."""
    with tempfile.TemporaryDirectory(prefix="answerspan-eval-") as tmp:
        library = Library(Path(tmp), embedder)
        try:
            embedder.warm_up()
            started = time.perf_counter()
            for doc in documents:
                library.add_document(doc)
            yield library, time.perf_counter() - started
        finally:
            library.close()


def evaluate_retrieval(
    squad: Path,
    embedder_model: str,
    modes: Sequence[str] = ("hybrid",),
    limit: int | None = None,
    articles: int | None = None,
    progress: bool = False,
    latency_sample: int = 500,
) -> dict:
    """Build a temporary library from ``squad`` and measure retrieval.

    Args:
        squad: SQuAD v1.1/v2.0 file (unanswerable questions are skipped).
        embedder_model: sentence-transformers model directory.
        modes: search modes to measure (``hybrid``, ``dense``, ``lexical``).
        limit: ask only the first ``limit`` answerable questions.
        articles: use only the first ``articles`` articles as corpus and question source.
        progress: show a tqdm bar on stderr while asking.
        latency_sample: how many questions are timed one by one per mode (the full search,
            question embedding included); recall uses every question, with the question
            vectors computed in one batch so the whole dev set runs in minutes on a laptop.

    Returns:
        ``{"questions", "passages", "documents", "index_seconds", "modes": {mode: {...}}}``
        and the first mode's ``recall_at_1/5/10``, ``p50_ms``, ``p95_ms`` at the top level.
    """
    for mode in modes:
        if mode not in MODES:
            raise RetrievalError(f"unknown search mode {mode!r}")
    docs, squad_questions = squad_corpus(squad, articles, limit)
    questions = [(q.question, q.answers) for q in squad_questions]
    embedder = Embedder(embedder_model)
    with temporary_library(docs, embedder) as (library, index_seconds):
        passages = library.store.chunk_count()
        vectors = embedder.encode([q for q, _ in questions], batch_size=128)
        results = {
            mode: _ask_all(library, questions, vectors, mode, progress, latency_sample)
            for mode in modes
        }
    first = results[modes[0]]
    return {
        "file": str(squad),
        "questions": len(questions),
        "documents": len(docs),
        "passages": passages,
        "index_seconds": round(index_seconds, 2),
        "mode": modes[0] if len(modes) == 1 else "all",
        "latency_questions": min(latency_sample, len(questions)),
        **{
            key: first[key]
            for key in ("recall_at_1", "recall_at_5", "recall_at_10", "p50_ms", "p95_ms")
        },
        "modes": results,
    }


def _ask_all(
    library: Library, questions, vectors: np.ndarray, mode: str, progress: bool, sample: int
) -> dict:
    hits_at = dict.fromkeys(KS, 0)
    iterator = enumerate(questions)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(questions), desc=mode, unit="q", leave=False)
    for i, (question, answers) in iterator:
        hits = library.search(question, k=max(KS), mode=mode, query_vector=vectors[i])
        first = next(
            (rank for rank, h in enumerate(hits) if any(a in h.chunk.text for a in answers)), None
        )
        for k in KS:
            hits_at[k] += first is not None and first < k
    # Latency as a user sees it: one question at a time, embedding included, spread evenly.
    library.search("warm up", k=max(KS), mode=mode)
    latencies = []
    step = max(1, len(questions) // max(1, sample))
    for question, _ in questions[::step][:sample]:
        started = time.perf_counter()
        library.search(question, k=max(KS), mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
    n = max(1, len(questions))
    return {
        **{f"recall_at_{k}": round(hits_at[k] / n, 4) for k in KS},
        "p50_ms": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
        "p95_ms": round(float(np.percentile(latencies, 95)), 2) if latencies else 0.0,
    }
