"""Overlapping, token-aware passages that keep exact page offsets.

Every chunk is a slice of its page: ``page.text[chunk.start:chunk.end] == chunk.text``. A chunk
holds at most ``max_tokens`` word pieces of the model's tokenizer (so the reader and the embedder
see all of it), ends at a sentence boundary where one lies in its second half, and the next
chunk starts about ``overlap_tokens`` earlier (at a sentence start where possible) so an answer
that straddles a cut is still whole in one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from retrieval.types import Chunk, SourceDocument

# Counts word pieces for a batch of whitespace-free words.
TokenCounter = Callable[[Sequence[str]], list[int]]

_WORD = re.compile(r"\S+")
_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)
# A word that ends a sentence: terminal punctuation, optionally closed by quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "st.",
    "vs.",
    "etc.",
    "e.g.",
    "i.e.",
    "cf.",
    "al.",
    "fig.",
    "eq.",
    "no.",
    "vol.",
    "pp.",
    "jr.",
    "sr.",
    "inc.",
    "ltd.",
    "co.",
    "z.b.",
    "bzw.",
    "ca.",
    "vgl.",
    "sec.",
    "approx.",
    "u.s.",
    "u.k.",
}


def approximate_counter(words: Sequence[str]) -> list[int]:
    """Word pieces estimated without a tokenizer: runs of letters/digits and single symbols."""
    return [max(1, len(_PIECE.findall(w))) for w in words]


def tokenizer_counter(tokenizer) -> TokenCounter:
    """A :data:`TokenCounter` from a Hugging Face (fast) tokenizer.

    BERT-style tokenizers split on whitespace before word pieces, so the pieces of a text are
    the sum of the pieces of its words; counting words lets the chunker cut anywhere exactly.
    """

    def count(words: Sequence[str]) -> list[int]:
        if not words:
            return []
        ids = tokenizer(list(words), add_special_tokens=False)["input_ids"]
        return [max(1, len(x)) for x in ids]

    return count


@dataclass(frozen=True)
class Chunker:
    """Splits pages into overlapping passages.

    Args:
        max_tokens: most word pieces in one chunk (the reader adds the question and specials).
        overlap_tokens: about how many word pieces consecutive chunks share.
        count_tokens: word-piece counter for a batch of words; defaults to an approximation.
    """

    max_tokens: int = 200
    overlap_tokens: int = 40
    count_tokens: TokenCounter = approximate_counter

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        if not 0 <= self.overlap_tokens <= self.max_tokens // 2:
            raise ValueError("overlap_tokens must be between 0 and max_tokens / 2")

    def split(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` character spans of the passages of ``text``."""
        words = self._words(text)
        if not words:
            return []
        counts = self.count_tokens([text[s:e] for s, e in words])
        cum = [0]
        for c in counts:
            cum.append(cum[-1] + c)
        starts = _sentence_starts(text, words)
        n, spans, begin, prev_end = len(words), [], 0, 0
        while True:
            end = self._extend(begin, n, cum)
            if end <= prev_end:
                # The overlap left no room for a new word (a very long word follows): no overlap.
                begin = prev_end
                end = self._extend(begin, n, cum)
            if end < n:
                # Prefer to end at a sentence boundary in the chunk's second half that still
                # adds words beyond the previous chunk.
                half = cum[begin] + self.max_tokens // 2
                for b in range(end, max(begin, prev_end), -1):
                    if starts[b] and cum[b] >= half:
                        end = b
                        break
            spans.append((words[begin][0], words[end - 1][1]))
            if end >= n:
                return spans
            prev_end = end
            begin = self._next_begin(begin, end, cum, starts)

    def _extend(self, begin: int, n: int, cum: list[int]) -> int:
        """The largest ``end`` with words ``[begin, end)`` within budget (at least one word)."""
        end = begin + 1
        while end < n and cum[end + 1] - cum[begin] <= self.max_tokens:
            end += 1
        return end

    def _next_begin(self, begin: int, end: int, cum: list[int], starts: list[bool]) -> int:
        """Where the next chunk starts: ~``overlap_tokens`` back, at a sentence start if any.

        A chunk cut at a sentence boundary with no sentence start inside the overlap window is
        followed without overlap (answers rarely straddle sentences); a chunk cut mid-sentence
        is overlapped word by word so the cut sentence is whole in one of them.
        """
        if self.overlap_tokens == 0:
            return end
        earliest = None
        for b in range(begin + 1, end):
            if cum[end] - cum[b] <= self.overlap_tokens:
                if starts[b]:
                    return b
                earliest = b if earliest is None else earliest
        if starts[end] or earliest is None:
            return end
        return earliest

    def _words(self, text: str) -> list[tuple[int, int]]:
        """Whitespace-separated words; a word longer than a chunk is cut into pieces."""
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        long_ = [i for i, (s, e) in enumerate(spans) if e - s > self.max_tokens // 2]
        if not long_:
            return spans
        counts = self.count_tokens([text[spans[i][0] : spans[i][1]] for i in long_])
        out: list[tuple[int, int]] = []
        too_long = {i: c for i, c in zip(long_, counts, strict=True) if c > self.max_tokens // 2}
        for i, (s, e) in enumerate(spans):
            if i not in too_long:
                out.append((s, e))
                continue
            parts = -(-too_long[i] * 2 // self.max_tokens) + 1
            step = max(1, -(-(e - s) // parts))
            out.extend((p, min(p + step, e)) for p in range(s, e, step))
        return out

    def chunk_document(self, doc: SourceDocument, doc_id: int = 0) -> list[Chunk]:
        """All chunks of ``doc``, page by page (a chunk never spans two pages)."""
        chunks = []
        for index, page in enumerate(doc.pages):
            for start, end in self.split(page.text):
                chunks.append(
                    Chunk(doc_id, page.number, start, end, page.text[start:end], page_index=index)
                )
        return chunks


def _sentence_starts(text: str, words: list[tuple[int, int]]) -> list[bool]:
    """``starts[i]``: word ``i`` begins a sentence or paragraph (``starts[n]`` is the end)."""
    starts = [False] * (len(words) + 1)
    starts[0] = starts[-1] = True
    for i in range(1, len(words)):
        prev_s, prev_e = words[i - 1]
        gap = text[prev_e : words[i][0]]
        if gap.count("\n") >= 2:
            starts[i] = True
            continue
        prev = text[prev_s:prev_e]
        if not _SENTENCE_END.search(prev) or prev.lower() in _ABBREVIATIONS:
            continue
        first = text[words[i][0]]
        starts[i] = first.isupper() or first.isdigit() or first in "\"'“‘([-–•"
    return starts
