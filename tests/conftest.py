"""Shared fixtures: paths to ../shared, temporary libraries, the real embedder (session-scoped)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the repository; tests needing it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (it is in CI)")
    return SHARED


@pytest.fixture(scope="session")
def docs_dir(shared_dir: Path) -> Path:
    """Real PDFs and news articles."""
    return shared_dir / "docs"


@pytest.fixture(scope="session")
def data_dir(shared_dir: Path) -> Path:
    """Real datasets."""
    return shared_dir / "data"


@pytest.fixture(scope="session")
def embedder():
    """The real bundled MiniLM embedder, loaded once per test session."""
    from assistant.nlp.models import base_model_path
    from retrieval.embedding import Embedder

    emb = Embedder(base_model_path())
    emb.warm_up()
    return emb
