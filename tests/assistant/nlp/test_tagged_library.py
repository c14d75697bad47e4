"""Tags are computed at index time, stored with the passages and returned by search and ask."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.nlp import models
from assistant.nlp.taggers import PassageTagger

pytestmark = pytest.mark.slow

TASKS = {"sentiment", "bias", "topic"}


@pytest.fixture(scope="module")
def passage_tagger() -> PassageTagger:
    tagger = PassageTagger.from_settings(Settings(library_dir=Path("unused")))
    assert tagger is not None, "no bundled tagger model"
    return tagger


def test_tags_are_stored_and_survive_reopening(tmp_path: Path, docs_dir: Path, embedder,
                                               passage_tagger: PassageTagger) -> None:
    from retrieval.library import Library

    doc = tmp_path / "docs" / "bbc-sport_001.txt"
    doc.parent.mkdir()
    shutil.copy(docs_dir / "news/bbc-sport_001.txt", doc)
    lib = Library(tmp_path / "lib", embedder, tagger=passage_tagger)
    try:
        reports = lib.add([doc])
        assert reports[0].status == "added"
    finally:
        lib.close()
    # Reopened without a tagger: the tags come from the store, not from a new tagging pass.
    lib = Library(tmp_path / "lib", embedder)
    try:
        hits = lib.search("Who won the match?", k=3)
    finally:
        lib.close()
    assert hits
    for hit in hits:
        assert set(hit.chunk.tags) == TASKS
        assert hit.chunk.tags["topic"]["label"] == "sport"
        assert 0.0 <= hit.chunk.tags["sentiment"]["score"] <= 1.0
        assert isinstance(hit.chunk.tags["bias"]["words"], list)


@pytest.mark.skipif(models.bundled_model_dir("reader") is None,
                    reason="the bundled reader model is not there yet (issue 3)")
def test_ask_returns_tags_of_each_answer_and_passage(tmp_path: Path, docs_dir: Path) -> None:
    from assistant.service import Assistant

    doc = tmp_path / "bbc-business_001.txt"
    shutil.copy(docs_dir / "news/bbc-business_001.txt", doc)
    assistant = Assistant(Settings(library_dir=tmp_path / "lib"))
    try:
        assistant.ingest([doc])
        result = assistant.ask("What is this article about?")
    finally:
        assistant.close()
    assert result.passages
    assert all(set(p.tags) == TASKS for p in result.passages)
    assert all(set(a.tags) == TASKS for a in result.answers)
