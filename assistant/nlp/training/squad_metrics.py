"""The official SQuAD v1.1 / v2.0 exact match and F1, and the no-answer threshold search.

Normalisation follows the official evaluation scripts: lower-case, remove punctuation, remove
the articles a/an/the, collapse whitespace. A question's score is the maximum over its gold
answers. For v2.0 an unanswerable question's only gold answer is the empty string, so the
prediction scores 1 exactly when it is empty too.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (official SQuAD)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalized strings are equal."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token-overlap F1 of normalized strings (both empty counts as a match, as in v2.0)."""
    pred_toks = normalize_answer(prediction).split()
    gold_toks = normalize_answer(gold).split()
    if not pred_toks or not gold_toks:
        return float(pred_toks == gold_toks)
    common = collections.Counter(pred_toks) & collections.Counter(gold_toks)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_toks)
    recall = same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def _golds(answers: Sequence[str]) -> list[str]:
    # Official v2.0: an unanswerable question (no gold answers) has the single gold "".
    return list(answers) if answers else [""]


def score_question(prediction: str, answers: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) of one prediction, each the max over gold answers."""
    golds = _golds(answers)
    return (
        max(exact_match(prediction, g) for g in golds),
        max(f1_score(prediction, g) for g in golds),
    )


def squad_scores(
    predictions: Mapping[str, str],
    golds: Mapping[str, Sequence[str]],
    no_answer_scores: Mapping[str, float] | None = None,
    threshold: float | None = None,
) -> dict:
    """EM/F1 in percent over ``golds`` (a missing prediction counts as empty).

    With ``no_answer_scores`` and ``threshold``, a question whose score is above the threshold
    is answered with "" (abstains). When the gold set holds unanswerable questions, the result
    also has ``has_ans_em/f1`` and ``no_ans_em/f1`` (v2.0 breakdown) and the counts.
    """
    ems, f1s = {}, {}
    for qid, answers in golds.items():
        pred = predictions.get(qid, "")
        abstains = (no_answer_scores is not None and threshold is not None
                    and no_answer_scores.get(qid, float("inf")) > threshold)
        if abstains:
            pred = ""
        ems[qid], f1s[qid] = score_question(pred, answers)
    out = _summary(ems, f1s, list(golds))
    has = [q for q, a in golds.items() if a]
    no = [q for q, a in golds.items() if not a]
    if no:
        for name, ids in (("has_ans", has), ("no_ans", no)):
            part = _summary(ems, f1s, ids)
            out[f"{name}_em"], out[f"{name}_f1"] = part["em"], part["f1"]
            out[f"{name}_total"] = len(ids)
    return out


def _summary(ems: Mapping[str, float], f1s: Mapping[str, float], ids: Sequence[str]) -> dict:
    n = len(ids)
    if n == 0:
        return {"em": 0.0, "f1": 0.0, "total": 0}
    return {
        "em": 100.0 * sum(ems[q] for q in ids) / n,
        "f1": 100.0 * sum(f1s[q] for q in ids) / n,
        "total": n,
    }


def best_threshold(
    predictions: Mapping[str, str],
    golds: Mapping[str, Sequence[str]],
    no_answer_scores: Mapping[str, float],
    metric: str = "f1",
) -> tuple[float, float]:
    """The no-answer threshold maximizing overall ``metric`` (official v2.0 ``find_best_thresh``).

    Sweeps the threshold over the sorted no-answer scores: questions below it keep their
    answers, those above abstain. Returns (threshold, best metric in percent).
    """
    scorer = f1_score if metric == "f1" else exact_match
    qids = list(golds)
    # Start with every question abstaining (threshold below every score): only unanswerable
    # ones score. Then let questions answer in order of increasing no-answer score.
    current = float(sum(1 for q in qids if not golds[q]))
    scores = [no_answer_scores.get(q, float("inf")) for q in qids]
    finite = [s for s in scores if s != float("inf")]
    best, best_thresh = current, (min(finite) - 1.0) if finite else 0.0
    for qid in sorted(qids, key=lambda q: no_answer_scores.get(q, float("inf"))):
        pred = predictions.get(qid, "")
        answered = max(scorer(pred, g) for g in _golds(golds[qid]))
        abstained = 0.0 if golds[qid] else 1.0
        current += answered - abstained
        if current > best:
            best, best_thresh = current, no_answer_scores.get(qid, float("inf"))
    return float(best_thresh), 100.0 * best / max(len(qids), 1)


def threshold_keeping_answers(
    predictions: Mapping[str, str],
    golds: Mapping[str, Sequence[str]],
    no_answer_scores: Mapping[str, float],
    keep: float,
) -> tuple[float, dict]:
    """The threshold with the best overall F1 that keeps ``keep`` of the has-answer F1.

    The plain v2.0 optimum (``best_threshold``) of a weak reader can abstain on most answerable
    questions, which makes an assistant useless; this caps the loss on answerable questions at
    ``1 - keep`` of their F1 without any threshold. Returns (threshold, scores at it).
    """
    if not 0.0 < keep <= 1.0:
        raise ValueError("keep must be in (0, 1]")
    floor = keep * squad_scores(predictions, golds)["has_ans_f1"] if any(
        not a for a in golds.values()
    ) else 0.0
    ordered = sorted(set(no_answer_scores.values()))
    # ~200 candidate cut points are plenty: the F1 curve is flat between neighbouring scores.
    step = max(1, len(ordered) // 200)
    best: tuple[float, dict] | None = None
    for cut in ordered[::step] + [ordered[-1]]:
        scores = squad_scores(predictions, golds, no_answer_scores, cut)
        if scores.get("has_ans_f1", 100.0) >= floor and (best is None or scores["f1"] > best[1]["f1"]):
            best = (float(cut), scores)
    assert best is not None  # the largest cut abstains on nothing, so it always meets the floor
    return best


def guess_threshold(
    abstentions: Sequence[tuple[float, float]], threshold: float, min_f1: float
) -> float:
    """Up to which no-answer score an abstaining reader's best span is still worth showing.

    ``abstentions`` holds ``(no-answer score, F1 of the best span)`` for questions the reader
    abstains on at ``threshold`` (F1 0 for a question the documents do not answer). Shown as
    guesses are those with a score up to the returned value; it is the highest score at which
    the guesses shown have a mean F1 (0-1) of at least ``min_f1``, or ``threshold`` itself (no
    guesses) when even the closest abstentions fall short.
    """
    best = threshold
    total = 0.0
    ordered = sorted((s, f) for s, f in abstentions if s > threshold)
    for n, (score, f1) in enumerate(ordered, 1):
        total += f1
        if total / n >= min_f1 and (n == len(ordered) or ordered[n][0] > score):
            best = float(score)  # only between distinct scores: a tie shows all or none
    return best
