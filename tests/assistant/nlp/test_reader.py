"""The reader: span-to-page mapping (no model), and the bundled reader on real SQuAD text (slow)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.nlp.reader import Reader, Span
from assistant.nlp.training.squad_data import QAExample, load_examples
from assistant.service import _answer
from retrieval.types import Chunk, Hit


def test_span_in_chunk_maps_to_page_offsets() -> None:
    """Assistant._answer turns chunk offsets into page offsets: page_text[start:end] == text."""
    page_text = ("Preface.\n" * 20) + "The committee met in Geneva on 4 May 1998 to vote."
    chunk_start = page_text.index("The committee")
    chunk = Chunk(doc_id=1, page=7, start=chunk_start - 9, end=len(page_text),
                  text=page_text[chunk_start - 9:], page_index=6,
                  tags={"sentiment": {"label": "neutral", "score": 0.9}})
    other = Chunk(doc_id=2, page=None, start=0, end=5, text="Hello")
    hits = [Hit(other, 0.5, "b.txt"), Hit(chunk, 0.9, "/docs/a.pdf")]
    in_chunk = chunk.text.index("Geneva")
    answer = _answer(Span(hit_index=1, start=in_chunk, end=in_chunk + 6, score=0.8), hits)
    assert answer.text == "Geneva" and answer.page == 7 and answer.document == "/docs/a.pdf"
    assert page_text[answer.start : answer.end] == "Geneva"
    assert answer.context[answer.start - answer.context_start :][:6] == "Geneva"
    assert answer.tags["sentiment"]["label"] == "neutral"


# -- the bundled reader (slow) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def model_dir() -> str:
    from assistant.nlp.models import bundled_model_dir

    found = bundled_model_dir("reader")
    if found is None:
        pytest.fail("the bundled reader is missing from resources/models/reader")
    return str(found)


@pytest.fixture(scope="module")
def reader(model_dir: str) -> Reader:
    r = Reader(model_dir)
    r.warm_up()
    return r


@pytest.fixture(scope="module")
def dev(data_dir: Path) -> list[QAExample]:
    return load_examples(data_dir / "qa" / "squad-v1.1-dev.json.gz", limit=120)


def _hits(contexts: list[str]) -> list[Hit]:
    return [Hit(Chunk(i, i + 1, 0, len(c), c), 1.0, f"doc{i}.txt") for i, c in enumerate(contexts)]


@pytest.mark.slow
def test_model_dir_is_fp16_with_card_and_threshold(model_dir: str) -> None:
    from safetensors import safe_open

    path = Path(model_dir)
    shards = sorted(path.glob("*.safetensors"))
    assert shards
    dtypes = set()
    for shard in shards:
        with safe_open(str(shard), "pt") as fh:
            dtypes |= {str(fh.get_tensor(k).dtype) for k in fh.keys()}  # noqa: SIM118
    assert dtypes == {"torch.float16"}
    assert sum(s.stat().st_size for s in shards) < 60_000_000
    settings = json.loads((path / "answerspan.json").read_text())
    assert isinstance(settings["no_answer_threshold"], float | int)
    # weights that rank answers across passages, calibrated by `answerspan evaluate ask`
    assert settings["passage_scoring"]["calibrated_on"]["questions"] >= 1000
    assert Reader(model_dir).passage_weights == (
        settings["passage_scoring"]["rank_penalty"], settings["passage_scoring"]["no_answer_weight"])
    # the threshold for reading a library, by `answerspan evaluate ask --leave-out --calibrate`
    assert settings["passage_scoring"]["threshold_calibrated_on"]["off_library_questions"] >= 1000
    assert Reader(model_dir).read_threshold == settings["passage_scoring"]["no_answer_threshold"]
    # the span length prior, chosen by `python bench/reader_decoding.py`
    assert Reader(model_dir).length_penalty == settings["span_length_penalty"] > 0
    card = (path / "README.md").read_text()
    assert "train reader" in card and "Hardware" in card


@pytest.mark.slow
def test_reads_the_right_passage_among_five(model_dir: str, dev: list[QAExample]) -> None:
    """Scores are comparable across passages: the questions about one paragraph, asked over it
    and four other Super Bowl paragraphs, are mostly answered from it, with its gold answer.
    (Raw span scores: no weight for the passages' retrieval ranks, which are made up here.)"""
    from assistant.nlp.training.squad_metrics import score_question

    reader = Reader(model_dir, rank_penalty=0.0, no_answer_weight=0.0)

    contexts = list(dict.fromkeys(e.context for e in dev))[:5]
    order = [contexts[3], contexts[1], contexts[0], contexts[4], contexts[2]]
    questions = [e for e in dev if e.context == contexts[0]]
    assert len(questions) >= 20
    right = 0
    for e in questions:
        out = reader.read(e.question, _hits(order), top_n=3)
        best = out.answers[0]
        assert 0 < best.score <= 1 and len(out.answers) <= 3
        assert [a.score for a in out.answers] == sorted((a.score for a in out.answers),
                                                        reverse=True)
        text = order[best.hit_index][best.start : best.end]
        right += best.hit_index == 2 and score_question(text, e.answer_texts)[1] >= 0.5
    # The bundled reader answers 18 of these 30 from the right passage with F1 >= 0.5 (the
    # others mostly pick a neighbour paragraph about the same game); chance would be 1 in 5.
    assert right >= 0.5 * len(questions)


@pytest.mark.slow
def test_batched_pairs_equal_one_by_one(reader: Reader, dev: list[QAExample]) -> None:
    """All windows in one padded batch give the same spans and scores as separate calls."""
    picked = dev[::24][:5]
    together = reader.predict_pairs([e.question for e in picked], [e.context for e in picked])
    for e, got in zip(picked, together, strict=True):
        alone = reader.predict_pairs([e.question], [e.context])[0]
        assert (got.start, got.end) == (alone.start, alone.end)
        assert got.score == pytest.approx(alone.score, abs=1e-3)
        assert e.context[got.start : got.end] == got.text


@pytest.mark.slow
def test_answer_in_a_later_window_of_a_long_passage(model_dir: str, dev: list[QAExample]) -> None:
    """A passage far longer than one window: the answer sits in its last window."""
    paragraphs = list(dict.fromkeys(e.context for e in dev))
    target = next(e for e in dev if e.question == "What does AFC stand for?")
    filler = "\n\n".join(p for p in paragraphs[1:6])
    assert "American Football Conference" not in filler  # only the last window can answer
    long_text = filler + "\n\n" + target.context
    reader = Reader(model_dir, max_length=128, stride=32)
    out = reader.read(target.question, _hits([long_text]), top_n=1)
    best = out.answers[0]
    assert best.start > len(filler)
    assert long_text[best.start : best.end] == "American Football Conference"


@pytest.mark.slow
def test_abstains_by_threshold(model_dir: str, dev: list[QAExample]) -> None:
    hits = _hits([dev[0].context])
    never = Reader(model_dir, no_answer_threshold=1e9).read(dev[0].question, hits)
    always = Reader(model_dir, no_answer_threshold=-1e9).read(dev[0].question, hits)
    assert not never.no_answer and always.no_answer
    assert never.no_answer_score == pytest.approx(always.no_answer_score, abs=1e-4)
    assert always.answers  # abstaining still reports the best guesses
    assert Reader(model_dir).read("anything?", []).no_answer


def test_library_threshold_falls_back_to_the_paragraph_one() -> None:
    from assistant.nlp.models import library_no_answer_threshold

    assert library_no_answer_threshold({}) == 0.0
    assert library_no_answer_threshold({"no_answer_threshold": -15.0}) == -15.0
    assert library_no_answer_threshold({"no_answer_threshold": -15.0, "passage_scoring": {
        "rank_penalty": 4.0, "no_answer_threshold": -8.5}}) == -8.5


@pytest.mark.slow
def test_read_uses_the_library_threshold(model_dir: str, dev: list[QAExample],
                                         tmp_path: Path) -> None:
    """``read`` (a library's passages) and ``predict_pairs`` (a question's own paragraph) use
    their own calibrated thresholds; an explicit threshold overrides both."""
    copy = tmp_path / "reader"
    shutil.copytree(model_dir, copy)
    settings = json.loads((copy / "answerspan.json").read_text())
    hits = _hits([dev[0].context])
    score = Reader(str(copy)).read(dev[0].question, hits).no_answer_score
    settings["passage_scoring"]["no_answer_threshold"] = score - 1.0  # just below: abstains
    (copy / "answerspan.json").write_text(json.dumps(settings))
    reader = Reader(str(copy))
    assert reader.read_threshold == score - 1.0
    assert reader.no_answer_threshold == settings["no_answer_threshold"]
    assert reader.read(dev[0].question, hits).no_answer
    explicit = Reader(str(copy), no_answer_threshold=score + 1.0)
    assert explicit.read_threshold == explicit.no_answer_threshold == score + 1.0
    assert not explicit.read(dev[0].question, hits).no_answer


@pytest.mark.slow
def test_unanswerable_question_scores_higher_than_answerable(reader: Reader, dev) -> None:
    """The no-answer score ranks an off-topic question above the question the passage answers."""
    hits = _hits([dev[0].context])
    answerable = reader.read(dev[0].question, hits)
    off_topic = reader.read("What is the boiling point of liquid nitrogen in kelvin?", hits)
    assert off_topic.no_answer_score > answerable.no_answer_score
    assert off_topic.no_answer  # at the bundled threshold for reading a library


@pytest.mark.slow
def test_evaluate_cli_json_and_calibration(model_dir: str, data_dir: Path, tmp_path: Path,
                                           capsys) -> None:
    from assistant.cli import main

    v2 = str(data_dir / "qa" / "squad-v2.0-dev.json.gz")
    copy = tmp_path / "reader"
    shutil.copytree(model_dir, copy)
    assert main(["evaluate", "reader", "--squad", v2, "--model", str(copy), "--limit", "40",
                 "--calibrate", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questions"] == 40
    assert {"em", "f1", "seconds", "has_ans_f1", "no_ans_f1", "best_threshold"} <= set(result)
    assert result["best_f1"] >= result["f1"] - 1e-6
    settings = json.loads((copy / "answerspan.json").read_text())
    assert settings["no_answer_threshold"] == pytest.approx(result["best_threshold"])
    assert settings["calibrated_on"]["questions"] == 40
    # A v1.1 file has no unanswerable questions: no breakdown and no calibration written.
    v1 = str(data_dir / "qa" / "squad-v1.1-dev.json.gz")
    assert main(["evaluate", "reader", "--squad", v1, "--model", str(copy), "--limit", "20",
                 "--calibrate", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "has_ans_f1" not in plain and plain["questions"] == 20 and 0 <= plain["f1"] <= 100
    assert json.loads((copy / "answerspan.json").read_text()) == settings


# -- spans end at blank lines ------------------------------------------------------------------

AGENDA = "pdf/cupertino_usd_4-6-16.pdf"  # a school board agenda: items apart by blank lines


def _page_text(docs_dir: Path, name: str, page: int) -> str:
    from retrieval.loaders import load_document

    return load_document(docs_dir / name).pages[page - 1].text


def test_a_span_ends_at_the_first_blank_line(docs_dir: Path) -> None:
    from assistant.nlp.reader import end_at_blank_line
    from assistant.nlp.training.qa_features import Candidate

    text = _page_text(docs_dir, AGENDA, 1)
    start = text.index("7:30 a.m.")
    into_next_item = Candidate(0, start, text.index("CALL TO ORDER"), 3.0)
    cut = end_at_blank_line(text, into_next_item)
    assert text[cut.start:cut.end] == "7:30 a.m." and cut.score == 3.0
    # A single line break (wrapped text, or date over time) stays inside the span.
    date = text.index("April 6, 2016")
    over_one_break = Candidate(0, date, start + len("7:30 a.m."), 1.0)
    assert end_at_blank_line(text, over_one_break) == over_one_break


@pytest.mark.slow
def test_meeting_time_is_read_without_the_next_agenda_item(reader: Reader,
                                                           docs_dir: Path) -> None:
    """On this agenda the reader's best span for the start time ran on over the blank lines into
    item "1."; it must end with the time."""
    text = _page_text(docs_dir, AGENDA, 1)
    question = ("What time did the Cupertino Union School District board's special meeting on "
                "April 6, 2016 begin?")
    best = reader.read(question, _hits([text])).answers[0]
    assert text[best.start:best.end] == "7:30 a.m."


@pytest.mark.slow
def test_value_after_an_arrow_is_read_alone(reader: Reader, docs_dir: Path) -> None:
    """The Quiet-STaR abstract gives "36.3%→47.2%"; the value reached is the one after the
    arrow, which the reader could not start an answer at while "→47" was one word."""
    text = _page_text(docs_dir, "pdf/quiet-star-2403.09629.pdf", 1)
    assert "36.3%→47.2%" in text
    question = ("In the Quiet-STaR paper, what zero-shot accuracy on CommonsenseQA does the model "
                "reach after continued pretraining?")
    best = reader.read(question, _hits([text])).answers[0]
    assert text[best.start:best.end] == "47.2%"
