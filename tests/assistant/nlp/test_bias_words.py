"""Words as BABE marks them and the word-piece-to-word mapping, with the real tokenizer."""

from __future__ import annotations

import pytest

from assistant.nlp.bias_words import pieces_to_words, word_scores, word_spans, word_tokens


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from assistant.nlp.models import base_model_path

    return AutoTokenizer.from_pretrained(base_model_path())


def test_words_keep_hyphens_and_apostrophes() -> None:
    assert word_tokens("The so-called reform, O'Neil said: 2024!") == [
        "the", "so-called", "reform", "o'neil", "said"]


def test_word_spans_point_into_the_original_text() -> None:
    # "İ" lower-cases to two characters: spans must still index the text as given.
    text = "İstanbul's RADICAL mayor and the far-left"
    spans = word_spans(text)
    assert [w for _, _, w in spans][1:] == ["radical", "mayor", "and", "the", "far-left"]
    assert all(text[a:z].lower() == w for a, z, w in spans)
    assert text[spans[1][0] : spans[1][1]] == "RADICAL"


def test_every_piece_maps_to_the_word_it_overlaps(tokenizer) -> None:
    text = "Radical lawmakers slammed the so-called reform, Senator O'Neil said."
    enc = tokenizer(text, return_offsets_mapping=True)
    spans = word_spans(text)
    hits = pieces_to_words(enc["offset_mapping"], spans)
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert hits[0] == [] and hits[-1] == []  # [CLS], [SEP]
    by_word: dict[str, list[str]] = {}
    for piece, h in zip(pieces, hits, strict=True):
        assert len(h) <= 1  # no piece here straddles two words
        for j in h:
            by_word.setdefault(spans[j][2], []).append(piece)
    assert by_word["so-called"] == ["so", "-", "called"]
    assert by_word["o'neil"] == ["o", "'", "neil"]
    assert not any("," in pieces for pieces in by_word.values())  # punctuation: no word
    assert set(by_word) == set(word_tokens(text))


def test_a_word_scores_its_best_piece_and_truncated_words_none(tokenizer) -> None:
    text = "The so-called reform passed"
    enc = tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=6)
    offsets = enc["offset_mapping"]  # [CLS] the so - called [SEP]: "reform" is cut off
    scores = word_scores(text, offsets, [0.9, 0.1, 0.2, 0.7, 0.3, 0.9])
    assert scores == pytest.approx({"the": 0.1, "so-called": 0.7})
