"""Words as BABE marks them, and how word pieces map onto them.

One definition serves both sides of the biased-word head: training labels each word piece by
the annotated words it overlaps (``assistant.nlp.training.train_classifier``), and the app turns
the head's per-piece scores back into word scores (``assistant.nlp.taggers``). Both must split
words the same way, or the head would be read differently from how it was taught.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Lower-case letters with inner hyphens and apostrophes: "far-left" and "don't" are one word,
# as in BABE's ``biased_words``.
WORD = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]")
_WORD_ANY_CASE = re.compile(WORD.pattern, re.IGNORECASE)


def word_tokens(text: str) -> list[str]:
    """Lower-case word tokens (hyphenated words kept whole, as BABE marks them)."""
    return WORD.findall(text.lower())


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, lower-case word)`` of each word of ``text``, in order.

    Matched in the original text, not a lower-cased copy: lower-casing can change the length
    of some non-ASCII strings, and the offsets must stay the tokenizer's.
    """
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD_ANY_CASE.finditer(text)]


def pieces_to_words(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]]
) -> list[list[int]]:
    """For each word piece, the indices of the words in ``spans`` it overlaps.

    ``offsets`` are the tokenizer's character offsets in the same text; special tokens and
    padding (``start == end``) overlap nothing. Both lists are in text order, so one pass
    suffices.
    """
    out: list[list[int]] = []
    first = 0  # the first word that may still overlap a later piece
    for a, z in offsets:
        if a == z:
            out.append([])
            continue
        while first < len(spans) and spans[first][1] <= a:
            first += 1
        hits = []
        j = first
        while j < len(spans) and spans[j][0] < z:
            hits.append(j)
            j += 1
        out.append(hits)
    return out


def word_scores(
    text: str, offsets: Sequence[tuple[int, int]], piece_scores: Iterable[float]
) -> dict[str, float]:
    """``{word: score}``: a word's score is the highest of the pieces that overlap it.

    Words the tokenizer truncated away get no score.
    """
    spans = word_spans(text)
    scores: dict[str, float] = {}
    for hits, q in zip(pieces_to_words(offsets, spans), piece_scores):
        for j in hits:
            w = spans[j][2]
            scores[w] = max(scores.get(w, 0.0), float(q))
    return scores
