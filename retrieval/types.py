"""Immutable values passed between loaders, chunker, store, index and library."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """One page of a document. ``number`` is 1-based; ``None`` for formats without pages."""

    number: int | None
    text: str


@dataclass(frozen=True)
class SourceDocument:
    """A loaded document: its path, kind (``pdf``, ``txt``, ``md``, ``html``), title and pages."""

    path: str
    kind: str
    title: str
    pages: tuple[Page, ...]


@dataclass(frozen=True)
class Chunk:
    """A passage of one page: ``page_text[start:end] == text`` always holds.

    ``page`` is the 1-based page number (``None`` for files without pages), and
    ``page_index`` the 0-based position of the page in the document.
    """

    doc_id: int
    page: int | None
    start: int
    end: int
    text: str
    id: int | None = None
    page_index: int = 0
    # Source tags filled at index time, e.g. {"sentiment": {"label": "neutral", "score": 0.9}}.
    tags: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score (higher is better) and document path."""

    chunk: Chunk
    score: float
    document: str = ""


@dataclass(frozen=True)
class FileReport:
    """What happened to one path during ``Library.add`` or ``Library.remove``.

    ``status`` is one of ``added``, ``updated``, ``unchanged``, ``removed``, ``skipped``
    (bad input: ``reason`` says why, e.g. "corrupt PDF", "encrypted", "empty file",
    "no extractable text", "unsupported type .xyz", "not found", "binary file").
    """

    path: str
    status: str
    reason: str = ""
    pages: int = 0
    chunks: int = 0
    # How many passages reused the vector and tags of a passage with the same text already in
    # the library: unchanged passages of an updated file, or those of a moved or copied one.
    kept: int = 0

    @property
    def kept_text(self) -> str:
        """What was reused, for reports: "85 unchanged", "12 already in the library", or ""."""
        if not self.kept:
            return ""
        return (f"{self.kept} unchanged" if self.status == "updated"
                else f"{self.kept} already in the library")

    @property
    def ok(self) -> bool:
        """False when the file was skipped or failed."""
        return self.status not in ("skipped", "failed")


@dataclass(frozen=True)
class DocumentInfo:
    """A document in the library, as listed to users."""

    id: int
    path: str
    kind: str
    title: str
    pages: int
    chunks: int
    content_hash: str
    added_at: str
