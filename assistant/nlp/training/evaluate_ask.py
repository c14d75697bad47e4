"""End-to-end question answering over a library, as ``answerspan ask`` does it.

``evaluate reader`` gives the reader each question's own paragraph. A user's question instead
goes to the search, and the reader reads the ``k`` passages it returns, most of which do not
answer. This builds a temporary library from a SQuAD file (an article per document, a paragraph
per page; ``retrieval.evaluation.squad_corpus``), asks every question, and scores the best
answer with the official SQuAD EM/F1. It also calibrates the two weights of
``assistant.nlp.reader.passage_score`` that rank answers across passages and, keeping every
second article out of the library (``leave_out``), the no-answer threshold of ``Reader.read``:
the questions of a left-out article are ones the library does not answer.
"""

from __future__ import annotations

import itertools
import logging
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError
from assistant.nlp.models import update_model_settings
from assistant.nlp.reader import PairPrediction, Reader, offers_guess, passage_score
from assistant.nlp.training.squad_metrics import (
    best_threshold,
    guess_threshold,
    score_question,
    squad_scores,
)
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
# When the reader abstains, the app still shows its best span as a guess, labelled "not
# confident", if the no-answer score is in the band where such guesses score at least this mean
# F1 (0-1) over the calibration questions, half of which the library cannot answer. A labelled
# wrong guess costs the user a glance; a right one saves reading the passages: one right in
# three is worth showing.
GUESS_MIN_F1 = 1 / 3


@dataclass(frozen=True)
class _Asked:
    """One question: the reader's best span in each passage read, in retrieval order."""

    question: SquadQuestion
    passages: list[PairPrediction]
    gold_rank: int | None  # rank of the question's own paragraph among the passages, if read

    def answer(self, rank_penalty: float, no_answer_weight: float) -> str:
        """The text ``Reader.read`` would put first with these weights."""
        best = first_passage(self.passages, rank_penalty, no_answer_weight)
        return self.passages[best].text if best is not None else ""


def first_passage(passages: Sequence[PairPrediction], rank_penalty: float,
                  no_answer_weight: float) -> int | None:
    """Index of the passage whose best span ``Reader.read`` puts first (``passages`` in
    retrieval order, each with its best span), or None when there are none."""
    if not passages:
        return None
    return max(range(len(passages)), key=lambda i: passage_score(
        passages[i].score, i, passages[i].no_answer_score, rank_penalty, no_answer_weight))


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
    leave_out: bool = False,
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
            weights chosen on one half of the questions and scored on the other. With
            ``leave_out``, store instead the no-answer threshold of ``Reader.read`` with the
            best F1 over in- and off-library questions together (at the stored weights).
        leave_out: keep every second article out of the library and ask its questions too:
            the documents do not answer them, so the reader should abstain (the result's
            ``abstention``). EM/F1 use the in-library questions only.
        latency_sample: questions timed one at a time through search and ``Reader.read``.
        progress: a tqdm bar on stderr.

    Returns:
        ``{"questions", "documents", "passages", "k", "em", "f1", "answered", "answered_f1",
        "gold_passage_read", "unweighted": {"em", "f1"}, "rank_penalty",
        "no_answer_weight", "p50_ms", "seconds", ...}``; with ``calibrate`` also
        ``"calibration"``; with ``leave_out`` also ``"abstention"`` (with the band of no-answer
        scores where the app shows its best span as a guess, ``guess_threshold``, also stored
        by ``calibrate``).
    """
    started = time.perf_counter()
    docs, questions = squad_corpus(Path(squad), articles)
    questions = questions[::every][: limit or None]
    if leave_out:
        if len(docs) < 2:
            raise ConfigError("--leave-out needs at least two articles: one in the library, "
                              "one left out.")
        docs = docs[::2]
    reader = Reader(reader_model)
    reader.warm_up()
    embedder = Embedder(embedder_model)
    in_library = {d.path for d in docs}
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
        off = [a for a in asked if a.question.document not in in_library]
        asked = [a for a in asked if a.question.document in in_library]
        latencies = _latencies(library, reader, [a.question for a in asked], k, latency_sample)
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
        "answered": round(sum(_answers(a, reader.read_threshold) for a in asked)
                          / max(1, len(asked)), 4),
        "unweighted": _scores(asked, 0.0, 0.0),
    }
    answered = [a for a in asked if _answers(a, reader.read_threshold)]
    result["answered_f1"] = _scores(answered, *weights)["f1"] if answered else 0.0
    if off:
        result["abstention"] = _abstention(asked, off, reader.read_threshold, weights,
                                           reader.guess_threshold)
    if calibrate and leave_out:
        if not off:
            raise ConfigError("No question of a left-out article was asked (see --limit and "
                              "--every), so there is no threshold to calibrate.")
        # The weights stay as they are: they were chosen over the whole library.
        found = _abstention(asked, off, None, weights, None)
        result["calibration"] = {"abstention": found}
        write_library_threshold(reader_model, found["best_threshold"], Path(squad).name,
                                len(asked), len(off), k, found["f1"], found["guess_threshold"])
    elif calibrate:
        result["calibration"] = _calibrate(asked)
        best = result["calibration"]["best"]
        write_passage_weights(reader_model, best["rank_penalty"], best["no_answer_weight"],
                              Path(squad).name, len(asked), k, best["f1"])
    result["p50_ms"] = round(statistics.median(latencies), 1) if latencies else 0.0
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _abstention(asked: list[_Asked], off: list[_Asked], threshold: float | None,
                weights: tuple[float, float], guess_at: float | None) -> dict:
    """How well the reader abstains on off-library questions at ``threshold`` (or, with None,
    at the threshold with the best F1 over all questions, abstaining on an off-library one
    scoring 1, as in SQuAD v2.0), what that costs the in-library ones, and the guesses shown
    when abstaining up to the no-answer score ``guess_at`` (None: calibrated here)."""
    both = asked + off
    golds = {str(i): list(a.question.answers) if i < len(asked) else []
             for i, a in enumerate(both)}
    texts = {str(i): a.answer(*weights) for i, a in enumerate(both)}
    margins = {str(i): min((p.no_answer_score for p in a.passages), default=math.inf)
               for i, a in enumerate(both)}
    out: dict = {"off_library_questions": len(off)}
    if threshold is None:
        threshold, _ = best_threshold(texts, golds, margins)
        out["best_threshold"] = round(threshold, 3)
    scores = squad_scores(texts, golds, margins, threshold)
    # A guess for an off-library question is wrong whatever it says.
    f1s = {str(i): score_question(texts[str(i)], a.question.answers)[1] if i < len(asked)
           else 0.0 for i, a in enumerate(both)}
    if guess_at is None:
        guess_at = guess_threshold([(margins[q], f1s[q]) for q in margins], threshold,
                                   GUESS_MIN_F1)
    guessed = [q for q in margins if offers_guess(margins[q], threshold, guess_at)]
    out.update({
        "threshold": round(threshold, 3),
        "f1": round(scores["f1"], 2),
        "in_library_f1": round(scores["has_ans_f1"], 2),
        "in_library_answered": round(sum(_answers(a, threshold) for a in asked)
                                     / max(1, len(asked)), 4),
        "off_library_abstained": round(sum(not _answers(a, threshold) for a in off)
                                       / max(1, len(off)), 4),
        "guess_threshold": round(guess_at, 3) if math.isfinite(guess_at) else None,
        "in_library_guessed": round(sum(int(q) < len(asked) for q in guessed)
                                    / max(1, len(asked)), 4),
        "off_library_guessed": round(sum(int(q) >= len(asked) for q in guessed)
                                     / max(1, len(off)), 4),
        "guess_f1": round(100 * statistics.fmean(f1s[q] for q in guessed), 2) if guessed
        else 0.0,
    })
    return out


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


def write_library_threshold(model_dir: str, threshold: float, source: str, n: int,
                            off_library: int, k: int, f1: float, guess_at: float) -> None:
    """Store the no-answer threshold of ``Reader.read`` and its guess threshold in the reader's
    ``answerspan.json`` (``passage_scoring``; the weights there are kept)."""
    def change(settings: dict) -> None:
        scoring = settings.setdefault("passage_scoring", {})
        scoring["no_answer_threshold"] = threshold
        scoring["guess_threshold"] = guess_at
        scoring["threshold_calibrated_on"] = {
            "file": source, "questions": n, "off_library_questions": off_library, "k": k,
            "f1": f1}

    path = update_model_settings(model_dir, change)
    log.info("wrote the library no-answer threshold %.3f to %s", threshold, path)


def write_passage_weights(model_dir: str, rank_penalty: float, no_answer_weight: float,
                          source: str, n: int, k: int, f1: float) -> None:
    """Store the passage-scoring weights in the reader's ``answerspan.json`` (a library
    no-answer threshold there is kept)."""
    def change(settings: dict) -> None:
        scoring = settings.setdefault("passage_scoring", {})
        scoring.update({
            "rank_penalty": rank_penalty,
            "no_answer_weight": no_answer_weight,
            "calibrated_on": {"file": source, "questions": n, "k": k, "f1": f1},
        })

    path = update_model_settings(model_dir, change)
    log.info("wrote passage weights %.2f / %.2f to %s", rank_penalty, no_answer_weight, path)

