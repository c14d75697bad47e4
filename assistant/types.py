"""Frozen results of the assistant, safe to pass between threads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    """An extractive answer: ``page_text[start:end] == text`` in ``document`` at ``page``.

    ``context`` is the passage the span was read from; ``context_start`` is the passage's offset
    in the page, so the span inside the passage is ``[start - context_start, end - context_start)``.
    ``tags`` maps tagger name (sentiment, bias, topic) to ``{"label": str, "score": float, ...}``.
    ``table_cell`` names the row and column of a PDF table value ("Finland, Area (km2)"), when
    the answer is one (``retrieval.tables``); "" otherwise.
    """

    text: str
    document: str
    page: int | None
    start: int
    end: int
    score: float
    context: str
    context_start: int
    tags: dict = field(default_factory=dict, compare=False, hash=False)
    table_cell: str = ""


@dataclass(frozen=True)
class Passage:
    """A retrieved passage the reader looked at."""

    document: str
    page: int | None
    start: int
    end: int
    text: str
    score: float
    tags: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class AnswerResult:
    """Everything ``Assistant.ask`` returns for one question.

    When the reader abstains (``no_answer``), ``answers`` is empty and ``best_guess`` is the
    span it would have given, if any: shown as a low-confidence guess, never as the answer.
    ``documents`` are the documents the question was limited to (empty: the whole library).
    """

    question: str
    answers: tuple[Answer, ...]
    passages: tuple[Passage, ...]
    no_answer: bool
    seconds: float = 0.0
    best_guess: Answer | None = None
    documents: tuple[str, ...] = ()
