"""Token windows for extractive QA: training labels and span decoding share one windowing.

A (question, context) pair becomes one or more windows ``[CLS] question [SEP] context-part [SEP]``
of at most ``max_length`` tokens, consecutive context parts overlapping by ``stride`` tokens.
The fast tokenizer's offset mapping ties every context token to its characters, so an answer's
characters map to token positions (training) and a predicted token span maps back to characters
(inference). A window that does not contain the whole answer, and every window of an
unanswerable example, is labelled with the ``[CLS]`` position 0: "no answer here".
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.nlp.training.squad_data import QAExample
from assistant.nlp.training.squad_metrics import normalize_answer

log = logging.getLogger(__name__)

# Questions longer than this many tokens are cut so the context keeps most of each window.
MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    """One tokenized window of pair ``pair_index``.

    ``offsets[i]`` is the (start, end) character span of token ``i`` in the context, or ``None``
    for question and special tokens (they can never be part of an answer).
    """

    pair_index: int
    input_ids: list[int]
    token_type_ids: list[int] | None
    offsets: list[tuple[int, int] | None]


def separate_arrows(tokenizer) -> None:
    """Make a BERT fast tokenizer split words at arrows ("36.3%→47.2%"), in place.

    BERT's pre-tokenizer splits at punctuation but not at symbols, so "→47" is one word whose
    pieces are "→" and "##47", and the reader, which never starts an answer inside a word,
    answered "36.3%→47.2%" for the value after the arrow in a real paper. Arrows (U+2190 to
    U+21FF) become words of their own; offsets still point into the original text. Only
    arrows: splitting every symbol also parts "£5" and "20°C", which cost F1 on the 244
    SQuAD v1.1 dev questions whose contexts have them (79.73 -> 79.03); SQuAD's two arrows
    stand between spaces, so its tokens do not change. Other pre-tokenizers are left as
    they are.
    """
    from tokenizers import Regex, pre_tokenizers

    backend = tokenizer.backend_tokenizer
    if isinstance(backend.pre_tokenizer, pre_tokenizers.BertPreTokenizer):
        backend.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex("[\u2190-\u21FF]"), "isolated"),
            pre_tokenizers.BertPreTokenizer(),
        ])


def _clip_question(tokenizer, question: str) -> tuple[str, int]:
    """The question cut to ``MAX_QUESTION_TOKENS`` word pieces, and its length in pieces."""
    ids = tokenizer(question, add_special_tokens=False)["input_ids"]
    if len(ids) <= MAX_QUESTION_TOKENS:
        return question, len(ids)
    return tokenizer.decode(ids[:MAX_QUESTION_TOKENS]), MAX_QUESTION_TOKENS


def encode_windows(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int = 384,
    stride: int = 128,
) -> list[Window]:
    """Tokenize pairs into overlapping windows (no padding; pad per batch later).

    Args:
        tokenizer: a *fast* tokenizer (offset mappings are needed).
        questions: one question per pair.
        contexts: one context per pair.
        max_length: tokens per window including special tokens.
        stride: tokens of overlap between consecutive windows of one context.
    """
    if len(questions) != len(contexts):
        raise ValueError("questions and contexts must have the same length")
    if not questions:
        return []
    clipped = [_clip_question(tokenizer, q.strip() or "?") for q in questions]
    questions = [q for q, _ in clipped]
    # The tokenizer refuses a stride that is not smaller than the context room of a window.
    room = max_length - max(n for _, n in clipped) - 3
    if room < 8:
        raise ValueError(f"max_length {max_length} leaves no room for the context")
    stride = min(stride, room // 2)
    enc = tokenizer(
        list(questions),
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    windows = []
    for i, ids in enumerate(enc["input_ids"]):
        seq_ids = enc.sequence_ids(i)
        offsets = [
            (int(o[0]), int(o[1])) if seq_ids[t] == 1 else None
            for t, o in enumerate(enc["offset_mapping"][i])
        ]
        types = enc["token_type_ids"][i] if "token_type_ids" in enc else None
        windows.append(Window(int(enc["overflow_to_sample_mapping"][i]), list(ids), types, offsets))
    return windows


def answer_positions(window: Window, start_char: int, end_char: int) -> tuple[int, int]:
    """Token positions of the answer ``[start_char, end_char)`` in ``window``; (0, 0) if outside."""
    ctx = [t for t, o in enumerate(window.offsets) if o is not None]
    if not ctx:
        return 0, 0
    first, last = ctx[0], ctx[-1]
    if window.offsets[first][0] > start_char or window.offsets[last][1] < end_char:
        return 0, 0  # the answer is not (wholly) in this window
    start_tok = first
    while start_tok <= last and window.offsets[start_tok][1] <= start_char:
        start_tok += 1
    end_tok = last
    while end_tok >= first and window.offsets[end_tok][0] >= end_char:
        end_tok -= 1
    if end_tok < start_tok:
        return 0, 0
    return start_tok, end_tok


def train_features(
    examples: Sequence[QAExample], tokenizer, max_length: int = 384, stride: int = 128,
    chunk: int = 1000,
) -> list[dict]:
    """Training features: one dict per window with ``start_positions``/``end_positions``.

    The first gold answer is the label (SQuAD train has one per question).
    """
    features: list[dict] = []
    for lo in range(0, len(examples), chunk):
        part = examples[lo : lo + chunk]
        windows = encode_windows(
            tokenizer, [e.question for e in part], [e.context for e in part], max_length, stride
        )
        for w in windows:
            ex = part[w.pair_index]
            if ex.is_impossible:
                start, end = 0, 0
            else:
                s = ex.answer_starts[0]
                start, end = answer_positions(w, s, s + len(ex.answer_texts[0]))
            feat = {
                "input_ids": w.input_ids,
                "attention_mask": [1] * len(w.input_ids),
                "start_positions": start,
                "end_positions": end,
            }
            if w.token_type_ids is not None:
                feat["token_type_ids"] = w.token_type_ids
            features.append(feat)
    return features


@dataclass(frozen=True)
class Candidate:
    """A span candidate of one window: characters ``[start, end)`` of the pair's context."""

    pair_index: int
    start: int
    end: int
    score: float  # start logit + end logit: comparable across windows and passages


def best_spans(
    window: Window,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    n_best: int = 20,
    max_answer_tokens: int = 30,
    length_penalty: float = 0.0,
) -> tuple[list[Candidate], float]:
    """The ``n_best`` valid spans of one window and its no-answer (CLS) score.

    A span is valid when both ends are context tokens, end >= start, and it has at most
    ``max_answer_tokens`` tokens. ``length_penalty`` is taken off a span's score for each
    token after its first (a prior against over-long spans; 0 gives the plain logit sum).
    """
    n = len(window.offsets)
    start_logits = np.asarray(start_logits[:n], dtype=np.float32)
    end_logits = np.asarray(end_logits[:n], dtype=np.float32)
    null_score = float(start_logits[0] + end_logits[0])
    is_ctx = np.array([o is not None for o in window.offsets])
    if not is_ctx.any():
        return [], null_score
    s = np.where(is_ctx, start_logits, -np.inf)
    e = np.where(is_ctx, end_logits, -np.inf)
    k = min(n_best, int(is_ctx.sum()))
    top_s = np.argsort(-s)[:k]
    top_e = np.argsort(-e)[:k]
    # All pairs of top starts and top ends at once; invalid ones get -inf.
    length = top_e[None, :] - top_s[:, None]
    scores = s[top_s][:, None] + e[top_e][None, :] - length_penalty * length
    scores = np.where((length >= 0) & (length < max_answer_tokens), scores, -np.inf)
    flat = np.argsort(-scores, axis=None)[:n_best]
    out = []
    for idx in flat:
        i, j = divmod(int(idx), k)
        if not np.isfinite(scores[i, j]):
            break
        st, en = int(top_s[i]), int(top_e[j])
        out.append(Candidate(window.pair_index, window.offsets[st][0], window.offsets[en][1],
                             float(scores[i, j])))
    return out, null_score


def merge_windows(
    windows: Sequence[Window], logits: Sequence[tuple[np.ndarray, np.ndarray]],
    separate: Collection[int] = (),
) -> list[tuple[Window, np.ndarray, np.ndarray]]:
    """One decoding window per pair: a pair's windows joined, overlapping tokens averaged.

    A context longer than one window is read in overlapping windows; a token in two of them
    gets two predictions, and picking the best span window by window lets one window's
    overconfident guess win. Averaging each token's start and end logits over the windows
    that hold it (tokens match by character offsets: all windows cut the same tokenization)
    gives one sequence for the whole context, where spans may also cross a window border.
    (SQuAD v1.1 dev, bundled reader: F1 on the 11% of questions with several windows 81.84
    -> 83.02.) The joined window has no model input (``input_ids`` is empty) and its
    ``[CLS]`` logits are the mean of the windows' own; a pair with one window, or listed in
    ``separate``, keeps its windows as they are.
    """
    by_pair: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        by_pair.setdefault(w.pair_index, []).append(i)
    out = []
    for pair, idx in by_pair.items():
        if len(idx) == 1 or pair in separate:
            out += [(windows[i], np.asarray(logits[i][0]), np.asarray(logits[i][1])) for i in idx]
            continue
        sums: dict[tuple[int, int], list[float]] = {}
        for i in idx:
            starts, ends = logits[i]
            for t, o in enumerate(windows[i].offsets):
                if o is not None:
                    acc = sums.setdefault(o, [0.0, 0.0, 0])
                    acc[0] += float(starts[t])
                    acc[1] += float(ends[t])
                    acc[2] += 1
        keys = sorted(sums)
        cls = [np.mean([float(logits[i][k][0]) for i in idx]) for k in (0, 1)]
        starts = np.array([cls[0]] + [sums[o][0] / sums[o][2] for o in keys], dtype=np.float32)
        ends = np.array([cls[1]] + [sums[o][1] / sums[o][2] for o in keys], dtype=np.float32)
        joined = Window(pair, [], None, [None, *keys])
        out.append((joined, starts, ends))
    return out


def pool_same_answers(candidates: Sequence[Candidate], context: str) -> list[Candidate]:
    """Candidates with the same answer text pooled into one, best first.

    The n-best list often holds one answer several times ("the 1889 fair", "1889 fair",
    "1889 fair."): the model's probability of that answer is spread over them. Each group of
    candidates whose texts are equal after SQuAD normalisation becomes its best-scoring span
    with the log of the group's summed probability (logsumexp of the scores), so a single
    candidate keeps its score. Spans that normalise to nothing (punctuation, "the") are not
    pooled. (SQuAD v1.1 dev, bundled reader: F1 +0.2 to +0.3.)
    """
    groups: dict[object, list[Candidate]] = {}
    for c in candidates:
        key = normalize_answer(context[c.start : c.end]) or (c.start, c.end)
        groups.setdefault(key, []).append(c)
    pooled = []
    for group in groups.values():
        best = max(group, key=lambda c: c.score)
        score = float(np.logaddexp.reduce([c.score for c in group]))
        pooled.append(Candidate(best.pair_index, best.start, best.end, score))
    return sorted(pooled, key=lambda c: -c.score)
