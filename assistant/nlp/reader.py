"""Extractive QA over retrieved passages: windows, n-best span search, no-answer decision.

All windows of all passages of a question go through the model in a few batched forward passes.
A span's score is its start logit plus end logit, which is comparable across windows and
passages (per-window softmaxes are not). The no-answer margin of a window is its ``[CLS]`` score
minus its best span score; a passage's margin is the smallest over its windows.

Spans are then decoded per passage, with three refinements that each raised SQuAD v1.1 dev F1
(bundled reader, all 10,570 questions: 83.50 -> 84.00 together): the windows of a long passage
are joined, each token's logits averaged over the windows that hold it
(``qa_features.merge_windows``); a span loses ``span_length_penalty`` (``answerspan.json``) per
token after its first, as the reader tends to run answers on; and candidates with the same
normalised text are pooled into one (``qa_features.pool_same_answers``). The no-answer margin
stays the plain one above, on which the thresholds are calibrated.

Answers across passages are ranked by :func:`passage_score`: the span score, less a penalty for
the passage's retrieval rank and for its no-answer margin. Reading more passages otherwise hurts:
the reader, trained on one paragraph at a time, finds confident spans in passages that do not
answer (every 10th SQuAD v1.1 dev question over the dev set as a library: F1 71.2 reading 3
passages, 66.5 reading 10). The two weights are calibrated by ``answerspan evaluate ask
--calibrate`` and stored in ``answerspan.json``. The reported answer scores are a softmax over
these ranking scores of all candidate spans.

A question abstains when the smallest margin over all windows (i.e. the window most sure it
holds an answer) is above the calibrated threshold. There are two, both in the model's
``answerspan.json``: one for a question read against its own paragraph (``no_answer_threshold``,
from ``answerspan evaluate reader --calibrate`` on SQuAD v2.0's unanswerable questions), and one
for :meth:`Reader.read` over a library's passages (``passage_scoring.no_answer_threshold``,
from ``answerspan evaluate ask --leave-out --calibrate``: questions whose article is not in the
library). The second is used where present, the first otherwise.

A span that runs across a blank line ends at it: SQuAD paragraphs have no line breaks, so the
reader never learnt that a paragraph, table cell or agenda item ends there, and on real documents
it ran answers on into the next one ("7:30 a.m.\n\n\n1" for a meeting's start time). The span
keeps its start and score; single line breaks stay inside answers, as PDF text wraps sentences
(and answers) across lines. (Dropping such spans instead let shorter ones win: "7:30".)

A passage of a PDF table can come with a table view (``retrieval.tables``): its rows as
sentences that name each value's column ("Finland, Area (km2): 338,424."), which the reader,
trained on prose, reads far better than the bare row "Finland 5.5 338,424 Helsinki". The view
is read beside the passage, as part of it: its spans are mapped back to the passage (spans
over the added header words are dropped) and its no-answer margin counts as the passage's.

When it abstains, the best span is still offered as a low-confidence guess if the no-answer
score is at most ``passage_scoring.guess_threshold`` (calibrated with the library threshold:
the widest band above it where such guesses were right often enough; see
``squad_metrics.guess_threshold``). Far above it the best span is noise ("Wuhan Virus" for a
question about Jupiter) and nothing is offered. Without a calibrated value there are no guesses.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.errors import ModelNotFoundError
from assistant.nlp.models import library_no_answer_threshold, read_model_settings
from assistant.nlp.training.qa_features import (
    Candidate,
    Window,
    best_spans,
    encode_windows,
    merge_windows,
    pool_same_answers,
    separate_arrows,
)
from retrieval.tables import TableView
from retrieval.types import Hit

log = logging.getLogger(__name__)

DEFAULT_MAX_LENGTH = 384
DEFAULT_STRIDE = 128
# Used when the reader's answerspan.json has no calibrated values (foreign readers): the bundled
# reader's calibration on SQuAD v1.1 dev (``answerspan evaluate ask --calibrate``).
DEFAULT_RANK_PENALTY = 4.0
DEFAULT_NO_ANSWER_WEIGHT = 0.75
_BLANK_LINE = re.compile(r"\s*\n[^\S\n]*\n")


def end_at_blank_line(text: str, candidate: Candidate) -> Candidate:
    """``candidate`` cut at the first blank line (a paragraph, cell or item break) in its span of
    ``text``, trailing whitespace dropped; unchanged when it has none."""
    found = _BLANK_LINE.search(text, candidate.start, candidate.end)
    if found is None or found.start() <= candidate.start:
        return candidate
    return replace(candidate, end=found.start())


def passage_score(
    span_score: float, rank: int, no_answer_margin: float, rank_penalty: float,
    no_answer_weight: float,
) -> float:
    """How an answer ranks among the passages read for one question.

    Args:
        span_score: the span's start + end logit.
        rank: its passage's 0-based retrieval rank (the search's best first).
        no_answer_margin: its passage's no-answer margin (``[CLS]`` score less best span score;
            high when the reader thinks the passage does not answer).
        rank_penalty: weight of ``ln(rank + 1)``.
        no_answer_weight: weight of the margin.
    """
    return span_score - rank_penalty * math.log(rank + 1) - no_answer_weight * no_answer_margin


def offers_guess(no_answer_score: float, threshold: float, guess_threshold: float) -> bool:
    """Whether a reader abstaining above ``threshold`` still offers its best span as a guess:
    the no-answer score is above the threshold but at most ``guess_threshold``. The one rule
    for :meth:`Reader.read` and the evaluations that report what the app shows."""
    return threshold < no_answer_score <= guess_threshold


@dataclass(frozen=True)
class Span:
    """An answer: characters ``[start, end)`` of ``hits[hit_index].chunk.text``."""

    hit_index: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class ReaderOutput:
    """The best spans (best first) and whether the reader abstains.

    When it abstains, ``answers`` are still its best spans; ``offers_guess`` says whether the
    first is close enough to an answer to show as a low-confidence guess.
    """

    answers: list[Span]
    no_answer: bool
    no_answer_score: float
    offers_guess: bool = False


@dataclass(frozen=True)
class PairPrediction:
    """Best span of one (question, context) pair, for evaluation.

    ``no_answer_score`` is the smallest (CLS score - best span score) over the pair's windows;
    above the threshold means "no answer". ``text`` is the best span even then.
    """

    text: str
    start: int
    end: int
    score: float
    no_answer_score: float


class Reader:
    """Extractive question answering with a fine-tuned encoder (lazy: ``warm_up`` loads it).

    Args:
        model: model directory or HF id (see ``assistant.nlp.models.resolve_model``).
        max_answer_tokens: longest answer span in tokens.
        no_answer_threshold: abstain when the no-answer score is above this, in
            :meth:`predict_pairs` and :meth:`read` alike; ``None`` reads the two calibrated
            thresholds from the model's ``answerspan.json`` (0.0 if absent).
        max_length: tokens per window (default: the training value from ``answerspan.json``).
        stride: overlap of consecutive windows in tokens.
        batch_size: windows per forward pass.
        rank_penalty, no_answer_weight: weights of :func:`passage_score`; ``None`` reads them
            from ``answerspan.json`` (the defaults above if absent).
        length_penalty: taken off a span's score per token after its first; ``None`` reads
            ``span_length_penalty`` from ``answerspan.json`` (0.0 if absent).
    """

    def __init__(
        self,
        model: str,
        max_answer_tokens: int = 30,
        no_answer_threshold: float | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        batch_size: int = 32,
        rank_penalty: float | None = None,
        no_answer_weight: float | None = None,
        length_penalty: float | None = None,
    ) -> None:
        self.model_ref = str(model)
        self._length_penalty = length_penalty
        self._rank_penalty = rank_penalty
        self._no_answer_weight = no_answer_weight
        self.max_answer_tokens = max_answer_tokens
        self._threshold = no_answer_threshold
        self._read_threshold = no_answer_threshold
        self._guess_threshold: float | None = None
        self._max_length = max_length
        self._stride = stride
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self._device = None

    # -- loading ---------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load tokenizer and model (idempotent)."""
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        from assistant.nlp.models import choose_device

        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_ref, use_fast=True)
            separate_arrows(self._tokenizer)
            model = AutoModelForQuestionAnswering.from_pretrained(self.model_ref)
        except (OSError, ValueError) as err:
            raise ModelNotFoundError(f"Cannot load the reader model {self.model_ref}: {err}") from err
        self._device = choose_device()
        # Weights are stored fp16 to stay small; compute in fp32 on CPU (fp16 matmuls are slow).
        dtype = torch.float16 if self._device.type == "cuda" else torch.float32
        self._model = model.to(self._device, dtype=dtype).eval()
        conf = read_model_settings(self.model_ref)
        weights = conf.get("passage_scoring") or {}
        if self._threshold is None:
            self._threshold = float(conf.get("no_answer_threshold", 0.0))
            self._read_threshold = library_no_answer_threshold(conf)
        else:
            self._read_threshold = self._threshold
        # An absolute score, kept when the user sets their own no-answer threshold: it marks
        # where the reader's best span stops being worth a look, whatever the threshold.
        self._guess_threshold = float(weights.get("guess_threshold", -math.inf))
        self._max_length = self._max_length or int(conf.get("max_length", DEFAULT_MAX_LENGTH))
        self._stride = self._stride or int(conf.get("stride", DEFAULT_STRIDE))
        if self._rank_penalty is None:
            self._rank_penalty = float(weights.get("rank_penalty", DEFAULT_RANK_PENALTY))
        if self._no_answer_weight is None:
            self._no_answer_weight = float(
                weights.get("no_answer_weight", DEFAULT_NO_ANSWER_WEIGHT))
        if self._length_penalty is None:
            self._length_penalty = float(conf.get("span_length_penalty", 0.0))
        log.info("reader %s on %s, threshold %.3f", self.model_ref, self._device, self._threshold)

    @property
    def no_answer_threshold(self) -> float:
        """The threshold of a question read against its own paragraph (:meth:`predict_pairs`;
        loads the model settings if needed)."""
        self.warm_up()
        return float(self._threshold)

    @property
    def read_threshold(self) -> float:
        """The threshold :meth:`read` uses over a library's passages (loads settings if needed)."""
        self.warm_up()
        return float(self._read_threshold)

    @property
    def guess_threshold(self) -> float:
        """When :meth:`read` abstains, its best span is offered as a guess if the no-answer
        score is at most this (``-inf``, never, without a calibrated value)."""
        self.warm_up()
        return float(self._guess_threshold)

    @property
    def passage_weights(self) -> tuple[float, float]:
        """``(rank_penalty, no_answer_weight)`` in use (loads the model settings if needed)."""
        self.warm_up()
        return float(self._rank_penalty), float(self._no_answer_weight)

    @property
    def length_penalty(self) -> float:
        """Score taken off a span per token after its first (loads the model settings if needed)."""
        self.warm_up()
        return float(self._length_penalty)

    # -- inference -------------------------------------------------------------------------
    def _logits(self, windows: Sequence[Window]) -> list[tuple[np.ndarray, np.ndarray]]:
        from assistant.nlp.span_logits import span_logits

        inputs = [{"input_ids": w.input_ids, "token_type_ids": w.token_type_ids} for w in windows]
        return span_logits(self._model, inputs, self._tokenizer.pad_token_id, self.batch_size)

    def _candidates(
        self, questions: Sequence[str], contexts: Sequence[str], n_best: int,
        views: Sequence[TableView | None] = (),
    ) -> tuple[list[list[Candidate]], list[float]]:
        """Per pair: its candidates (its windows joined, same answers pooled; best first) and
        its no-answer margin (over its windows, on the plain logit sums).

        A pair with a view (``views[i]``) has its candidates mapped back to the passage the
        view renders; those that do not map (spans over its added header words) are dropped
        before its margin is taken.
        """
        self.warm_up()
        windows = encode_windows(
            self._tokenizer, questions, contexts, self._max_length, self._stride
        )
        logits = self._logits(windows)

        def in_passage(pair: int, found: list[Candidate]) -> list[Candidate]:
            view = views[pair] if pair < len(views) else None
            if view is None:
                return [end_at_blank_line(contexts[pair], c) for c in found]
            return [replace(c, start=m[0], end=m[1]) for c in found
                    if (m := view.to_passage(c.start, c.end)) is not None]

        # The no-answer margin, window by window on the plain logit sums: the thresholds
        # are calibrated on it.
        margins = [math.inf] * len(questions)
        for w, (s, e) in zip(windows, logits):
            found, null = best_spans(w, s, e, n_best, self.max_answer_tokens)
            found = in_passage(w.pair_index, found)
            if found:
                margins[w.pair_index] = min(margins[w.pair_index], null - found[0].score)
        # The spans: from each pair's windows joined, with the length prior, same answers
        # pooled. A table view's windows are not joined: its sentences are independent rows,
        # and a window holding more of them only adds distractors (averaged with a window
        # that had found it, the NICS table's "Kentucky, Permit: 264,140" lost to a number of
        # the raw table).
        with_view = {i for i, view in enumerate(views) if view is not None}
        found_in: list[list[Candidate]] = [[] for _ in questions]
        penalty = self._length_penalty
        for w, s, e in merge_windows(windows, logits, separate=with_view):
            found_in[w.pair_index] += best_spans(
                w, s, e, n_best, self.max_answer_tokens, penalty)[0]
        # Pooled on the text read: a blank line ends a span first; a view's spans are pooled
        # on the view's words and then mapped to the passage.
        cands = [
            pool_same_answers(in_passage(i, found), contexts[i]) if i not in with_view
            else in_passage(i, pool_same_answers(found, contexts[i]))
            for i, found in enumerate(found_in)
        ]
        return cands, margins

    def predict_pairs(
        self, questions: Sequence[str], contexts: Sequence[str], n_best: int = 20
    ) -> list[PairPrediction]:
        """The best span for each independent (question, context) pair (used for evaluation)."""
        cands, margins = self._candidates(questions, contexts, n_best)
        out = []
        for i, found in enumerate(cands):
            if not found:
                out.append(PairPrediction("", 0, 0, -math.inf, math.inf))
                continue
            best = max(found, key=lambda c: c.score)
            out.append(
                PairPrediction(contexts[i][best.start : best.end], best.start, best.end,
                               best.score, margins[i])
            )
        return out

    def read(self, question: str, hits: Sequence[Hit], top_n: int = 3,
             views: Sequence[TableView | None] = ()) -> ReaderOutput:
        """Find the best answer spans to ``question`` in the retrieved ``hits``.

        ``hits`` are in retrieval order, best first (their rank counts in :func:`passage_score`).
        ``views``, one per hit or ``None``, are table views of the hits' passages
        (``retrieval.tables``): each is read as well, and its spans count as the passage's.
        Returns up to ``top_n`` non-overlapping spans over all passages, best first, with
        scores that sum to at most 1 (a softmax over all candidate spans), and whether the
        reader abstains (then the spans are still its best guesses, and ``offers_guess`` says
        whether the first is worth showing as one).
        """
        if not hits:
            return ReaderOutput([], True, math.inf)
        if len(views) > len(hits):
            raise ValueError(f"{len(views)} table views for {len(hits)} passages")
        contexts = [h.chunk.text for h in hits]
        owners = list(range(len(hits)))  # the hit each pair reads
        pair_views: list[TableView | None] = [None] * len(hits)
        for i, view in enumerate(views):
            if view is not None:
                contexts.append(view.text)
                owners.append(i)
                pair_views.append(view)
        cands, pair_margins = self._candidates(
            [question] * len(contexts), contexts, n_best=20, views=pair_views)
        margins = [math.inf] * len(hits)
        for pair, margin in enumerate(pair_margins):
            margins[owners[pair]] = min(margins[owners[pair]], margin)
        rank_penalty, no_answer_weight = self.passage_weights
        unique: dict[tuple[int, int, int], float] = {}
        for pair, found in enumerate(cands):
            hit = owners[pair]
            for c in found:
                key = (hit, c.start, c.end)
                score = passage_score(c.score, hit, margins[hit], rank_penalty,
                                      no_answer_weight)
                unique[key] = max(unique.get(key, -math.inf), score)
        if not unique:
            return ReaderOutput([], True, math.inf)
        scores = np.array(list(unique.values()), dtype=np.float64)
        log_z = float(np.logaddexp.reduce(scores))
        chosen: list[Span] = []
        for (hit, start, end), score in sorted(unique.items(), key=lambda kv: -kv[1]):
            if any(s.hit_index == hit and start < s.end and s.start < end for s in chosen):
                continue  # overlaps a better answer from the same passage
            chosen.append(Span(hit, start, end, math.exp(score - log_z)))
            if len(chosen) >= top_n:
                break
        no_answer_score = min(margins)
        return ReaderOutput(
            chosen, no_answer_score > self.read_threshold, no_answer_score,
            offers_guess=offers_guess(no_answer_score, self.read_threshold, self.guess_threshold))
