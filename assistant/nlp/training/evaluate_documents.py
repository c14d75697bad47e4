"""Question answering over a folder of real documents, scored against hand-written questions.

``evaluate ask`` measures search + reader on SQuAD, whose clean Wikipedia paragraphs are what
the reader was trained on. A user's library is PDFs and news articles: text with line breaks,
hyphenation, tables and references. This asks a questions file about such a folder through the
same path as ``answerspan ask`` (hybrid search, then the reader over ``k`` passages) and reports
how often the app answers, whether the answer and its page are right, and how often it abstains
on questions the documents do not answer, at the reader's no-answer threshold and over a sweep.

The questions file is JSON Lines, one question per line::

    {"question": "...", "answers": ["span", ...], "document": "pdf/x.pdf", "page": 5}

``document`` is relative to the documents folder and ``page`` is 1-based (``null`` for files
without pages). A question the documents do not answer has ``"answers": []``.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError
from assistant.nlp.reader import Reader, ReaderOutput, offers_guess
from assistant.nlp.training.squad_metrics import best_threshold, score_question, squad_scores
from retrieval.embedding import Embedder
from retrieval.evaluation import temporary_library
from retrieval.loaders import is_supported, load_document

# No-answer thresholds reported beside the reader's own (margins: [CLS] minus best span score).
SWEEP = (-16.0, -14.0, -12.0, -10.0, -8.0, -6.0, -4.0, -2.0, 0.0)


@dataclass(frozen=True)
class DocumentQuestion:
    """A question about a documents folder; no ``answers`` means the documents do not answer."""

    question: str
    answers: tuple[str, ...]
    document: str | None  # relative to the documents folder
    page: int | None


def load_questions(path: str | Path) -> list[DocumentQuestion]:
    """Read a JSON Lines questions file (see the module docstring).

    Raises:
        ConfigError: the file is missing, or a line is not a question object.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Questions file {path} not found.")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(DocumentQuestion(str(row["question"]), tuple(row.get("answers") or ()),
                                        row.get("document"), row.get("page")))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ConfigError(f"{path}, line {number}: not a question object ({err}).") from err
    if not out:
        raise ConfigError(f"{path} holds no questions.")
    return out


@dataclass(frozen=True)
class _Answered:
    """What the app did with one question."""

    question: DocumentQuestion
    text: str  # the first answer, given even where the reader abstains
    source: tuple[str, int | None] | None  # (document relative to the folder, page) of it
    gold_read: bool  # the question's own page was among the passages read
    no_answer_score: float
    f1: float | None  # of ``text`` (0-1), answerable questions only

    def abstains(self, threshold: float) -> bool:
        """Whether ``Reader.read`` abstains at ``threshold``."""
        return self.no_answer_score > threshold

    def guessed(self, threshold: float, guess_at: float) -> bool:
        """Whether the app abstains and shows its best span as a guess."""
        return offers_guess(self.no_answer_score, threshold, guess_at)


def evaluate_documents(
    questions_file: str | Path,
    docs_dir: str | Path,
    reader_model: str,
    embedder_model: str,
    k: int = 5,
    no_answer_threshold: float | None = None,
    within_document: bool = False,
    tables: bool = True,
) -> dict:
    """Index every supported file under ``docs_dir`` and ask the questions of it.

    ``no_answer_threshold`` overrides the reader's calibrated one (as the app's setting does).
    ``within_document`` asks each answerable question of its own document only, as a user who
    picks it with "Ask only the selected documents" does (unanswerable questions, which name
    no document, still go to the whole library). ``tables=False`` reads passages without
    their table views (``Library.table_views``), to measure what those add.

    Returns:
        ``{"questions", "answerable", "unanswerable", "documents", "passages", "k",
        "threshold", "f1_if_always_answering", "answerable_answered", "answerable_f1",
        "page_right", "gold_page_read", "unanswerable_abstained", "f1", "guess_threshold",
        "answerable_guessed", "unanswerable_guessed", "guess_f1", "sweep",
        "best_threshold", "p50_ms", "details", ...}``: F1 figures in percent; ``f1`` scores
        abstaining on an unanswerable question as right, as SQuAD v2.0 does; ``details`` has
        each question's answer, source and no-answer score; ``*_guessed`` are the shares the
        app abstains on but shows its best span as a guess (``Reader.guess_threshold``), and
        ``guess_f1`` those guesses' mean F1 (0 on unanswerable questions).
    """
    questions = load_questions(questions_file)
    root = Path(docs_dir).resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and is_supported(p))
    if not files:
        raise ConfigError(f"No supported documents under {root}.")
    missing = {q.document for q in questions if q.document} - {
        p.relative_to(root).as_posix() for p in files}
    if missing:
        raise ConfigError(f"Questions name documents not under {root}: {sorted(missing)}")
    reader = Reader(reader_model, no_answer_threshold=no_answer_threshold)
    reader.warm_up()
    embedder = Embedder(embedder_model)
    answered: list[_Answered] = []
    latencies: list[float] = []
    with temporary_library([load_document(p) for p in files], embedder) as (library, _):
        for q in questions:
            started = time.perf_counter()
            scope = [str(root / q.document)] if within_document and q.document else None
            hits = library.search(q.question, k=k, documents=scope)
            views = library.table_views(hits) if tables else [None] * len(hits)
            output = reader.read(q.question, hits, top_n=1, views=views)
            latencies.append((time.perf_counter() - started) * 1000)
            answered.append(_answer(q, hits, output, root))
        passages = library.store.chunk_count()
    report = _report(answered, reader.read_threshold, reader.guess_threshold, len(files),
                     passages, k, latencies)
    return {"within_document": within_document, **report}


def _answer(q: DocumentQuestion, hits, output: ReaderOutput, root: Path) -> _Answered:
    def where(hit) -> tuple[str, int | None]:
        return Path(hit.document).relative_to(root).as_posix(), hit.chunk.page

    best = output.answers[0] if output.answers else None
    text = hits[best.hit_index].chunk.text[best.start:best.end] if best else ""
    gold = (q.document, q.page)
    return _Answered(
        q,
        text,
        where(hits[best.hit_index]) if best else None,
        any(where(h) == gold for h in hits),
        output.no_answer_score,
        score_question(text, q.answers)[1] if q.answers else None,
    )


def _report(answered: list[_Answered], threshold: float, guess_at: float, documents: int,
            passages: int, k: int, latencies: list[float]) -> dict:
    has = [a for a in answered if a.question.answers]
    no = [a for a in answered if not a.question.answers]
    golds = {str(i): list(a.question.answers) for i, a in enumerate(answered)}
    texts = {str(i): a.text for i, a in enumerate(answered)}
    margins = {str(i): a.no_answer_score for i, a in enumerate(answered)}

    def share(items: list[_Answered], keep) -> float:
        return round(sum(1 for a in items if keep(a)) / max(1, len(items)), 4)

    def at(cut: float) -> dict:
        s = squad_scores(texts, golds, margins, cut)
        return {"threshold": cut, "f1": round(s["f1"], 2),
                "answerable_f1": round(s.get("has_ans_f1", s["f1"]), 2),
                "unanswerable_abstained": round(s.get("no_ans_f1", 0.0) / 100, 4)}

    best, best_f1 = best_threshold(texts, golds, margins)
    mine = at(threshold)
    guessed = [a for a in answered if a.guessed(threshold, guess_at)]
    return {
        "questions": len(answered),
        "answerable": len(has),
        "unanswerable": len(no),
        "documents": documents,
        "passages": passages,
        "k": k,
        "threshold": threshold,
        "f1": mine["f1"],
        "answerable_answered": share(has, lambda a: not a.abstains(threshold)),
        "answerable_f1": mine["answerable_f1"],
        "unanswerable_abstained": mine["unanswerable_abstained"],
        "f1_if_always_answering": round(100 * statistics.fmean(a.f1 for a in has), 2)
        if has else 0.0,
        "page_right": share(has, lambda a: a.source == (a.question.document, a.question.page)),
        "guess_threshold": guess_at if math.isfinite(guess_at) else None,
        "answerable_guessed": share(has, lambda a: a.guessed(threshold, guess_at)),
        "unanswerable_guessed": share(no, lambda a: a.guessed(threshold, guess_at)),
        "guess_f1": round(100 * statistics.fmean(a.f1 or 0.0 for a in guessed), 2)
        if guessed else 0.0,
        "gold_page_read": share(has, lambda a: a.gold_read),
        "sweep": [at(cut) for cut in SWEEP],
        "best_threshold": round(best, 3),
        "best_f1": round(best_f1, 2),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "details": [{
            "question": a.question.question,
            "expected": list(a.question.answers),
            "expected_source": [a.question.document, a.question.page],
            "answer": a.text,
            "source": list(a.source) if a.source else None,
            "f1": round(100 * a.f1, 1) if a.f1 is not None else None,
            "no_answer_score": round(a.no_answer_score, 3),
            "abstains": a.abstains(threshold),
            "guess": a.guessed(threshold, guess_at),
        } for a in answered],
    }
