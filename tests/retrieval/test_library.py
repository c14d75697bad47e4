"""The library end to end with the real embedder: add/unchanged/updated/remove, reopening,
bad input in a batch, cancel, tags, and crash safety."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from retrieval import RetrievalError
from retrieval.library import RRF_K, Library, fuse
from retrieval.store import Store


def _statuses(reports) -> dict[str, str]:
    return {Path(r.path).name: r.status for r in reports}


def test_add_unchanged_updated_remove_and_reopen(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    lib_dir = tmp_path / "lib"
    calls: list[tuple[int, int, str]] = []
    with Library(lib_dir, embedder) as lib:
        reports = lib.add([small_docs], progress=lambda *a: calls.append(a))
        assert _statuses(reports) == {
            "volcano.txt": "added",
            "bakery.md": "added",
            "chess.txt": "added",
        }
        assert calls[0][:2] == (0, 3) and calls[-1] == (3, 3, "")
        assert all(r.chunks >= 1 and r.pages == 1 for r in reports)
        hit = lib.search("When did the mountain erupt?", k=1)[0]
        assert hit.document.endswith("volcano.txt") and "1783" in hit.chunk.text
    # Reopen: documents, vectors and search survive; an unchanged file is skipped by hash.
    with Library(lib_dir, embedder) as lib:
        assert sorted(Path(d.path).name for d in lib.documents()) == [
            "bakery.md",
            "chess.txt",
            "volcano.txt",
        ]
        assert _statuses(lib.add([small_docs / "volcano.txt"])) == {"volcano.txt": "unchanged"}
        (small_docs / "volcano.txt").write_text(
            "Mount Arden is now quiet. Hikers climb it in May.\n"
        )
        assert _statuses(lib.add([small_docs / "volcano.txt"])) == {"volcano.txt": "updated"}
        hit = lib.search("When do hikers climb the mountain?", k=1)[0]
        assert "May" in hit.chunk.text
        assert all("1783" not in h.chunk.text for h in lib.search("eruption 1783", k=5))
        assert lib.page_text(hit.document, None)[hit.chunk.start : hit.chunk.end] == hit.chunk.text
        removed = lib.remove([small_docs / "sub"])
        assert _statuses(removed) == {"bakery.md": "removed", "chess.txt": "removed"}
        assert _statuses(lib.remove([small_docs / "nothing.txt"])) == {"nothing.txt": "skipped"}
        assert all(
            h.document.endswith("volcano.txt") for h in lib.search("bakery bread chess", k=5)
        )
        with pytest.raises(RetrievalError):
            lib.page_text(str(small_docs / "sub" / "bakery.md"), None)
    with Library(lib_dir, embedder) as lib:
        assert [Path(d.path).name for d in lib.documents()] == ["volcano.txt"]
        assert len(lib._index) == lib.store.chunk_count()


def test_a_pdf_read_by_an_older_loader_is_read_again(tmp_path: Path, docs_dir: Path,
                                                     embedder) -> None:
    """After the PDF loader changed its text (words broken across lines joined), `index` reads
    PDFs indexed before once more instead of keeping their old text as "unchanged"."""
    import hashlib

    pdf = tmp_path / "doc.pdf"
    shutil.copy(docs_dir / "pdf" / "annotation_guidelines_BABE.pdf", pdf)
    with Library(tmp_path / "lib", embedder) as lib:
        assert _statuses(lib.add([pdf])) == {"doc.pdf": "added"}
        assert _statuses(lib.add([pdf])) == {"doc.pdf": "unchanged"}
        # what an older version stored: the bare content hash
        old = hashlib.sha256(pdf.read_bytes()).hexdigest()
        with lib.store._db:
            lib.store._db.execute("UPDATE documents SET content_hash = ?", (old,))
        assert _statuses(lib.add([pdf])) == {"doc.pdf": "updated"}
        assert _statuses(lib.add([pdf])) == {"doc.pdf": "unchanged"}
        text = "\n".join(lib.page_text(d.path, n) for d in lib.documents()
                         for n in range(1, d.pages + 1))
        assert "contro-\nversial" not in text and "controversial" in text


def test_bad_files_are_skipped_with_reasons_and_the_batch_goes_on(
    tmp_path: Path, bad_files: dict[str, Path], small_docs: Path, embedder
) -> None:
    with Library(tmp_path / "lib", embedder) as lib:
        paths = [*bad_files.values(), small_docs / "volcano.txt"]
        reports = {Path(r.path).name: r for r in lib.add(paths)}
        assert reports["volcano.txt"].status == "added"
        for kind, path in bad_files.items():
            report = reports[path.name]
            assert report.status == "skipped" and not report.ok
            assert report.reason.startswith("corrupt PDF" if kind == "not a PDF" else kind)
        assert [Path(d.path).name for d in lib.documents()] == ["volcano.txt"]
        # A good file that turns bad keeps its indexed version.
        (small_docs / "volcano.txt").write_bytes(b"")
        assert lib.add([small_docs / "volcano.txt"])[0].reason == "empty file"
        assert len(lib.documents()) == 1


def test_folders_skip_hidden_and_unsupported_files(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    (small_docs / "image.png").write_bytes(b"\x89PNG")
    with Library(tmp_path / "lib", embedder) as lib:
        names = sorted(_statuses(lib.add([small_docs])))
    assert names == ["bakery.md", "chess.txt", "volcano.txt"]


def test_cancel_leaves_the_rest_unindexed(tmp_path: Path, small_docs: Path, embedder) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int, path: str) -> None:
        if done == 1:
            cancel.set()

    with Library(tmp_path / "lib", embedder) as lib:
        reports = lib.add([small_docs], progress=progress, cancel=cancel)
        assert [r.status for r in reports] == ["added", "skipped", "skipped"]
        assert {r.reason for r in reports[1:]} == {"cancelled"}
        assert len(lib.documents()) == 1


def test_tags_are_stored_per_chunk(tmp_path: Path, small_docs: Path, embedder) -> None:
    def tagger(texts: list[str]) -> list[dict]:
        return [{"sentiment": {"label": "neutral", "score": 0.5}, "chars": len(t)} for t in texts]

    with Library(tmp_path / "lib", embedder, tagger=tagger) as lib:
        lib.add([small_docs / "sub" / "chess.txt"])
    with Library(tmp_path / "lib", embedder) as lib:
        hit = lib.search("chess club", k=1)[0]
        assert hit.chunk.tags == {
            "sentiment": {"label": "neutral", "score": 0.5},
            "chars": len(hit.chunk.text),
        }


def test_tagging_later_makes_search_ready_first_and_search_results_carry_tags(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    tagged: list[str] = []

    def tagger(texts: list[str]) -> list[dict]:
        tagged.extend(texts)
        return [{"chars": len(t)} for t in texts]

    with Library(tmp_path / "lib", embedder, tagger=tagger, tag_later=True) as lib:
        reports = lib.add([small_docs])
        total = sum(r.chunks for r in reports)
        assert tagged == [] and lib.untagged() == total
        # A search tags the passages it returns that are still untagged, and only those.
        hit = lib.search("chess club", k=1)[0]
        assert tagged == [hit.chunk.text] and hit.chunk.tags == {"chars": len(hit.chunk.text)}
        assert lib.untagged() == total - 1
        assert lib.search("chess club", k=1)[0].chunk.tags == hit.chunk.tags and len(tagged) == 1
        assert lib.tag_pending(1) == 1 and lib.untagged() == total - 2
        while lib.tag_pending(16):
            pass
        assert lib.untagged() == 0 and len(tagged) == total
    # Every passage now has its own tags, also after reopening without a tagger.
    with Library(tmp_path / "lib", embedder) as lib:
        hits = lib.search("bread volcano chess", k=total)
        assert len(hits) == total and all(h.chunk.tags == {"chars": len(h.chunk.text)}
                                          for h in hits)


def test_a_library_indexed_without_tagger_is_tagged_by_a_later_one(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    with Library(tmp_path / "lib", embedder) as lib:
        lib.add([small_docs / "volcano.txt"])
        assert lib.untagged() >= 1 and lib.tag_pending() == 0  # no tagger: nothing to do

    def failing(texts: list[str]) -> list[dict]:
        raise RuntimeError("tagger crashed")

    with Library(tmp_path / "lib", embedder, tagger=failing) as lib:
        # A tagger failure stores empty tags instead of retrying the same passages forever.
        assert lib.tag_pending() >= 1 and lib.untagged() == 0
        assert lib.search("volcano", k=1)[0].chunk.tags == {}


def test_a_changed_file_embeds_and_tags_only_its_changed_passages(
    tmp_path: Path, embedder, monkeypatch
) -> None:
    paragraphs = [f"Section {i}: the survey counted {100 + i} herons on lake number {i}, "
                  f"north of the dam, in the spring of {1990 + i}." for i in range(12)]
    report_file = tmp_path / "survey.txt"
    report_file.write_text("\n\n".join(paragraphs) + "\n")
    embedded: list[str] = []
    tagged: list[str] = []

    def tagger(texts: list[str]) -> list[dict]:
        tagged.extend(texts)
        return [{"chars": len(t)} for t in texts]

    with Library(tmp_path / "lib", embedder, tagger=tagger, max_tokens=40,
                 overlap_tokens=8) as lib:
        encode = embedder.encode
        monkeypatch.setattr(embedder, "encode",
                            lambda texts: (embedded.extend(texts), encode(texts))[1])
        (added,) = lib.add([report_file])
        before = {h.chunk.text: h.score for h in lib.search("herons lake", k=100, mode="dense")}
        assert added.status == "added" and added.kept == 0 and len(before) == added.chunks > 4
        embedded.clear()
        tagged.clear()
        paragraphs[-1] = "Section 11: the lake was drained, so no herons were counted."
        report_file.write_text("\n\n".join(paragraphs) + "\n")
        (updated,) = lib.add([report_file])
        embedded_by_add = list(embedded)
        hits = lib.search("herons lake", k=100, mode="dense")
        new_texts = [h.chunk.text for h in hits if h.chunk.text not in before]
        assert updated.status == "updated" and 0 < len(new_texts) < updated.chunks
        # Only the changed passages were embedded and tagged again; the rest kept both.
        assert sorted(embedded_by_add) == sorted(new_texts) == sorted(tagged)
        assert updated.kept == updated.chunks - len(new_texts)
        for h in hits:
            assert h.chunk.tags == {"chars": len(h.chunk.text)}
            if h.chunk.text in before:
                assert h.score == pytest.approx(before[h.chunk.text], abs=1e-6)
        assert any("drained" in t for t in new_texts)
        # A new version saved under another name reuses what the library already holds.
        embedded.clear()
        paragraphs[0] = "Section 0: this year the count moved to the autumn."
        v2 = tmp_path / "survey-v2.txt"
        v2.write_text("\n\n".join(paragraphs) + "\n")
        (added,) = lib.add([v2])
        assert added.status == "added" and 0 < added.kept < added.chunks
        assert len(embedded) == added.chunks - added.kept
        assert any("autumn" in t for t in embedded)
        assert added.kept_text == f"{added.kept} already in the library"


def test_a_file_moved_within_its_folder_is_not_embedded_again(
    tmp_path: Path, small_docs: Path, embedder, monkeypatch
) -> None:
    embedded: list[str] = []
    encode = embedder.encode
    monkeypatch.setattr(embedder, "encode",
                        lambda texts: (embedded.extend(texts), encode(texts))[1])
    with Library(tmp_path / "lib", embedder, tagger=lambda ts: [{"n": 1} for _ in ts]) as lib:
        lib.add([small_docs])
        embedded.clear()
        (small_docs / "sub" / "chess.txt").rename(small_docs / "chess-club.txt")
        reports = {Path(r.path).name: r for r in lib.add([small_docs])}
        moved = reports["chess-club.txt"]
        assert moved.status == "added" and moved.kept == moved.chunks >= 1
        assert moved.kept_text == f"{moved.chunks} already in the library"
        assert reports["chess.txt"].status == "removed" and embedded == []
        hit = lib.search("chess club", k=1)[0]
        assert hit.document.endswith("chess-club.txt") and hit.chunk.tags == {"n": 1}


def test_search_modes(tmp_path: Path, small_docs: Path, embedder) -> None:
    with Library(tmp_path / "lib", embedder) as lib:
        assert lib.search("anything") == []  # empty library
        lib.add([small_docs])
        for mode in ("hybrid", "dense", "lexical"):
            hits = lib.search("sourdough rye bread", k=2, mode=mode)
            assert hits[0].document.endswith("bakery.md"), mode
            assert hits[0].score >= hits[-1].score
        assert lib.search("   ") == []
        with pytest.raises(RetrievalError, match="unknown search mode"):
            lib.search("bread", mode="fuzzy")


def test_adding_a_folder_again_removes_its_deleted_files(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    with Library(tmp_path / "lib", embedder) as lib:
        lib.add([small_docs])
        (small_docs / "sub" / "chess.txt").unlink()
        # a single file given again does not sync anything
        assert _statuses(lib.add([small_docs / "volcano.txt"])) == {"volcano.txt": "unchanged"}
        (gone,) = lib.add([small_docs / "sub" / "chess.txt"])
        assert gone.status == "skipped" and "still in the library" in gone.reason
        assert len(lib.documents()) == 3
        reports = lib.add([small_docs])
        assert _statuses(reports) == {
            "volcano.txt": "unchanged", "bakery.md": "unchanged", "chess.txt": "removed"}
        assert [r.reason for r in reports if r.status == "removed"] == ["deleted from its folder"]
        assert sorted(Path(d.path).name for d in lib.documents()) == ["bakery.md", "volcano.txt"]
        assert all("chess" not in h.chunk.text for h in lib.search("chess club cup", k=5))
        # a folder that is gone (an unplugged drive) removes nothing
        shutil.move(str(small_docs / "sub"), str(tmp_path / "elsewhere"))
        assert _statuses(lib.add([small_docs / "sub"])) == {"sub": "skipped"}
        assert len(lib.documents()) == 2


def test_search_within_documents(tmp_path: Path, small_docs: Path, embedder) -> None:
    with Library(tmp_path / "lib", embedder) as lib:
        lib.add([small_docs])
        chess = small_docs / "sub" / "chess.txt"
        # The bakery passage is the best match overall; limited to the chess notes, every
        # mode returns only theirs (dense search: however poorly they match).
        for mode in ("hybrid", "dense", "lexical"):
            assert lib.search("sourdough rye bread", k=2, mode=mode)[0].document.endswith(
                "bakery.md")
            within = lib.search("sourdough rye bread Moser", k=5, mode=mode, documents=[chess])
            assert all(h.document.endswith("chess.txt") for h in within), mode
        assert lib.search("When did the mountain erupt?", k=5, mode="dense", documents=[chess])
        # two documents; relative paths name the same files as absolute ones
        both = lib.search("erupt bread", k=10, documents=[
            small_docs / "volcano.txt", Path(os.path.relpath(chess))])
        assert {Path(h.document).name for h in both} == {"volcano.txt", "chess.txt"}
        assert len(lib.search("erupt bread", k=10, documents=[])) > len(both)  # empty: all
        with pytest.raises(RetrievalError, match="Not in the library.*nothing.txt"):
            lib.search("bread", documents=[chess, small_docs / "nothing.txt"])


def test_fuse_rewards_agreement() -> None:
    fused = fuse([[(1, 0.9), (2, 0.8), (3, 0.7)], [(2, 12.0)]])
    assert [cid for cid, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))


def test_reopen_repairs_missing_damaged_and_orphan_vectors(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    lib_dir = tmp_path / "lib"
    with Library(lib_dir, embedder) as lib:
        lib.add([small_docs])
        chunk_ids = lib.store.chunk_ids()
    # Vector file lost: rebuilt from the database.
    (lib_dir / "vectors.faiss").unlink()
    with Library(lib_dir, embedder) as lib:
        assert lib._index.ids() == chunk_ids
    # Vector file damaged: rebuilt too.
    (lib_dir / "vectors.faiss").write_bytes(b"garbage" * 10)
    with Library(lib_dir, embedder) as lib:
        assert lib._index.ids() == chunk_ids
    # A crash after the database committed a removal but before the vectors were saved.
    store = Store(lib_dir / "library.sqlite3")
    gone = set(store.delete_document(str((small_docs / "volcano.txt").resolve())))
    store.close()
    with Library(lib_dir, embedder) as lib:
        assert lib._index.ids() == chunk_ids - gone
        assert all(not h.document.endswith("volcano.txt") for h in lib.search("erupted", k=3))


_CRASH = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from assistant.nlp.models import base_model_path
    from retrieval.embedding import Embedder
    from retrieval.library import Library

    lib = Library(Path(sys.argv[1]), Embedder(base_model_path()), save_interval=1e9)

    def progress(done, total, path):
        if done == 2:  # two files committed, vectors never saved: die like a killed process
            os._exit(3)

    lib.add([Path(p) for p in sys.argv[2:]], progress=progress)
    """
)


def test_a_process_killed_mid_ingest_leaves_a_library_that_opens(
    tmp_path: Path, small_docs: Path, embedder
) -> None:
    lib_dir = tmp_path / "lib"
    with Library(lib_dir, embedder) as lib:  # an existing library with one document
        lib.add([small_docs / "sub" / "chess.txt"])
    files = [small_docs / "volcano.txt", small_docs / "sub" / "bakery.md", small_docs / "extra.txt"]
    shutil.copy(small_docs / "sub" / "chess.txt", small_docs / "extra.txt")
    result = subprocess.run(
        [sys.executable, "-c", _CRASH, str(lib_dir), *map(str, files)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 3, result.stderr
    with Library(lib_dir, embedder) as lib:
        names = sorted(Path(d.path).name for d in lib.documents())
        assert names == ["bakery.md", "chess.txt", "volcano.txt"]
        assert lib._index.ids() == lib.store.chunk_ids()
        assert lib.search("sourdough starter", k=1)[0].document.endswith("bakery.md")
        assert _statuses(lib.add(files)) == {
            "volcano.txt": "unchanged",
            "bakery.md": "unchanged",
            "extra.txt": "added",
        }
