"""Doc-stride windows, answer-to-token mapping and span decoding with the real base tokenizer."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from assistant.nlp.training.qa_features import (
    Candidate,
    Window,
    answer_positions,
    best_spans,
    encode_windows,
    merge_windows,
    pool_same_answers,
    separate_arrows,
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


def test_length_penalty_prefers_the_shorter_of_equal_spans(tokenizer) -> None:
    context = "The tower was finished in the spring of 1889 after two years of work."
    w = _window(tokenizer, "When was the tower finished?", context)
    tok = {context[o[0]:o[1]]: t for t, o in enumerate(w.offsets) if o}
    n = len(w.input_ids)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    start[tok["spring"]] = start[tok["1889"]] = 4.0
    end[tok["1889"]] = 4.0
    plain, _ = best_spans(w, start, end, n_best=5)
    assert {context[c.start:c.end] for c in plain[:2]} == {"spring of 1889", "1889"}
    assert plain[0].score == plain[1].score == pytest.approx(8.0)
    penalised, _ = best_spans(w, start, end, n_best=5, length_penalty=0.1)
    assert context[penalised[0].start:penalised[0].end] == "1889"
    assert penalised[0].score == pytest.approx(8.0)  # one token: no penalty
    longer = next(c for c in penalised if context[c.start:c.end] == "spring of 1889")
    assert longer.score == pytest.approx(8.0 - 0.2)


def test_merged_windows_average_overlaps_and_cover_the_context(tokenizer, long_example) -> None:
    context = long_example.context
    windows = encode_windows(tokenizer, [long_example.question, "Short?"],
                             [context, "A short context."], 128, 32)
    assert len(windows) > 5
    # Window i predicts i everywhere: a token seen by windows i and i+1 averages to i + 0.5.
    logits = [(np.full(len(w.input_ids), float(i)), np.full(len(w.input_ids), -float(i)))
              for i, w in enumerate(windows)]
    merged = merge_windows(windows, logits)
    assert [w.pair_index for w, _, _ in merged] == [0, 1]
    joined, starts, ends = merged[0]
    tokens = [o for o in joined.offsets if o is not None]
    assert joined.offsets[0] is None and tokens == sorted(set(tokens))
    assert tokens == sorted({o for w in windows[:-1] for o in w.offsets if o is not None})
    assert tokens[0][0] == 0 and tokens[-1][1] == len(context.rstrip())
    shared = next(o for o in windows[0].offsets[::-1] if o is not None)
    assert shared in windows[1].offsets  # the last token of window 0 is also in window 1
    assert starts[joined.offsets.index(shared)] == pytest.approx(0.5)
    assert ends[joined.offsets.index(shared)] == pytest.approx(-0.5)
    assert merged[1][0] is windows[-1]  # a one-window pair is left as it is
    # A span may now cross a window border: start only in window 0, end only in window 1.
    last0 = max(o for o in windows[0].offsets if o is not None)
    first_only1 = next(o for o in windows[1].offsets if o is not None and o > last0)
    s = np.full(len(joined.offsets), -5.0)
    e = np.full(len(joined.offsets), -5.0)
    start_tok = joined.offsets.index(shared) - 3
    s[start_tok] = e[joined.offsets.index(first_only1)] = 5.0
    found, _ = best_spans(joined, s, e, n_best=3)
    assert (found[0].start, found[0].end) == (joined.offsets[start_tok][0], first_only1[1])


def test_pooling_sums_the_probability_of_one_answer_text() -> None:
    context = "It opened in 1889. The fair of 1889 drew crowds to the fair."
    at = context.index
    second = context.index("1889", at("1889") + 1)
    cands = [
        Candidate(0, at("The fair"), at("The fair") + 8, 5.2),  # "The fair" ...
        Candidate(0, at("1889"), at("1889") + 4, 5.0),
        Candidate(0, second, second + 5, 4.5),  # "1889 " normalises to the same answer
        Candidate(0, context.rindex("the fair"), len(context) - 1, 3.0),  # ... and "the fair"
        Candidate(0, at("."), at(".") + 1, 4.9),  # punctuation: not pooled with anything
        Candidate(0, context.rindex("."), len(context), 4.9),
    ]
    pooled = pool_same_answers(cands, context)
    texts = [context[c.start:c.end] for c in pooled]
    assert texts[0] == "1889"
    assert pooled[0].score == pytest.approx(float(np.logaddexp(5.0, 4.5)))
    assert texts[1] == "The fair" and pooled[1].score == pytest.approx(float(np.logaddexp(5.2, 3.0)))
    assert texts.count(".") == 2 and len(pooled) == 4
    assert [c.score for c in pooled] == sorted((c.score for c in pooled), reverse=True)
    assert pool_same_answers([], context) == []


def test_arrows_separate_words_and_keep_offsets() -> None:
    from transformers import AutoTokenizer

    from assistant.nlp.models import base_model_path

    tokenizer = AutoTokenizer.from_pretrained(base_model_path(), use_fast=True)
    context = "Accuracy rose 36.3%→47.2% on CommonsenseQA; it costs £5 at 20°C (A → G)."
    before = tokenizer(context, add_special_tokens=False)["input_ids"]
    separate_arrows(tokenizer)
    w = encode_windows(tokenizer, ["What accuracy?"], [context], 128, 32)[0]
    pieces = {context[o[0]:o[1]]: tokenizer.convert_ids_to_tokens(i)
              for i, o in zip(w.input_ids, w.offsets, strict=True) if o}
    assert pieces["→"] == "→" and pieces["47"] == "47"  # a word of its own, not "##47"
    # Everything else is tokenized as before ("£5" stays one word); offsets still match.
    after = tokenizer(context, add_special_tokens=False)["input_ids"]
    assert [t for t in after if t != tokenizer.convert_tokens_to_ids("47")] == \
        [t for t in before if t != tokenizer.convert_tokens_to_ids("##47")]
    separate_arrows(tokenizer)  # idempotent: an already wrapped pre-tokenizer is left alone
    assert tokenizer(context, add_special_tokens=False)["input_ids"] == after


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
