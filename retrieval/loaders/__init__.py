"""Document loaders, one registry by file suffix.

``load_document(path)`` turns a file into a :class:`~retrieval.types.SourceDocument` or raises
:class:`LoaderError` whose message says, in words a user understands, why the file was skipped
("corrupt PDF", "encrypted PDF", "empty file", "no extractable text", "binary file",
"unsupported type .xyz", "not found", "not readable").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from retrieval import RetrievalError
from retrieval.types import SourceDocument

log = logging.getLogger(__name__)

Loader = Callable[[Path], SourceDocument]


class LoaderError(RetrievalError):
    """A file could not be loaded; ``reason`` is a short user-readable cause."""

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


_REGISTRY: dict[str, Loader] = {}

# Raised when a loader starts giving other text for the same file, so that `index` reads such
# files again once instead of keeping the old text as "unchanged". PDF 2: words broken across
# lines by a hyphen are joined.
_TEXT_VERSIONS = {".pdf": 2}


def text_version(path: str | Path) -> str:
    """A tag of the loader's text version for ``path`` ("" for the first version): the library
    stores it with the file's content hash."""
    version = _TEXT_VERSIONS.get(Path(path).suffix.lower(), 1)
    return "" if version == 1 else f"+text{version}"


def register(suffixes: tuple[str, ...], loader: Loader) -> None:
    """Make ``loader`` handle files whose lower-cased suffix is one of ``suffixes``."""
    for suffix in suffixes:
        _REGISTRY[suffix.lower()] = loader


def supported_suffixes() -> tuple[str, ...]:
    """Suffixes (with the dot) that ``load_document`` accepts, sorted."""
    return tuple(sorted(_REGISTRY))


def is_supported(path: str | Path) -> bool:
    """True when ``path`` has a suffix some loader handles."""
    return Path(path).suffix.lower() in _REGISTRY


def load_document(path: str | Path) -> SourceDocument:
    """Load one file into pages of text.

    Args:
        path: a PDF, ``.txt``, ``.md``, ``.html`` or ``.htm`` file.

    Raises:
        LoaderError: the path is missing, unreadable, empty, of an unsupported type, or its
            content cannot be turned into text; ``err.reason`` says which.
    """
    path = Path(path)
    if not path.exists():
        raise LoaderError("not found", path)
    if not path.is_file():
        raise LoaderError("not a regular file", path)
    suffix = path.suffix.lower()
    loader = _REGISTRY.get(suffix)
    if loader is None:
        raise LoaderError(f"unsupported type {suffix or '(no suffix)'}", path)
    if not os.access(path, os.R_OK):
        raise LoaderError("not readable (permission denied)", path)
    if path.stat().st_size == 0:
        raise LoaderError("empty file", path)
    try:
        doc = loader(path)
    except LoaderError as err:
        if err.path is None:
            raise LoaderError(err.reason, path) from err
        raise
    except PermissionError as err:
        raise LoaderError("not readable (permission denied)", path) from err
    except OSError as err:
        raise LoaderError(f"could not be read ({err.strerror or err})", path) from err
    if not any(page.text.strip() for page in doc.pages):
        hint = " (scanned or image-only PDF?)" if doc.kind == "pdf" else ""
        raise LoaderError(f"no extractable text{hint}", path)
    return doc


def _register_builtin() -> None:
    from retrieval.loaders import news, pdf

    register((".pdf",), pdf.load_pdf)
    register((".txt", ".md", ".markdown"), news.load_text)
    register((".html", ".htm"), news.load_html)


_register_builtin()

__all__ = [
    "LoaderError",
    "is_supported",
    "load_document",
    "register",
    "supported_suffixes",
]
