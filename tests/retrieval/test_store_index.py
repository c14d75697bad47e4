"""SQLite store (rows, FTS5 kept in sync) and the FAISS vector index (ids, atomic files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval import RetrievalError
from retrieval.index import VectorIndex
from retrieval.store import Store
from retrieval.types import Chunk, Page, SourceDocument


def _doc(path: str, *texts: str) -> tuple[SourceDocument, list[Chunk]]:
    pages = tuple(Page(i + 1, t) for i, t in enumerate(texts))
    chunks = [Chunk(0, p.number, 0, len(p.text), p.text, page_index=i) for i, p in enumerate(pages)]
    return SourceDocument(path, "pdf", Path(path).stem, pages), chunks


def test_store_replace_search_delete(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib.sqlite3")
    doc, chunks = _doc("/a.pdf", "Glaciers retreat in warm summers.", "Penguins live in the south.")
    _doc_id, ids, old = store.replace_document(doc, "h1", 10, chunks, [{"topic": "x"}, {}])
    assert old == [] and len(ids) == 2
    hits = store.lexical_search("Where do penguins live?", 5)
    assert [cid for cid, _ in hits] == [ids[1]]
    rows = store.chunks(ids)
    assert rows[ids[0]][0].tags == {"topic": "x"} and rows[ids[0]][1] == "/a.pdf"
    assert store.page_text("/a.pdf", 2) == "Penguins live in the south."
    # Re-indexing a changed file replaces the old chunks, in FTS too; ids are never reused.
    doc2, chunks2 = _doc("/a.pdf", "Glaciers grow in cold winters.")
    _, ids2, old2 = store.replace_document(doc2, "h2", 10, chunks2)
    assert old2 == ids and min(ids2) > max(ids)
    assert store.lexical_search("penguins", 5) == []
    assert store.find("/a.pdf").content_hash == "h2"
    assert store.delete_document("/a.pdf") == ids2
    assert store.lexical_search("glaciers", 5) == [] and store.documents() == []
    assert store.lexical_search("the of", 5) == []  # only stop words: nothing to match
    store.close()


def test_untagged_chunks_wait_for_their_tags_and_go_with_their_document(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib.sqlite3")
    doc, chunks = _doc("/a.pdf", "Glaciers retreat.", "Penguins live in the south.", "Snow.")
    _, ids, _ = store.replace_document(doc, "h1", 10, chunks)  # no tags: stored untagged
    other, other_chunks = _doc("/b.pdf", "Tagged already.")
    _, tagged_ids, _ = store.replace_document(other, "h2", 10, other_chunks, [{"topic": "y"}])
    assert store.untagged_count() == 3
    assert store.untagged_chunks(2) == [(ids[0], "Glaciers retreat."),
                                        (ids[1], "Penguins live in the south.")]
    assert store.untagged_among([ids[2], *tagged_ids, 999]) == {ids[2]}
    store.set_tags({ids[0]: {"topic": "x"}, 12345: {"topic": "gone"}})  # 12345: deleted meanwhile
    assert store.chunks([ids[0]])[ids[0]][0].tags == {"topic": "x"}
    assert [cid for cid, _ in store.untagged_chunks(10)] == ids[1:]
    store.delete_document("/a.pdf")  # its untagged chunks go with it
    assert store.untagged_count() == 0 and store.untagged_chunks(10) == []
    store.close()


def test_store_rolls_back_a_failed_document(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib.sqlite3")
    doc, chunks = _doc("/a.pdf", "One page.")
    with pytest.raises(ValueError):
        store.replace_document(doc, "h", 1, chunks, tags=[{}, {}])  # wrong number of tags
    assert store.documents() == [] and store.chunk_ids() == set()


def test_store_rejects_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(RetrievalError, match="not a readable library database"):
        Store(path)


def test_vector_index_ids_search_and_atomic_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(8)
    index.add([10, 11, 12, 13, 14], vectors)
    assert index.search(vectors[2], 1)[0][0] == 12
    assert index.remove([12, 99]) == 1
    assert index.ids() == {10, 11, 13, 14}
    path = tmp_path / "v.faiss"
    index.save(path)
    assert not (tmp_path / "v.faiss.tmp").exists()
    loaded = VectorIndex.load(path)
    assert loaded.ids() == {10, 11, 13, 14} and loaded.dim == 8
    top = loaded.search(vectors[3], 2)
    assert top[0][0] == 13 and top[0][1] == pytest.approx(1.0, abs=1e-5)
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(RetrievalError):
        VectorIndex.load(path)
    with pytest.raises(ValueError):
        index.add([1], vectors[:2])


def test_vector_index_gives_back_stored_vectors_by_id_after_removal_and_reload(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.random((5, 4), dtype=np.float32)
    index = VectorIndex(4)
    index.add([10, 11, 12, 13, 14], vectors)
    index.remove([11])
    index.save(tmp_path / "v.faiss")
    for loaded in (index, VectorIndex.load(tmp_path / "v.faiss")):
        got = loaded.vectors([12, 11, 14, 99])  # 11 was removed, 99 never added
        assert sorted(got) == [12, 14]
        assert np.allclose(got[12], vectors[2]) and np.allclose(got[14], vectors[4])
    assert VectorIndex(4).vectors([1]) == {} and index.vectors([]) == {}
