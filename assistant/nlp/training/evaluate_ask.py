"""End-to-end question answering over a library, as ``answerspan ask`` does it.

``evaluate reader`` gives the reader each question's own paragraph. A user's question instead
goes to the search, and the reader reads the ``k`` passages it returns, most of which do not
answer. This builds a temporary library from a SQuAD file (an article per document, a paragraph
per page; ``retrieval.evaluation.squad_corpus``), asks every question, and scores the best
answer with the official SQuAD EM/F1. It also calibrates the two weights of
``assistant.nlp.reader.passage_score`` that rank answers across passages.
"""

from __future__ import annotations

import itertools
import json
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.nlp.reader import PairPrediction, Reader, passage_score
from assistant.nlp.training.squad_metrics import score_question
from retrieval.embedding import Embedder
from retrieval.evaluation import SquadQuestion, squad_corpus, temporary_library

log = logging.getLogger(__name__)

RANK_PENALTIES = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0)
NO_ANSWER_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)
# Calibration takes the smallest weights within this much F1 of the grid's best. The F1 surface
# is flat near its top, and SQuAD flatters retrieval rank (its questions were written from their
# paragraph, so they share its words): on a user's own documents, trust the rank no more than
# the benchmark requires.
F1_TOLERANCE = 0.3


@dataclass(frozen=True)
class _Asked:
    """One question: the reader's best span in each passage read, in retrieval order."""

    question: SquadQuestion
    passages: list[PairPrediction]
    gold_rank: int | None  # rank of the question's own paragraph among the passages, if read

    def answer(self, rank_penalty: float, no_answer_weight: float) -> str:
        """The text ``Reader.read`` would put first with these weights."""
        if not self.passages:
            return ""
        best = max(range(len(self.passages)), key=lambda i: passage_score(
            self.passages[i].score, i, self.passages[i].no_answer_score, rank_penalty,
            no_answer_weight))
        return self.passages[best].text


def evaluate_ask(
    squad: str | Path,
    reader_model: str,
    embedder_model: str,
    k: int = 5,
    every: int = 1,
    articles: int | None = None,
    limit: int | None = None,
    calibrate: bool = False,
    latency_sample: int = 100,
    progress: bool = False,
) -> dict:
    """Ask a SQuAD file's questions of a library made of its articles.

    Args:
        squad: SQuAD v1.1/v2.0 file (unanswerable questions are left out).
        reader_model: reader directory.
        embedder_model: sentence-transformers directory for the library.
        k: passages read per question (the app's default is 5).
        every: ask every ``every``-th question (the whole file is still the library).
        articles: only the first ``articles`` articles (as library and questions).
        limit: at most ``limit`` questions (after ``every``).
        calibrate: choose the passage-scoring weights with the best F1 on these questions and
            store them in the reader's ``answerspan.json``; the result also gives the F1 of
            weights chosen on one half of the questions and scored on the other.
        latency_sample: questions timed one at a time through search and ``Reader.read``.
        progress: a tqdm bar on stderr.

    Returns:
        ``{"questions", "documents", "passages", "k", "em", "f1", "answered", "answered_f1",
        "gold_passage_read", "unweighted": {"em", "f1"}, "rank_penalty",
        "no_answer_weight", "p50_ms", "seconds", ...}``; with ``calibrate`` also
        ``"calibration"``.
    """
    started = time.perf_counter()
    docs, questions = squad_corpus(Path(squad), articles)
    questions = questions[::every][: limit or None]
    reader = Reader(reader_model)
    reader.warm_up()
    embedder = Embedder(embedder_model)
    with temporary_library(docs, embedder) as (library, index_seconds):
        vectors = embedder.encode([q.question for q in questions], batch_size=128)
        iterator = enumerate(questions)
        if progress:
            from tqdm import tqdm

            iterator = tqdm(iterator, total=len(questions), unit="q", leave=False)
        asked = []
        for i, q in iterator:
            hits = library.search(q.question, k=k, query_vector=vectors[i])
            preds = reader.predict_pairs([q.question] * len(hits), [h.chunk.text for h in hits])
            gold = next((r for r, h in enumerate(hits)
                         if h.document == q.document and h.chunk.page == q.page), None)
            asked.append(_Asked(q, preds, gold))
        latencies = _latencies(library, reader, questions, k, latency_sample)
        passages = library.store.chunk_count()

    weights = reader.passage_weights
    result: dict = {
        "file": str(squad),
        "reader": str(reader_model),
        "questions": len(asked),
        "documents": len(docs),
        "passages": passages,
        "k": k,
        "index_seconds": round(index_seconds, 1),
        "gold_passage_read": round(sum(a.gold_rank is not None for a in asked)
                                   / max(1, len(asked)), 4),
        "rank_penalty": weights[0],
        "no_answer_weight": weights[1],
        **_scores(asked, *weights),
        "answered": round(sum(_answers(a, reader.no_answer_threshold) for a in asked)
                          / max(1, len(asked)), 4),
        "unweighted": _scores(asked, 0.0, 0.0),
    }
    answered = [a for a in asked if _answers(a, reader.no_answer_threshold)]
    result["answered_f1"] = _scores(answered, *weights)["f1"] if answered else 0.0
    if calibrate:
        result["calibration"] = _calibrate(asked)
        best = result["calibration"]["best"]
        write_passage_weights(reader_model, best["rank_penalty"], best["no_answer_weight"],
                              Path(squad).name, len(asked), k, best["f1"])
    result["p50_ms"] = round(statistics.median(latencies), 1) if latencies else 0.0
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _answers(asked: _Asked, threshold: float) -> bool:
    """Whether the reader answers (does not abstain), as ``Reader.read`` decides."""
    return bool(asked.passages) and min(p.no_answer_score for p in asked.passages) <= threshold


def _scores(asked: list[_Asked], rank_penalty: float, no_answer_weight: float) -> dict:
    """SQuAD EM/F1 (0-100) of the first answer, answering every question."""
    pairs = [score_question(a.answer(rank_penalty, no_answer_weight), a.question.answers)
             for a in asked]
    n = max(1, len(pairs))
    return {"em": round(100 * sum(e for e, _ in pairs) / n, 2),
            "f1": round(100 * sum(f for _, f in pairs) / n, 2)}


def _choose(grid: list[tuple[float, float]], f1) -> tuple[float, float]:
    """The smallest weights (rank penalty first) within ``F1_TOLERANCE`` of the best F1."""
    top = max(f1(w) for w in grid)
    return min(w for w in grid if f1(w) >= top - F1_TOLERANCE)


def _calibrate(asked: list[_Asked]) -> dict:
    """Weights chosen on all questions (:func:`_choose`), and a two-fold check of the choice:
    chosen on one half of the questions, scored on the other."""
    grid = list(itertools.product(RANK_PENALTIES, NO_ANSWER_WEIGHTS))
    halves = (asked[::2], asked[1::2])
    f1 = {w: [_scores(h, *w)["f1"] for h in halves] for w in grid}

    def overall(w: tuple[float, float]) -> float:
        return (f1[w][0] * len(halves[0]) + f1[w][1] * len(halves[1])) / max(1, len(asked))

    best = _choose(grid, overall)
    folds = []
    for tune, test in ((0, 1), (1, 0)):
        chosen = _choose(grid, lambda w, t=tune: f1[w][t])
        folds.append({"rank_penalty": chosen[0], "no_answer_weight": chosen[1],
                      "tuned_f1": f1[chosen][tune], "held_out_f1": f1[chosen][test],
                      "held_out_unweighted_f1": f1[(0.0, 0.0)][test]})
    return {
        "best": {"rank_penalty": best[0], "no_answer_weight": best[1],
                 "f1": round(overall(best), 2)},
        "two_fold": folds,
        "best_on_grid": round(max(overall(w) for w in grid), 2),
        "grid": {f"{w[0]},{w[1]}": round(overall(w), 2) for w in grid},
    }


def _latencies(library, reader: Reader, questions: list[SquadQuestion], k: int,
               sample: int) -> list[float]:
    """Milliseconds per question through search and ``Reader.read``, one at a time."""
    if not questions or sample <= 0:
        return []
    library.search("warm up", k=k)
    step = max(1, len(questions) // sample)
    out = []
    for q in questions[::step][:sample]:
        t = time.perf_counter()
        reader.read(q.question, library.search(q.question, k=k))
        out.append((time.perf_counter() - t) * 1000)
    return out


def write_passage_weights(model_dir: str, rank_penalty: float, no_answer_weight: float,
                          source: str, n: int, k: int, f1: float) -> None:
    """Store the passage-scoring weights in the reader's ``answerspan.json``."""
    path = Path(model_dir) / "answerspan.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    settings["passage_scoring"] = {
        "rank_penalty": rank_penalty,
        "no_answer_weight": no_answer_weight,
        "calibrated_on": {"file": source, "questions": n, "k": k, "f1": f1},
    }
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    log.info("wrote passage weights %.2f / %.2f to %s", rank_penalty, no_answer_weight, path)

