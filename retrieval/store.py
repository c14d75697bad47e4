"""SQLite metadata store: documents, page texts, chunks with offsets and tags, FTS5 for BM25.

The store is the library's truth. Every change to one document is a single transaction, so a
crash leaves either the old or the new version, never half of one. Chunk ids come from
``AUTOINCREMENT`` and are never reused, which lets the vector index be reconciled by id alone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retrieval import RetrievalError
from retrieval.types import Chunk, DocumentInfo, SourceDocument

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    number INTEGER,
    text TEXT NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page_index INTEGER NOT NULL,
    page INTEGER,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
-- Chunks stored before their tags: filled in later (Library.tag_pending), dropped with the chunk.
CREATE TABLE IF NOT EXISTS untagged (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""

# Words too common to help BM25 rank; dropping them keeps an OR query small and fast.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "in",
        "zu",
        "den",
        "von",
        "mit",
        "sich",
        "des",
        "auf",
        "für",
        "im",
        "dem",
        "nicht",
        "ein",
        "eine",
    ]
)
_TERM = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class StoredDocument:
    """A document row."""

    id: int
    path: str
    content_hash: str
    pages: int
    chunks: int


class Store:
    """The SQLite database of one library.

    Raises:
        RetrievalError: the file is not a readable library database.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            # The GUI opens the library on one thread and uses it on its single worker thread.
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
            version = self.get_meta("schema_version")
            if version is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            elif int(version) > SCHEMA_VERSION:
                raise RetrievalError(
                    f"{self.path} was written by a newer Answerspan (schema {version})."
                )
        except sqlite3.DatabaseError as err:
            raise RetrievalError(f"{self.path} is not a readable library database: {err}") from err

    # -- plumbing --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: committed on success, rolled back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (folds the WAL back into the database file)."""
        self._db.close()

    def get_meta(self, key: str) -> str | None:
        """A library-wide setting, e.g. which embedder made the vectors."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a library-wide setting."""
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents -------------------------------------------------------------------------
    def find(self, path: str) -> StoredDocument | None:
        """The document stored under ``path``, if any."""
        row = self._db.execute(
            "SELECT id, path, content_hash, pages, chunks FROM documents WHERE path = ?", (path,)
        ).fetchone()
        return StoredDocument(*row) if row else None

    def paths_under(self, folder: str) -> list[str]:
        """Paths of documents inside ``folder`` (recursively)."""
        prefix = folder.rstrip("/\\") + os.sep
        rows = self._db.execute(
            "SELECT path FROM documents WHERE substr(path, 1, ?) = ? ORDER BY path",
            (len(prefix), prefix),
        )
        return [r[0] for r in rows]

    def replace_document(
        self,
        doc: SourceDocument,
        content_hash: str,
        size: int,
        chunks: Sequence[Chunk],
        tags: Sequence[dict | None] | None = None,
    ) -> tuple[int, list[int], list[int]]:
        """Insert ``doc`` (replacing any document with the same path) in one transaction.

        ``tags`` holds one dict per chunk, or ``None`` for a chunk to be tagged later
        (:meth:`untagged_chunks`, :meth:`set_tags`); ``tags=None`` leaves every chunk untagged.

        Returns:
            ``(doc_id, new_chunk_ids, old_chunk_ids)``; old ids belong to the replaced version.
        """
        tags = tags if tags is not None else [None] * len(chunks)
        with self.transaction() as db:
            old_ids = self._delete(db, doc.path)
            cur = db.execute(
                "INSERT INTO documents(path, kind, title, content_hash, size, pages, chunks, "
                "added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.path,
                    doc.kind,
                    doc.title,
                    content_hash,
                    size,
                    len(doc.pages),
                    len(chunks),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ),
            )
            doc_id = int(cur.lastrowid)
            db.executemany(
                "INSERT INTO pages(doc_id, idx, number, text) VALUES (?, ?, ?, ?)",
                [(doc_id, i, p.number, p.text) for i, p in enumerate(doc.pages)],
            )
            new_ids = []
            for chunk, tag in zip(chunks, tags, strict=True):
                cur = db.execute(
                    'INSERT INTO chunks(doc_id, page_index, page, start, "end", text, tags) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc_id,
                        chunk.page_index,
                        chunk.page,
                        chunk.start,
                        chunk.end,
                        chunk.text,
                        json.dumps(tag or {}, ensure_ascii=False),
                    ),
                )
                new_ids.append(int(cur.lastrowid))
            db.executemany("INSERT INTO untagged(chunk_id) VALUES (?)",
                           [(i,) for i, t in zip(new_ids, tags, strict=True) if t is None])
        return doc_id, new_ids, old_ids

    def delete_document(self, path: str) -> list[int]:
        """Delete a document with its pages and chunks; returns the deleted chunk ids."""
        with self.transaction() as db:
            return self._delete(db, path)

    @staticmethod
    def _delete(db: sqlite3.Connection, path: str) -> list[int]:
        row = db.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
        if row is None:
            return []
        ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id = ?", row)]
        # Chunks first and explicitly, so the FTS delete trigger runs for each of them.
        db.execute("DELETE FROM chunks WHERE doc_id = ?", row)
        db.execute("DELETE FROM pages WHERE doc_id = ?", row)
        db.execute("DELETE FROM documents WHERE id = ?", row)
        return ids

    def documents(self) -> list[DocumentInfo]:
        """Every document, ordered by path."""
        rows = self._db.execute(
            "SELECT id, path, kind, title, pages, chunks, content_hash, added_at "
            "FROM documents ORDER BY path"
        )
        return [DocumentInfo(*r) for r in rows]

    def page_text(self, path: str, page: int | None) -> str | None:
        """Text of page number ``page`` (``None``: the first page of a page-less file)."""
        if page is None:
            sql = (
                "SELECT p.text FROM pages p JOIN documents d ON d.id = p.doc_id "
                "WHERE d.path = ? ORDER BY p.idx LIMIT 1"
            )
            row = self._db.execute(sql, (path,)).fetchone()
        else:
            sql = (
                "SELECT p.text FROM pages p JOIN documents d ON d.id = p.doc_id "
                "WHERE d.path = ? AND p.number = ?"
            )
            row = self._db.execute(sql, (path, page)).fetchone()
        return row[0] if row else None

    def document_ids(self, paths: Sequence[str]) -> dict[str, int]:
        """``path -> document id`` for those of ``paths`` in the library."""
        out: dict[str, int] = {}
        for batch in _batches(list(dict.fromkeys(paths)), 500):
            marks = ",".join("?" * len(batch))
            out.update(self._db.execute(
                f"SELECT path, id FROM documents WHERE path IN ({marks})", list(batch)))
        return out

    def chunk_ids_of(self, doc_ids: Collection[int]) -> list[int]:
        """Ids of every chunk of the given documents."""
        out: list[int] = []
        for batch in _batches(sorted(doc_ids), 500):
            marks = ",".join("?" * len(batch))
            out.extend(r[0] for r in self._db.execute(
                f"SELECT id FROM chunks WHERE doc_id IN ({marks})", list(batch)))
        return out

    # -- chunks ----------------------------------------------------------------------------
    def chunk_ids(self) -> set[int]:
        """Every chunk id."""
        return {r[0] for r in self._db.execute("SELECT id FROM chunks")}

    def chunk_count(self) -> int:
        """How many chunks the library holds."""
        return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def chunk_texts(self, ids: Iterable[int]) -> list[tuple[int, str]]:
        """``(id, text)`` of the given chunks, in id order."""
        ids = sorted(set(ids))
        out: list[tuple[int, str]] = []
        for batch in _batches(ids, 500):
            marks = ",".join("?" * len(batch))
            out.extend(
                self._db.execute(
                    f"SELECT id, text FROM chunks WHERE id IN ({marks}) ORDER BY id", batch
                )
            )
        return out

    def chunks(self, ids: Sequence[int]) -> dict[int, tuple[Chunk, str]]:
        """``id -> (chunk with tags, document path)`` for the given ids that exist."""
        out: dict[int, tuple[Chunk, str]] = {}
        for batch in _batches(list(ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                'SELECT c.id, c.doc_id, c.page, c.start, c."end", c.text, c.page_index, c.tags, '
                f"d.path FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})",
                batch,
            )
            for cid, doc_id, page, start, end, text, page_index, tags, path in rows:
                chunk = Chunk(doc_id, page, start, end, text, cid, page_index, json.loads(tags))
                out[cid] = (chunk, path)
        return out

    def chunks_with_texts(self, texts: Iterable[str]) -> list[tuple[int, str, dict | None]]:
        """``(id, text, tags)`` of every stored chunk whose text is one of ``texts``, in any
        document; tags are ``None`` while untagged.

        A scan of the chunks table (no index on the text, which would double its size): about
        45 ms for 130 texts over 50,000 passages, small beside embedding them (seconds).
        """
        out: list[tuple[int, str, dict | None]] = []
        for batch in _batches(list(dict.fromkeys(texts)), 500):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                "SELECT c.id, c.text, c.tags, u.chunk_id IS NOT NULL FROM chunks c "
                f"LEFT JOIN untagged u ON u.chunk_id = c.id WHERE c.text IN ({marks})",
                list(batch))
            out.extend((cid, text, None if waiting else json.loads(tags))
                       for cid, text, tags, waiting in rows)
        return out

    # -- tags filled in after indexing ----------------------------------------------------
    def untagged_count(self) -> int:
        """How many chunks wait for their tags."""
        return int(self._db.execute("SELECT count(*) FROM untagged").fetchone()[0])

    def untagged_chunks(self, limit: int) -> list[tuple[int, str]]:
        """``(id, text)`` of up to ``limit`` untagged chunks, oldest first."""
        return list(self._db.execute(
            "SELECT c.id, c.text FROM untagged u JOIN chunks c ON c.id = u.chunk_id "
            "ORDER BY u.chunk_id LIMIT ?", (int(limit),)))

    def untagged_among(self, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` that wait for their tags."""
        out: set[int] = set()
        for batch in _batches(sorted(set(ids)), 500):
            marks = ",".join("?" * len(batch))
            out.update(r[0] for r in self._db.execute(
                f"SELECT chunk_id FROM untagged WHERE chunk_id IN ({marks})", list(batch)))
        return out

    def set_tags(self, tags: Mapping[int, dict]) -> None:
        """Store the tags of chunks (by id) and mark them tagged, in one transaction.

        Ids of chunks deleted meanwhile (a document removed or re-indexed) are ignored.
        """
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET tags = ? WHERE id = ?",
                           [(json.dumps(t or {}, ensure_ascii=False), i) for i, t in tags.items()])
            db.executemany("DELETE FROM untagged WHERE chunk_id = ?", [(i,) for i in tags])

    def lexical_search(
        self, query: str, k: int, doc_ids: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """BM25 over chunk texts: ``(chunk id, score)`` best first (score higher = better).

        ``doc_ids`` limits the search to those documents' chunks (``None``: all).
        """
        terms = list(
            dict.fromkeys(
                t
                for t in (m.group(0).lower() for m in _TERM.finditer(query))
                if t not in _STOPWORDS
            )
        )
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        if doc_ids is None:
            rows = self._db.execute(
                "SELECT rowid, bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY s LIMIT ?",
                (match, int(k)),
            )
            return [(int(cid), -float(score)) for cid, score in rows]
        ids = sorted(int(d) for d in doc_ids)
        if not ids:
            return []
        # BM25 statistics stay those of the whole library; only the candidates narrow. A join
        # keeps the full-text match as the access path ("rowid IN (subquery)" made FTS5 test
        # the match row by row: 12-20 ms instead of 2 on 985 passages).
        rows = self._db.execute(
            "SELECT f.rowid, bm25(chunks_fts) AS s FROM chunks_fts f JOIN chunks c "
            f"ON c.id = f.rowid WHERE chunks_fts MATCH ? AND c.doc_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY s LIMIT ?",
            (match, *ids, int(k)),
        )
        return [(int(cid), -float(score)) for cid, score in rows]


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
