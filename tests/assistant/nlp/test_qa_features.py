"""Doc-stride windows, answer-to-token mapping and span decoding with the real base tokenizer."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from assistant.nlp.training.qa_features import (
    Window,
    answer_positions,
    best_spans,
    encode_windows,
    train_features,
)
from assistant.nlp.training.squad_data import QAExample, load_examples


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from assistant.nlp.models import base_model_path

    return AutoTokenizer.from_pretrained(base_model_path(), use_fast=True)


@pytest.fixture(scope="module")
def long_example(data_dir: Path) -> QAExample:
    """A real SQuAD question whose paragraph comes after five other paragraphs of its article."""
    examples = load_examples(data_dir / "qa" / "squad-v1.1-dev.json.gz", limit=400)
    paragraphs = list(dict.fromkeys(e.context for e in examples))[:6]
    target = next(e for e in examples if e.context == paragraphs[5])
    prefix = "\n\n".join(paragraphs[:5]) + "\n\n"
    return QAExample(
        id="long",
        question=target.question,
        context=prefix + target.context,
        answer_texts=target.answer_texts[:1],
        answer_starts=(target.answer_starts[0] + len(prefix),),
    )


def test_long_context_is_split_into_overlapping_windows(tokenizer, long_example) -> None:
    windows = encode_windows(tokenizer, [long_example.question], [long_example.context], 128, 32)
    assert len(windows) > 5
    assert all(len(w.input_ids) <= 128 for w in windows)
    spans = [[o for o in w.offsets if o is not None] for w in windows]
    for prev, nxt in itertools.pairwise(spans):
        assert nxt[0][0] < prev[-1][1]  # consecutive windows overlap (stride)
    assert spans[0][0][0] == 0
    assert spans[-1][-1][1] == len(long_example.context.rstrip())


def test_answer_maps_to_tokens_in_a_later_window_only(tokenizer, long_example) -> None:
    ans, start = long_example.answer_texts[0], long_example.answer_starts[0]
    windows = encode_windows(tokenizer, [long_example.question], [long_example.context], 128, 32)
    labelled = [(i, answer_positions(w, start, start + len(ans))) for i, w in enumerate(windows)]
    inside = [(i, pos) for i, pos in labelled if pos != (0, 0)]
    assert inside and inside[0][0] >= 3  # the answer is far into the context
    for i, (s, e) in inside:
        w = windows[i]
        char_start, char_end = w.offsets[s][0], w.offsets[e][1]
        assert long_example.context[char_start:char_end] == ans
        assert tokenizer.decode(w.input_ids[s : e + 1]).lower().replace(" ", "") == \
            ans.lower().replace(" ", "")
    # Windows that do not hold the answer point at [CLS].
    assert any(pos == (0, 0) for _, pos in labelled)


def test_train_features_label_unanswerable_examples_with_cls(tokenizer, long_example) -> None:
    negative = QAExample("neg", long_example.question, long_example.context[:400])
    feats = train_features([long_example, negative], tokenizer, max_length=128, stride=32)
    assert {"input_ids", "attention_mask", "token_type_ids", "start_positions",
            "end_positions"} <= set(feats[0])
    assert sum(f["start_positions"] > 0 for f in feats) >= 1
    neg_feats = train_features([negative], tokenizer, max_length=128, stride=32)
    assert neg_feats and feats[-len(neg_feats):] == neg_feats
    assert all(f["start_positions"] == 0 == f["end_positions"] for f in neg_feats)


def _window(tokenizer, question: str, context: str) -> Window:
    return encode_windows(tokenizer, [question], [context], 384, 128)[0]


def test_best_spans_decodes_characters_and_respects_limits(tokenizer) -> None:
    context = "The Eiffel Tower was completed in 1889 for the World's Fair in Paris."
    w = _window(tokenizer, "When was the Eiffel Tower completed?", context)
    start_tok = next(t for t, o in enumerate(w.offsets) if o and context[o[0]:o[1]] == "1889")
    n = len(w.input_ids)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    start[start_tok] = end[start_tok] = 6.0
    start[1] = end[1] = 50.0  # a question token: must never be chosen
    start[0] = end[0] = 1.0  # [CLS]
    cands, null = best_spans(w, start, end, n_best=5, max_answer_tokens=30)
    assert null == pytest.approx(2.0)
    assert context[cands[0].start : cands[0].end] == "1889"
    assert cands[0].score == pytest.approx(12.0)
    assert all(c.score <= cands[0].score for c in cands)
    # An end before the start, or a span longer than the limit, is not a candidate.
    start[:] = -5.0
    end[:] = -5.0
    ctx = [t for t, o in enumerate(w.offsets) if o]
    start[ctx[-1]] = 9.0
    end[ctx[0]] = 9.0
    cands, _ = best_spans(w, start, end, n_best=20, max_answer_tokens=3)
    assert all(c.end > c.start for c in cands)
    assert cands
    for c in cands:
        tokens = [o for o in w.offsets if o and c.start <= o[0] and o[1] <= c.end]
        assert 1 <= len(tokens) <= 3


def test_overlong_question_is_clipped_not_rejected(tokenizer) -> None:
    question = "why " * 300
    windows = encode_windows(tokenizer, [question], ["A short context."], 128, 32)
    assert windows and any(o is not None for o in windows[0].offsets)


def test_stride_is_reduced_when_a_long_question_leaves_little_room(tokenizer) -> None:
    question = " ".join(["which"] * 60) + "?"
    context = " ".join(f"word{i}" for i in range(300))
    windows = encode_windows(tokenizer, [question], [context], max_length=128, stride=96)
    assert len(windows) > 2
    covered = [o for w in windows for o in w.offsets if o is not None]
    assert max(e for _, e in covered) == len(context)
