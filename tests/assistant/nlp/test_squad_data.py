"""Reading the real QA files in ../shared/data/qa, and building unanswerable examples."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from assistant.errors import DataFormatError
from assistant.nlp.training.squad_data import load_examples, make_negatives


@pytest.fixture(scope="module")
def qa(data_dir: Path) -> Path:
    return data_dir / "qa"


def _offsets_hold(examples) -> bool:
    return all(
        e.context[s : s + len(t)] == t
        for e in examples
        for t, s in zip(e.answer_texts, e.answer_starts, strict=True)
    )


def test_squad_v11_dev_gz_has_three_golds_and_exact_offsets(qa: Path) -> None:
    examples = load_examples(qa / "squad-v1.1-dev.json.gz", limit=300)
    assert len(examples) == 300
    assert all(not e.is_impossible for e in examples)
    assert sum(len(e.answer_texts) >= 2 for e in examples) > 250
    assert _offsets_hold(examples)
    assert examples[0].title == "Super_Bowl_50"


def test_v2_sample_keeps_its_348_unanswerable_questions(qa: Path) -> None:
    examples = load_examples(qa / "extra" / "squad-v2.0-train-first10articles.json")
    assert len(examples) == 4719
    assert sum(e.is_impossible for e in examples) == 348
    assert _offsets_hold(examples)


def test_covid_qa_leading_spaces_are_stripped(qa: Path) -> None:
    path = qa / "extra" / "covid-qa-200423.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    spaced = sum(
        a["text"] != a["text"].lstrip()
        for art in raw["data"] for p in art["paragraphs"] for q in p["qas"] for a in q["answers"]
    )
    assert spaced > 0  # the file really has them
    examples = load_examples(path)
    assert len(examples) == 1380
    assert all(t == t.strip() for e in examples for t in e.answer_texts)
    assert _offsets_hold(examples)


def test_subjqa_uses_review_offsets_and_marks_answernotfound(qa: Path) -> None:
    examples = load_examples(qa / "extra" / "subjqa" / "grocery" / "splits" / "dev.csv")
    assert len(examples) > 200
    assert all("ANSWERNOTFOUND" not in e.context for e in examples)
    impossible = [e for e in examples if e.is_impossible]
    assert 100 < len(impossible) < len(examples)
    assert _offsets_hold(examples)


def test_qed_train_and_dev_layouts_both_give_spans(qa: Path) -> None:
    train = load_examples(qa / "extra" / "qed" / "nq-train-03-qed.jsonlines")
    dev = load_examples(qa / "extra" / "qed" / "qed-dev.jsonlines", limit=200)
    assert len(train) > 300 and len(dev) == 200
    assert all(not e.is_impossible for e in train + dev)
    assert _offsets_hold(train + dev)
    assert dev[0].answer_texts[0].startswith("Wilhelm Conrad R")


def test_negatives_come_from_other_paragraphs_without_the_answer(qa: Path) -> None:
    examples = load_examples(qa / "squad-v1.1-dev.json.gz", limit=500)
    negatives = make_negatives(examples, 0.2, seed=1)
    assert 80 <= len(negatives) <= 100
    by_question = {e.question: e for e in examples}
    titles = {e.title for e in examples}
    for neg in negatives:
        src = by_question[neg.question]
        assert neg.is_impossible and neg.title == src.title and neg.title in titles
        assert neg.context != src.context
        assert not any(t.lower() in neg.context.lower() for t in src.answer_texts)
    assert make_negatives(examples, 0.0) == []


def test_gzipped_and_plain_json_read_the_same(qa: Path, tmp_path: Path) -> None:
    src = qa / "extra" / "friendsqa-dev.json"
    gz = tmp_path / "friends.json.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(src.read_bytes())
    assert load_examples(gz) == load_examples(src)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.json", '{"data": [{"title": "x", "paragraphs": ['),
        ("notsquad.json", '{"version": "1.1"}'),
        ("bad.json.gz", "this is not gzip"),
        ("reviews.csv", "a,b\n1,2\n"),
        ("data.txt", "question? answer"),
    ],
)
def test_malformed_files_raise_data_format_error(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError):
        load_examples(path)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="does not exist"):
        load_examples(tmp_path / "nope.json")
