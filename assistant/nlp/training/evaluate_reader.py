"""Evaluate a reader on a SQuAD-format file (v1.1 or v2.0) and calibrate its no-answer threshold."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from assistant.nlp.models import update_model_settings
from assistant.nlp.training.squad_data import load_examples
from assistant.nlp.training.squad_metrics import (
    best_threshold,
    squad_scores,
    threshold_keeping_answers,
)

log = logging.getLogger(__name__)


def evaluate_reader(
    model_dir: str,
    squad_file: str,
    limit: int | None = None,
    calibrate: bool = False,
    batch_size: int = 64,
    keep_answers: float | None = None,
) -> dict:
    """Official EM/F1 of the reader in ``model_dir`` on ``squad_file``.

    Each question is read against its own paragraph. For files with unanswerable questions
    (v2.0) the result adds the has-answer / no-answer breakdown at the model's threshold, and
    with ``calibrate`` also the best threshold on this file (``best_threshold``, ``best_f1``)
    and writes it into the model's ``answerspan.json``. With ``keep_answers`` (0-1], the
    threshold written is the best one that keeps that share of the has-answer F1 instead.

    Returns:
        dict with ``em``, ``f1``, ``questions``, ``seconds`` (and v2.0 fields).
    """
    from assistant.nlp.reader import Reader

    examples = load_examples(squad_file, limit=limit)
    reader = Reader(model_dir, batch_size=batch_size)
    reader.warm_up()
    started = time.perf_counter()
    preds = reader.predict_pairs([e.question for e in examples], [e.context for e in examples])
    seconds = time.perf_counter() - started
    # Gold ids can repeat across files of other sets; key by position to be safe.
    golds = {f"{i}": e.answer_texts for i, e in enumerate(examples)}
    texts = {f"{i}": p.text for i, p in enumerate(preds)}
    na = {f"{i}": p.no_answer_score for i, p in enumerate(preds)}
    v2 = any(e.is_impossible for e in examples)
    result: dict = {"file": Path(squad_file).name, "questions": len(examples)}
    if v2:
        threshold = reader.no_answer_threshold
        scores = squad_scores(texts, golds, na, threshold)
        result.update(_rounded(scores))
        result["threshold"] = threshold
        if calibrate:
            best, best_f1 = best_threshold(texts, golds, na, "f1")
            at_best = squad_scores(texts, golds, na, best)
            result["best_threshold"] = round(best, 4)
            result["best_f1"] = round(best_f1, 2)
            result["at_best_threshold"] = _rounded(at_best)
            if keep_answers is not None:
                best, at_best = threshold_keeping_answers(texts, golds, na, keep_answers)
                result["kept_threshold"] = round(best, 4)
                result["at_kept_threshold"] = _rounded(at_best)
            write_threshold(model_dir, best, Path(squad_file).name, len(examples), at_best)
    else:
        # v1.1: every question has an answer, so the reader never abstains here.
        result.update(_rounded(squad_scores(texts, golds)))
        if calibrate:
            log.warning("not calibrating on %s: it has no unanswerable questions", squad_file)
    result["seconds"] = round(seconds, 2)
    result["ms_per_question"] = round(1000 * seconds / max(len(examples), 1), 2)
    return result


def _rounded(scores: dict) -> dict:
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in scores.items()}


def write_threshold(model_dir: str, threshold: float, source: str, n: int, scores: dict) -> None:
    """Store the calibrated threshold in the model's ``answerspan.json``."""
    def change(settings: dict) -> None:
        settings["no_answer_threshold"] = round(float(threshold), 4)
        settings["calibrated_on"] = {
            "file": source,
            "questions": n,
            "f1": round(scores["f1"], 2),
            "has_ans_f1": round(scores.get("has_ans_f1", 0.0), 2),
            "no_ans_f1": round(scores.get("no_ans_f1", 0.0), 2),
        }

    path = update_model_settings(model_dir, change)
    log.info("wrote threshold %.4f to %s", threshold, path)
