"""Ranking answers across passages, and ``evaluate ask`` (search + reader over a SQuAD library)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from assistant.nlp.reader import Reader, passage_score
from retrieval.types import Chunk, Hit


def test_passage_score_penalises_rank_and_no_answer_margin() -> None:
    assert passage_score(7.0, 0, 2.0, 3.0, 0.0) == 7.0  # the first passage pays no rank penalty
    assert passage_score(7.0, 2, 0.0, 3.0, 0.5) == pytest.approx(7.0 - 3.0 * math.log(3))
    # A passage the reader thinks holds no answer (large margin) ranks lower.
    assert passage_score(7.0, 0, 4.0, 0.0, 0.5) < passage_score(7.0, 0, -4.0, 0.0, 0.5)
    # Without weights it is the span score: answers rank as the raw logits do.
    assert passage_score(7.0, 9, 4.0, 0.0, 0.0) == 7.0


# -- the bundled reader (slow) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def model_dir() -> Path:
    from assistant.nlp.models import bundled_model_dir

    found = bundled_model_dir("reader")
    assert found is not None, "the bundled reader is missing from resources/models/reader"
    return found


@pytest.mark.slow
def test_evaluation_picks_what_the_reader_answers(model_dir: Path, data_dir: Path,
                                                  embedder) -> None:
    """The benchmark scores exactly the first answer ``Reader.read`` gives over the search's
    passages (so its numbers are the app's)."""
    from assistant.nlp.training.evaluate_ask import _Asked
    from retrieval.evaluation import squad_corpus, temporary_library

    docs, questions = squad_corpus(data_dir / "qa" / "squad-v1.1-dev.json.gz", articles=1)
    reader = Reader(str(model_dir))
    weights = reader.passage_weights
    with temporary_library(docs, embedder) as (library, _):
        for q in questions[::40][:6]:
            hits = library.search(q.question, k=5)
            preds = reader.predict_pairs([q.question] * len(hits), [h.chunk.text for h in hits])
            first = reader.read(q.question, hits).answers[0]
            assert _Asked(q, preds, None).answer(*weights) == \
                hits[first.hit_index].chunk.text[first.start : first.end]


@pytest.mark.slow
def test_rank_decides_between_equal_passages(model_dir: Path, data_dir: Path) -> None:
    from assistant.nlp.training.squad_data import load_examples

    e = load_examples(data_dir / "qa" / "squad-v1.1-dev.json.gz", limit=1)[0]
    other = "The river rises in the mountains and flows north for 300 kilometres to the sea."
    hits = [Hit(Chunk(i, 1, 0, len(c), c), 1.0, f"doc{i}.txt")
            for i, c in enumerate([other, e.context, e.context])]
    out = Reader(str(model_dir), rank_penalty=3.0, no_answer_weight=0.75).read(e.question, hits)
    assert out.answers[0].hit_index == 1  # the same span at rank 2 ranks below rank 1


@pytest.mark.slow
def test_evaluate_ask_cli_json_and_calibration(model_dir: Path, data_dir: Path, tmp_path: Path,
                                               capsys) -> None:
    from assistant.cli import main

    copy = tmp_path / "reader"
    shutil.copytree(model_dir, copy)
    v1 = str(data_dir / "qa" / "squad-v1.1-dev.json.gz")
    assert main(["evaluate", "ask", "--squad", v1, "--model", str(copy), "--articles", "1",
                 "--every", "3", "--limit", "16", "-k", "3", "--calibrate", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questions"] == 16 and result["documents"] == 1 and result["k"] == 3
    assert 0 <= result["unweighted"]["f1"] <= 100 and 0 <= result["f1"] <= 100
    assert result["f1"] >= 40  # Super Bowl 50 questions over its own 54 paragraphs
    assert result["gold_passage_read"] >= 0.7 and 0 <= result["answered"] <= 1
    best = result["calibration"]["best"]
    grid = {tuple(map(float, w.split(","))): f1 for w, f1 in
            result["calibration"]["grid"].items()}
    top = result["calibration"]["best_on_grid"]
    assert top == max(grid.values()) and best["f1"] >= top - 0.3
    # the smallest weights that come that close: trust the retrieval rank no more than needed
    chosen = (best["rank_penalty"], best["no_answer_weight"])
    assert all(f1 < top - 0.3 for w, f1 in grid.items() if w < chosen)
    assert len(result["calibration"]["two_fold"]) == 2
    stored = json.loads((copy / "answerspan.json").read_text())
    assert stored["passage_scoring"]["rank_penalty"] == best["rank_penalty"]
    assert stored["no_answer_threshold"] == json.loads(
        (model_dir / "answerspan.json").read_text())["no_answer_threshold"]  # left as it was
    assert Reader(str(copy)).passage_weights == (best["rank_penalty"], best["no_answer_weight"])
    assert main(["evaluate", "ask", "--squad", v1, "-k", "0"]) == 2  # a clear error, no crash


@pytest.mark.slow
def test_evaluate_ask_leave_out_calibrates_the_library_threshold(model_dir: Path, data_dir: Path,
                                                                 tmp_path: Path, capsys) -> None:
    """With ``--leave-out`` the second article stays out of the library: its questions should be
    abstained on, and calibration stores the threshold ``Reader.read`` then uses."""
    from assistant.cli import main

    copy = tmp_path / "reader"
    shutil.copytree(model_dir, copy)
    v1 = str(data_dir / "qa" / "squad-v1.1-dev.json.gz")
    assert main(["evaluate", "ask", "--squad", v1, "--model", str(copy), "--articles", "2",
                 "--every", "40", "--leave-out", "--calibrate", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["documents"] == 1  # Super Bowl 50 only; Warsaw is left out
    at_reader, at_best = result["abstention"], result["calibration"]["abstention"]
    assert at_reader["off_library_questions"] == at_best["off_library_questions"] > 0
    assert result["questions"] > 0  # in-library questions score EM/F1 as before
    assert at_best["off_library_abstained"] >= 0.5  # Warsaw questions over Super Bowl pages
    stored = json.loads((copy / "answerspan.json").read_text())["passage_scoring"]
    before = json.loads((model_dir / "answerspan.json").read_text())["passage_scoring"]
    assert stored["no_answer_threshold"] == at_best["best_threshold"]
    assert stored["threshold_calibrated_on"]["off_library_questions"] == \
        at_best["off_library_questions"]
    # the weights (chosen over a whole library) are kept, and used for the threshold
    assert (stored["rank_penalty"], stored["no_answer_weight"]) == \
        (before["rank_penalty"], before["no_answer_weight"])
    assert Reader(str(copy)).read_threshold == at_best["best_threshold"]
    # ...and the band above it where the best span is still shown as a guess
    assert stored["guess_threshold"] == at_best["guess_threshold"] >= at_best["best_threshold"]
    assert Reader(str(copy)).guess_threshold == stored["guess_threshold"]
    if at_best["guess_threshold"] > at_best["best_threshold"]:
        assert at_best["guess_f1"] >= 100 / 3
    # one article cannot be split into a library and questions it does not answer
    assert main(["evaluate", "ask", "--squad", v1, "--model", str(copy), "--articles", "1",
                 "--leave-out", "--calibrate"]) == 2
    assert json.loads((copy / "answerspan.json").read_text())["passage_scoring"] == stored
