"""Token labels of the auxiliary biased-word loss, on real BABE rows and the real tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.nlp.training.classify_data import Example, read_examples
from assistant.nlp.training.train_classifier import (
    IGNORE,
    ClassifierConfig,
    biased_word_labels,
)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from assistant.nlp.models import base_model_path

    return AutoTokenizer.from_pretrained(base_model_path())


def _labelled_tokens(tokenizer, example: Example) -> tuple[list[int], list[str]]:
    enc = tokenizer(example.text, return_offsets_mapping=True)
    labels = biased_word_labels(example, enc["offset_mapping"])
    marked = [t for t, y in zip(tokenizer.convert_ids_to_tokens(enc["input_ids"]), labels,
                                strict=True) if y == 1]
    return labels, marked


def test_marked_words_are_the_annotated_ones_in_real_babe_rows(tokenizer, data_dir: Path) -> None:
    examples = [e for e in read_examples(data_dir / "bias/babe-sg2-train.csv", "bias")
                if e.label == "biased" and e.words]
    checked = 0
    for example in examples[:50]:
        labels, marked = _labelled_tokens(tokenizer, example)
        assert labels[0] == IGNORE and labels[-1] == IGNORE  # [CLS], [SEP]
        words = " ".join(example.words).lower()
        # every marked word piece comes from an annotated word
        assert all(piece.removeprefix("##") in words for piece in marked)
        checked += bool(marked)
    assert checked >= 45  # annotated words are found in (nearly) every sentence


def test_not_biased_is_all_zero_and_unmarked_biased_is_unknown(tokenizer) -> None:
    text = "The senator voted against the bill on Tuesday."
    labels, marked = _labelled_tokens(tokenizer, Example(text, "not_biased"))
    assert marked == [] and set(labels[1:-1]) == {0}
    labels, _ = _labelled_tokens(tokenizer, Example(text, "biased"))
    assert set(labels) == {IGNORE}


def test_word_loss_weight_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="word-loss"):
        ClassifierConfig(base="base", out=tmp_path / "m", word_loss=-1)
