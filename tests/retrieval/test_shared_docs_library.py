"""Every real document in ../shared/docs through the whole library (slow: embeds ~1,000 passages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.library import Library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docs_library(tmp_path_factory, docs_dir: Path, embedder):
    directory = tmp_path_factory.mktemp("shared-docs-library")
    lib = Library(directory, embedder)
    reports = lib.add([docs_dir])
    yield lib, reports
    lib.close()


def test_every_document_is_indexed(docs_library, docs_dir: Path) -> None:
    lib, reports = docs_library
    files = sorted(str(p.resolve()) for p in docs_dir.rglob("*") if p.is_file())
    assert sorted(r.path for r in reports) == files
    assert [r for r in reports if r.status != "added"] == []
    assert len(lib.documents()) == len(files)
    assert len(lib._index) == lib.store.chunk_count() > 500
    german = next(d for d in lib.documents() if d.path.endswith("GeoTopo-komprimiert.pdf"))
    assert german.pages == 117


@pytest.mark.parametrize(
    ("question", "document", "page", "words"),
    [
        ("How much did Time Warner's quarterly profits rise?", "bbc-business_001.txt", None, "76%"),
        ("Wie ist eine Metrik definiert?", "GeoTopo-komprimiert.pdf", None, "Metrik"),
        (
            "How many firearm background checks were run in November 2015?",
            "nics-background-checks-2015-11.pdf",
            1,
            "NICS",
        ),
        (
            "Who drew criticism for comments about the war in Afghanistan?",
            "basil-2010-07-02_nyt_2b95d2cf-e979-4f9c-ae27-9a5370934f23_1.txt",
            None,
            "Steele",
        ),
    ],
)
def test_hybrid_search_finds_the_right_passage(
    docs_library, question, document, page, words
) -> None:
    lib, _ = docs_library
    hits = lib.search(question, k=5)
    best = [h for h in hits if h.document.endswith(document)]
    assert best, [h.document for h in hits]
    assert words in best[0].chunk.text
    if page is not None:
        assert best[0].chunk.page == page


def test_offsets_round_trip_through_the_library(docs_library) -> None:
    lib, _ = docs_library
    for question in ("neural network training", "Gericht Anhörung", "sentiment target"):
        for hit in lib.search(question, k=10):
            page = lib.page_text(hit.document, hit.chunk.page)
            assert page[hit.chunk.start : hit.chunk.end] == hit.chunk.text


def test_adding_again_is_all_unchanged(docs_library, docs_dir: Path) -> None:
    lib, _ = docs_library
    reports = lib.add([docs_dir / "pdf"])
    assert {r.status for r in reports} == {"unchanged"}
