"""Headless document library and hybrid retrieval. Knows nothing of Qt or the assistant."""

from __future__ import annotations


class RetrievalError(Exception):
    """Root of every error raised by the retrieval package; ``str(err)`` is user-readable."""
