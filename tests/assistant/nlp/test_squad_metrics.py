"""Official SQuAD normalisation, EM/F1 and the v2.0 threshold search on hand-checked cases."""

from __future__ import annotations

import pytest

from assistant.nlp.training.squad_metrics import (
    best_threshold,
    exact_match,
    f1_score,
    guess_threshold,
    normalize_answer,
    score_question,
    squad_scores,
    threshold_keeping_answers,
)


def test_normalize_like_the_official_script() -> None:
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a pear & the end.") == "apple pear end"
    assert normalize_answer("Théâtre") == "théâtre"  # no accent folding in the official script
    assert normalize_answer("theory") == "theory"  # articles only as whole words


def test_em_and_f1_known_values() -> None:
    assert exact_match("the Broncos", "Broncos") == 1.0
    assert f1_score("Denver Broncos team", "Denver Broncos") == pytest.approx(0.8)
    assert f1_score("Carolina Panthers", "Denver Broncos") == 0.0
    assert f1_score("", "") == 1.0 and f1_score("x", "") == 0.0


def test_max_over_gold_answers() -> None:
    em, f1 = score_question("Santa Clara", ["Levi's Stadium", "Santa Clara, California"])
    assert em == 0.0
    assert f1 == pytest.approx(0.8)


def test_v2_breakdown_and_abstaining() -> None:
    golds = {"a": ["Denver Broncos"], "b": [], "c": ["1990"]}
    preds = {"a": "Denver Broncos", "b": "Paris", "c": "1991"}
    na = {"a": -3.0, "b": 2.0, "c": 1.0}
    plain = squad_scores(preds, golds)
    assert plain["em"] == pytest.approx(100 / 3)
    assert plain["has_ans_total"] == 2 and plain["no_ans_total"] == 1
    assert plain["no_ans_f1"] == 0.0
    at_zero = squad_scores(preds, golds, na, threshold=0.0)  # b and c abstain
    assert at_zero["em"] == pytest.approx(200 / 3)
    assert at_zero["has_ans_f1"] == 50.0 and at_zero["no_ans_f1"] == 100.0


def test_best_threshold_separates_answerable_from_not() -> None:
    golds = {"a": ["x"], "b": [], "c": ["y"], "d": []}
    preds = {"a": "x", "b": "z", "c": "y", "d": "w"}
    na = {"a": -2.0, "c": -1.0, "b": 1.0, "d": 3.0}
    thresh, f1 = best_threshold(preds, golds, na)
    assert f1 == 100.0
    assert -1.0 <= thresh < 1.0
    assert squad_scores(preds, golds, na, thresh)["f1"] == 100.0


def test_best_threshold_can_abstain_on_everything() -> None:
    golds = {"a": [], "b": []}
    thresh, f1 = best_threshold({"a": "p", "b": "q"}, golds, {"a": 0.5, "b": 0.7})
    assert f1 == 100.0 and thresh < 0.5


def test_threshold_keeping_answers_caps_the_loss_on_answerable_questions() -> None:
    # Two unanswerable questions look more confident than two of the three answerable ones,
    # so the plain optimum abstains on those answerable ones too.
    golds = {"a": ["x"], "b": ["y"], "c": ["z"], "n1": [], "n2": [], "n3": [], "n4": []}
    preds = {"a": "x", "b": "y", "c": "z", "n1": "p", "n2": "q", "n3": "r", "n4": "s"}
    na = {"a": -3.0, "n1": -2.0, "n2": -1.5, "b": 1.0, "c": 2.0, "n3": 3.0, "n4": 4.0}
    plain, _ = best_threshold(preds, golds, na)
    assert squad_scores(preds, golds, na, plain)["has_ans_f1"] < 50.0
    kept, scores = threshold_keeping_answers(preds, golds, na, keep=0.9)
    assert scores["has_ans_f1"] == 100.0  # every answerable question still answered
    assert scores["no_ans_f1"] == 50.0  # n3, n4 abstain; n1, n2 (surer than b and c) answer
    assert 2.0 <= kept < 3.0
    with pytest.raises(ValueError):
        threshold_keeping_answers(preds, golds, na, keep=0.0)


def test_guess_threshold_widens_while_the_guesses_stay_good_enough() -> None:
    # (no-answer score, F1 of the guess); the first is below the threshold: answered, not a guess
    abstentions = [(-20.0, 0.0), (-9.0, 1.0), (-8.0, 0.0), (-7.0, 1.0), (-5.0, 0.0), (-1.0, 0.0)]
    # mean F1 of the guesses up to each score: 1, 1/2, 2/3, 1/2, 2/5
    assert guess_threshold(abstentions, -10.0, min_f1=0.5) == -5.0
    assert guess_threshold(abstentions, -10.0, min_f1=0.6) == -7.0
    assert guess_threshold(abstentions, -10.0, min_f1=1.0) == -9.0
    assert guess_threshold([(-9.0, 0.0), (-8.0, 1.0)], -10.0, min_f1=0.6) == -10.0  # none


def test_guess_threshold_never_splits_tied_scores() -> None:
    assert guess_threshold([(-9.0, 1.0), (-9.0, 0.0), (-9.0, 0.0)], -10.0, min_f1=0.5) == -10.0
    assert guess_threshold([(-9.0, 1.0), (-9.0, 1.0), (-9.0, 0.0)], -10.0, min_f1=0.5) == -9.0
