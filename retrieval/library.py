"""The document library: add, update, remove and search documents on disk.

Layout of a library directory::

    library.sqlite3   documents, pages, chunks (offsets, tags), FTS5 index: the truth
    vectors.faiss     one vector per chunk id, derived from the database

Consistency: every document is written to SQLite in one transaction, and the vector file is
saved (atomically) only after the transactions it reflects have committed. On open the vector
file is reconciled with the database by chunk id: vectors of deleted chunks are dropped and
missing ones re-embedded, so a crash at any moment leaves a library that opens and is whole.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Self

import numpy as np

from retrieval import RetrievalError
from retrieval.chunking import Chunker, tokenizer_counter
from retrieval.embedding import Embedder
from retrieval.index import VectorIndex
from retrieval.loaders import LoaderError, is_supported, load_document, text_version
from retrieval.store import Store
from retrieval.tables import TableView, looks_tabular, pdf_table_rows, table_view
from retrieval.types import DocumentInfo, FileReport, Hit, SourceDocument

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Tagger = Callable[[list[str]], list[dict]]

DB_FILE = "library.sqlite3"
INDEX_FILE = "vectors.faiss"
MODES = ("hybrid", "dense", "lexical")
# Reciprocal rank fusion constant. Cormack et al. (2009) use 60; on a sample of SQuAD *train*
# questions (25 articles, 3,000 questions; runs/ scratch, never the dev set) k=5 put the answer
# passage in the top 5 for 97.6% vs 96.3% with k=60: a small k trusts each list's top ranks more.
RRF_K = 5


class Cancelled(RetrievalError):
    """Raised inside ``add`` when the cancel event is set; the current file is left unchanged."""


class Library:
    """A persistent, searchable collection of documents.

    Args:
        directory: where the library lives (created if missing).
        embedder: makes the passage and question vectors.
        tagger: optional; called with chunk texts, returns one dict of tags per chunk (stored
            with the chunk). Without one, chunks are stored untagged and a later library with a
            tagger fills their tags in.
        tag_later: store new chunks untagged and leave tagging to :meth:`tag_pending`, so a
            document is searchable about three times sooner (tagging costs about twice the
            embedding). A search tags the untagged passages it returns, so results always
            carry tags when there is a tagger.
        max_tokens: most word pieces per passage.
        overlap_tokens: word pieces shared by consecutive passages.
        save_interval: seconds between vector-file saves during a long ``add`` (it is always
            saved when ``add``/``remove`` return; a crash in between is repaired on open).

    Raises:
        RetrievalError: the directory holds a damaged or newer library database.
    """

    def __init__(
        self,
        directory: Path,
        embedder: Embedder,
        tagger: Tagger | None = None,
        tag_later: bool = False,
        max_tokens: int = 200,
        overlap_tokens: int = 40,
        save_interval: float = 30.0,
    ) -> None:
        self.directory = Path(directory).expanduser()
        if self.directory.exists() and not self.directory.is_dir():
            raise RetrievalError(f"Library location {self.directory} is a file, not a folder.")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.tagger = tagger
        self.tag_later = tag_later
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.save_interval = save_interval
        self.store = Store(self.directory / DB_FILE)
        self._index: VectorIndex | None = None
        self._chunker: Chunker | None = None
        self._dirty = False
        self._last_save = time.monotonic()
        self._reconcile()

    # -- opening ---------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        """The vector file."""
        return self.directory / INDEX_FILE

    def _embedder_id(self) -> str:
        return Path(self.embedder.model_name).name or self.embedder.model_name

    def _reconcile(self) -> None:
        """Make the vectors match the database exactly (see the module docstring)."""
        sql_ids = self.store.chunk_ids()
        stored_model = self.store.get_meta("embedder")
        index = None
        if self.index_path.exists():
            try:
                index = VectorIndex.load(self.index_path)
            except RetrievalError as err:
                log.warning("%s; rebuilding the vectors from the database", err)
        if index is not None and stored_model not in (None, self._embedder_id()):
            log.warning(
                "library vectors were made by %s; re-embedding with %s",
                stored_model,
                self._embedder_id(),
            )
            index = None
        if index is None and not sql_ids:
            self.store.set_meta("embedder", self._embedder_id())
            return
        if index is None or index.dim != self.embedder.dim:
            index = VectorIndex(self.embedder.dim)
        vector_ids = index.ids()
        orphans = vector_ids - sql_ids
        missing = sql_ids - vector_ids
        self._index = index
        if orphans:
            log.info("dropping %d vectors of deleted passages", len(orphans))
            index.remove(orphans)
        if missing:
            log.info("embedding %d passages that have no vector", len(missing))
            rows = self.store.chunk_texts(missing)
            vectors = self._embed([text for _, text in rows])
            index.add([cid for cid, _ in rows], vectors)
        self.store.set_meta("embedder", self._embedder_id())
        if orphans or missing:
            self._save()

    @property
    def chunker(self) -> Chunker:
        """Splits pages into passages sized in the embedder's word pieces."""
        if self._chunker is None:
            self._chunker = Chunker(
                self.max_tokens, self.overlap_tokens, tokenizer_counter(self.embedder.tokenizer)
            )
        return self._chunker

    # -- adding ----------------------------------------------------------------------------
    def add(
        self,
        paths: Sequence[Path],
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[FileReport]:
        """Add files and folders (recursively); re-index changed files, skip unchanged ones.

        A bad file is skipped with a reason and never stops the batch. When ``cancel`` is set,
        the file being indexed is left as it was and the remaining files are reported skipped.
        Adding a folder again also syncs deletions: documents indexed from under it whose
        files no longer exist are removed (not when the folder itself is missing, e.g. an
        unplugged drive, nor after a cancel).

        Returns:
            One report per file, status ``added``, ``updated``, ``unchanged``, ``skipped`` or
            (a file deleted from a given folder) ``removed``.
        """
        files = _expand(paths)
        reports: list[FileReport] = []
        try:
            for done, path in enumerate(files):
                if progress is not None:
                    progress(done, len(files), str(path))
                if cancel is not None and cancel.is_set():
                    reports.extend(FileReport(str(p), "skipped", "cancelled") for p in files[done:])
                    break
                reports.append(self._add_file(path, cancel))
                if time.monotonic() - self._last_save > self.save_interval:
                    self._save()
            else:
                reports.extend(self._remove_vanished(paths))
                if progress is not None:
                    progress(len(files), len(files), "")
        finally:
            self._save()
        return reports

    def _remove_vanished(self, paths: Sequence[Path]) -> list[FileReport]:
        """Remove the documents under the existing folders in ``paths`` whose files are gone."""
        gone = [
            doc
            for folder in paths
            if Path(folder).expanduser().is_dir()
            for doc in self.store.paths_under(_key(Path(folder)))
            if not Path(doc).exists()
        ]
        return [replace(r, reason="deleted from its folder")
                for r in self.remove([Path(d) for d in dict.fromkeys(gone)])]

    def _add_file(self, path: Path, cancel: threading.Event | None) -> FileReport:
        key = _key(path)
        try:
            if not path.is_file():
                load_document(path)  # raises LoaderError with the precise reason
            data = path.read_bytes()
        except LoaderError as err:
            if not path.exists() and self.store.find(key) is not None:
                # Re-indexing a deleted file: say what became of the copy the library holds.
                return FileReport(key, "skipped", f"{err.reason}; its text is still in the "
                                  "library (remove it, or index its folder again)")
            return FileReport(key, "skipped", err.reason)
        except PermissionError:
            return FileReport(key, "skipped", "not readable (permission denied)")
        except OSError as err:
            return FileReport(key, "skipped", f"could not be read ({err.strerror or err})")
        # A file read by a newer loader version counts as changed, and is read again.
        digest = hashlib.sha256(data).hexdigest() + text_version(path)
        existing = self.store.find(key)
        if existing is not None and existing.content_hash == digest:
            return FileReport(key, "unchanged", pages=existing.pages, chunks=existing.chunks)
        try:
            doc = replace(load_document(path), path=key)
            report = self.add_document(doc, digest, size=len(data), cancel=cancel)
        except LoaderError as err:
            return FileReport(key, "skipped", err.reason)
        except Cancelled:
            return FileReport(key, "skipped", "cancelled")
        except Exception as err:  # an unexpected failure on one file must not stop the batch
            log.exception("indexing %s failed", key)
            return FileReport(key, "failed", f"{type(err).__name__}: {err}")
        return report

    def add_document(
        self,
        doc: SourceDocument,
        content_hash: str | None = None,
        size: int = 0,
        cancel: threading.Event | None = None,
    ) -> FileReport:
        """Index an already loaded document under ``doc.path`` (replacing an older version).

        Raises:
            LoaderError: the document has no text to index.
            Cancelled: ``cancel`` was set while embedding; nothing was changed.
        """
        if content_hash is None:
            content_hash = hashlib.sha256(
                "\f".join(p.text for p in doc.pages).encode("utf-8")
            ).hexdigest()
        chunks = self.chunker.chunk_document(doc)
        if not chunks:
            raise LoaderError("no extractable text", doc.path)
        texts = [c.text for c in chunks]
        previous = self.store.find(doc.path)
        # A passage whose text the library already holds keeps its vector and tags: editing one
        # page of a long report embeds and tags only that page's passages again, and a moved or
        # copied file, or a new version of a report saved under another name, reuses its twin's.
        kept = self._kept_passages(texts)
        todo = [i for i, t in enumerate(texts) if t not in kept]
        fresh = self._embed([texts[i] for i in todo], cancel) if todo else None
        dim = fresh.shape[1] if fresh is not None else len(next(iter(kept.values()))[0])
        vectors = np.empty((len(texts), dim), dtype=np.float32)
        tags: list[dict | None] = [None] * len(texts)
        for i, text in enumerate(texts):
            if text in kept:
                vectors[i], tags[i] = kept[text]
        if fresh is not None:
            vectors[todo] = fresh
        if self.tagger is not None and not self.tag_later:
            untagged = [i for i, t in enumerate(tags) if t is None]
            for i, t in zip(untagged, self._tag([texts[i] for i in untagged]), strict=True):
                tags[i] = t
        _, new_ids, old_ids = self.store.replace_document(doc, content_hash, size, chunks, tags)
        # From here the database holds the new version; the vectors follow (and are repaired
        # on open should the process die before the vector file is saved).
        index = self._ensure_index(vectors.shape[1])
        index.remove(old_ids)
        index.add(new_ids, vectors)
        self._dirty = True
        return FileReport(doc.path, "updated" if previous is not None else "added",
                          pages=len(doc.pages), chunks=len(chunks),
                          kept=len(texts) - len(todo))

    def _kept_passages(self, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, dict | None]]:
        """``text -> (vector, tags or None while untagged)`` for those of ``texts`` the library
        already holds (a tagged twin preferred)."""
        if self._index is None:
            return {}
        rows = self.store.chunks_with_texts(texts)
        vectors = self._index.vectors(cid for cid, _, _ in rows)
        kept: dict[str, tuple[np.ndarray, dict | None]] = {}
        for cid, text, tags in rows:
            if cid in vectors and (text not in kept or kept[text][1] is None):
                kept[text] = (vectors[cid], tags)
        return kept

    def _tag(self, texts: list[str]) -> list[dict]:
        if self.tagger is None:
            return [{} for _ in texts]
        try:
            tags = list(self.tagger(texts))
            if len(tags) != len(texts):
                raise ValueError(f"tagger returned {len(tags)} results for {len(texts)} texts")
            return [dict(t or {}) for t in tags]
        except Exception:  # tags are an extra; a tagger failure must not lose the document
            log.warning("tagging failed; passages stored without tags", exc_info=True)
            return [{} for _ in texts]

    # -- tags filled in after indexing ----------------------------------------------------
    def untagged(self) -> int:
        """How many passages wait for their tags (0 once :meth:`tag_pending` caught up)."""
        return self.store.untagged_count()

    def tag_pending(self, limit: int = 16) -> int:
        """Tag up to ``limit`` untagged passages, oldest first; returns how many were tagged.

        Returns 0 without a tagger. A tagger failure stores the passages with empty tags (as
        at index time), so a bad passage cannot stall the rest.
        """
        if self.tagger is None or limit <= 0:
            return 0
        return len(self._tag_and_store(self.store.untagged_chunks(limit)))

    def _with_tags(self, hits: list[Hit]) -> list[Hit]:
        """``hits`` with the tags of any untagged passage among them computed now."""
        if self.tagger is None or not hits:
            return hits
        waiting = self.store.untagged_among(h.chunk.id for h in hits if h.chunk.id is not None)
        found = self._tag_and_store(
            [(h.chunk.id, h.chunk.text) for h in hits if h.chunk.id in waiting])
        return [replace(h, chunk=replace(h.chunk, tags=found[h.chunk.id]))
                if h.chunk.id in found else h for h in hits]

    def _tag_and_store(self, rows: Sequence[tuple[int, str]]) -> dict[int, dict]:
        """Tag ``(chunk id, text)`` rows, store the tags (marking the chunks tagged) and
        return them by chunk id."""
        if not rows:
            return {}
        tags = self._tag([text for _, text in rows])
        found = {cid: t for (cid, _), t in zip(rows, tags, strict=True)}
        self.store.set_tags(found)
        return found

    def _embed(self, texts: list[str], cancel: threading.Event | None = None) -> np.ndarray:
        step = max(1, self.embedder.batch_size * 2)
        parts = []
        for i in range(0, len(texts), step):
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            parts.append(self.embedder.encode(texts[i : i + step]))
        if not parts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.concatenate(parts)

    def _ensure_index(self, dim: int) -> VectorIndex:
        if self._index is None:
            self._index = VectorIndex(dim)
        return self._index

    def _save(self) -> None:
        if self._dirty and self._index is not None:
            self._index.save(self.index_path)
            self._dirty = False
        self._last_save = time.monotonic()

    # -- removing and listing --------------------------------------------------------------
    def remove(self, paths: Iterable[Path]) -> list[FileReport]:
        """Remove documents (their rows and vectors) by file path or by folder.

        Returns:
            One report per document: ``removed``, or ``skipped`` "not in the library".
        """
        reports = []
        try:
            for path in paths:
                key = _key(Path(path))
                targets = [key] if self.store.find(key) else self.store.paths_under(key)
                if not targets:
                    reports.append(FileReport(key, "skipped", "not in the library"))
                for target in targets:
                    found = self.store.find(target)
                    ids = self.store.delete_document(target)
                    if self._index is not None:
                        self._index.remove(ids)
                        self._dirty = True
                    reports.append(
                        FileReport(
                            target, "removed", pages=found.pages if found else 0, chunks=len(ids)
                        )
                    )
        finally:
            self._save()
        return reports

    def documents(self) -> list[DocumentInfo]:
        """Every document in the library, ordered by path."""
        return self.store.documents()

    def page_text(self, document: str, page: int | None) -> str:
        """Full text of page ``page`` (1-based; ``None`` for page-less files) of ``document``.

        Raises:
            RetrievalError: no such document or page in the library.
        """
        text = self.store.page_text(document, page)
        if text is None:
            text = self.store.page_text(_key(Path(document)), page)
        if text is None:
            where = f"page {page} of " if page is not None else ""
            raise RetrievalError(f"{where}{document} is not in the library")
        return text

    def table_views(self, hits: Sequence[Hit]) -> list[TableView | None]:
        """For each hit, the table view of its passage (``retrieval.tables``): its table rows
        as sentences with their column headers, or ``None``. Only PDF passages that look like
        a table are looked at; their page is read again from the file, in layout mode."""
        views: list[TableView | None] = []
        for hit in hits:
            chunk = hit.chunk
            view = None
            if (chunk.page is not None and hit.document.lower().endswith(".pdf")
                    and looks_tabular(chunk.text)):
                try:
                    page_text = self.page_text(hit.document, chunk.page)
                except RetrievalError:
                    page_text = ""
                rows = pdf_table_rows(hit.document, chunk.page, page_text) if page_text else ()
                view = table_view(rows, chunk.start, chunk.end)
            views.append(view)
        return views

    # -- searching -------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        query_vector: np.ndarray | None = None,
        documents: Sequence[str | Path] | None = None,
    ) -> list[Hit]:
        """The ``k`` passages that best match ``query``, best first.

        Args:
            query: a question or keywords.
            k: how many passages.
            mode: ``hybrid`` (dense + BM25 fused by reciprocal rank), ``dense`` or ``lexical``.
            query_vector: the query's embedding if already computed (benchmarks embed all
                questions in one batch); by default the embedder encodes ``query``.
            documents: search only these documents (paths as added); ``None`` or empty: all.

        Returns:
            Hits with the chunk (offsets, tags), a score (higher is better: the fused RRF score,
            cosine similarity, or BM25) and the document path.

        Raises:
            RetrievalError: an unknown mode, or a document that is not in the library.
        """
        if mode not in MODES:
            raise RetrievalError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        query = query.strip()
        if not query or k <= 0:
            return []
        doc_ids = self._document_ids(documents) if documents else None
        # BM25 filters by document in SQL; only the vector search needs the chunk ids.
        chunk_ids = (set(self.store.chunk_ids_of(doc_ids))
                     if doc_ids is not None and mode != "lexical" else None)
        pool = max(k, 50)
        if mode == "dense":
            ranked = self._dense(query, k, query_vector, chunk_ids)
        elif mode == "lexical":
            ranked = self.store.lexical_search(query, k, doc_ids)
        else:
            dense = self._dense(query, pool, query_vector, chunk_ids)
            ranked = fuse([dense, self.store.lexical_search(query, pool, doc_ids)])[:k]
        rows = self.store.chunks([cid for cid, _ in ranked])
        return self._with_tags(
            [Hit(rows[cid][0], score, rows[cid][1]) for cid, score in ranked if cid in rows])

    def _document_ids(self, documents: Sequence[str | Path]) -> list[int]:
        """Library ids of ``documents``; a clear error names any that is not in the library."""
        keys = [_key(Path(d)) for d in documents]
        found = self.store.document_ids(keys)
        missing = [str(d) for d, key in zip(documents, keys, strict=True) if key not in found]
        if missing:
            raise RetrievalError(
                "Not in the library (add it first, or check the path): " + ", ".join(missing))
        return list(found.values())

    def _dense(
        self, query: str, k: int, vector: np.ndarray | None = None,
        within: set[int] | None = None,
    ) -> list[tuple[int, float]]:
        if self._index is None or len(self._index) == 0:
            return []
        if vector is None:
            vector = self.embedder.encode([query])[0]
        return self._index.search(vector, k, within)

    def close(self) -> None:
        """Save the vectors and close the database."""
        self._save()
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fuse(
    rankings: Sequence[Sequence[tuple[int, float]]], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: ``sum(1 / (k + rank))`` over the rankings, best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (cid, _) in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _key(path: Path) -> str:
    """The identity of a file in the library: its absolute, resolved path."""
    return str(Path(path).expanduser().resolve())


def _expand(paths: Sequence[Path]) -> list[Path]:
    """Files to index: given files as they are, folders walked for supported, visible files."""
    out: list[Path] = []
    seen: set[str] = set()
    for path in paths:
        path = Path(path).expanduser()
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and is_supported(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found = [path]
        for p in found:
            if _key(p) not in seen:
                seen.add(_key(p))
                out.append(p)
    return out
