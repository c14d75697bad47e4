"""Readers of the shared classification formats, on the real files and on broken ones."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.errors import DataFormatError
from assistant.nlp.training.classify_data import (
    normalize_label,
    read_examples,
    stratified_split,
    subsample,
)


def _labels(examples) -> Counter:
    return Counter(e.label for e in examples)


def test_babe_keeps_labels_and_biased_words(data_dir: Path) -> None:
    ex = read_examples(data_dir / "bias/babe-sg2-train.csv", "bias")
    assert _labels(ex) == {"not_biased": 1490, "biased": 1448}
    assert ex[3].words == ("outrageous", "scandal-ridden")
    marked = Counter(bool(e.words) for e in ex if e.label == "biased")
    assert marked[True] > 0.8 * 1448


def test_financial_phrasebank(data_dir: Path) -> None:
    ex = read_examples(data_dir / "sentiment/financial-phrasebank-train.csv", "sentiment")
    assert _labels(ex) == {"neutral": 2322, "positive": 1098, "negative": 488}


def test_newsmtsc_keeps_only_sentences_whose_targets_agree(data_dir: Path) -> None:
    train = read_examples(data_dir / "sentiment/newsmtsc/train.jsonl", "sentiment")
    dev = read_examples(data_dir / "sentiment/newsmtsc/devtest_mt.jsonl", "sentiment")
    # 7,758 train sentences, 401 with conflicting targets; devtest 721 with 294 conflicting.
    assert len(train) == 7357 and _labels(train)["negative"] == 2679
    assert len(dev) == 427 and _labels(dev) == {"neutral": 244, "negative": 116, "positive": 67}


def test_semeval_tsv_unescapes_tweets(data_dir: Path) -> None:
    ex = read_examples(data_dir / "sentiment/semeval2017-4a/twitter-2013dev-A.tsv", "sentiment")
    assert _labels(ex) == {"neutral": 739, "positive": 575, "negative": 340}
    assert "\\u002c" not in ex[0].text and "Plus, tomorrow" in ex[0].text


def test_sst5_trees_collapse_to_three_classes_and_drop_neutral_for_sst2(data_dir: Path) -> None:
    three = read_examples(data_dir / "sentiment/sst5/dev.txt", "sentiment")
    assert _labels(three) == {"positive": 444, "negative": 428, "neutral": 229}
    assert three[0].text.startswith("It 's a lovely film")
    two = read_examples(data_dir / "sentiment/sst5/dev.txt", "sst2")
    assert len(two) == 872 and "neutral" not in _labels(two)


def test_sst2_label_first_with_crlf(data_dir: Path) -> None:
    train = read_examples(data_dir / "sentiment/sst2/train.tsv", "sst2")
    assert len(train) == 67349 and not any(e.text.endswith("\r") for e in train)
    assert train[0] == train[0].__class__("hide new secretions from the parental units",
                                          "negative")
    dev = read_examples(data_dir / "sentiment/sst2/dev.tsv", "sst2")
    assert _labels(dev) == {"positive": 444, "negative": 428}


def test_bbc_and_ag_news_map_to_bbc_topics(data_dir: Path) -> None:
    bbc = read_examples(data_dir / "topic/bbc-news-train.csv", "topic")
    assert len(bbc) == 1781 and bbc[0].label == "sport"
    assert bbc[0].text.startswith("Anelka apologises for criticism\n\n")
    ag = read_examples(data_dir / "topic/ag-news-part.csv", "topic")
    assert _labels(ag) == {"business": 1425, "sport": 1425, "tech": 1425}  # world skipped
    assert "$100,000" in ag[0].text


def test_generic_csv_with_label_aliases(tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text('label,text\nNot Biased,"A plain, factual sentence."\nbiased,Cable news is poison.\n',
                 encoding="utf-8")
    ex = read_examples(f, "bias")
    assert [e.label for e in ex] == ["not_biased", "biased"]
    assert ex[0].text == "A plain, factual sentence."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "empty"),
        ("cols.csv", "sentence,score\nhello,1\n", "'text' and 'label'"),
        ("label.csv", "text,label\nGood news.,joyful\n", "line 2: Label 'joyful'"),
        ("blank.csv", "text,label\n,positive\n", "line 2: empty text"),
        ("bad.jsonl", '{"sentence_normalized": "x"}\n', "line 1: not a NewsMTSC record"),
        ("tree.txt", "(3 (2 a) (3 good)\n", "line 1: not a PTB tree"),
        ("sem.tsv", "123\tpositive\n", "line 1: expected 'id<TAB>label<TAB>text'"),
        ("sst2.tsv", "label\tsentence\n2\tmaybe\n", "line 2: expected label 0/1"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path: Path, name: str, content: str,
                                      message: str) -> None:
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    task = "sst2" if name == "sst2.tsv" else "sentiment"
    with pytest.raises(DataFormatError, match=message.replace("(", r"\(").replace("'", "'")):
        read_examples(f, task)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="does not exist"):
        read_examples(tmp_path / "nope.csv", "bias")
    f = tmp_path / "latin1.csv"
    f.write_bytes("text,label\ncaf\xe9 news,positive\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="UTF-8"):
        read_examples(f, "sentiment")
    with pytest.raises(DataFormatError, match="Unknown classification task"):
        normalize_label("positive", "emotion")


def test_stratified_split_is_deterministic_disjoint_and_balanced(data_dir: Path) -> None:
    ex = read_examples(data_dir / "sentiment/financial-phrasebank-train.csv", "sentiment")
    train, dev = stratified_split(ex, 0.15, seed=13)
    again_train, again_dev = stratified_split(ex, 0.15, seed=13)
    assert dev == again_dev and train == again_train
    assert not {e.text for e in train} & {e.text for e in dev}
    assert len(train) + len(dev) == len(ex)
    share = _labels(dev)["negative"] / len(dev)
    assert abs(share - 488 / 3908) < 0.01
    small = subsample(train, 300)
    assert len(small) == 300 and set(_labels(small)) == {"negative", "neutral", "positive"}
