"""Dense vectors keyed by chunk id: FAISS ``IndexIDMap`` over exact inner product.

The only module that imports faiss. A flat index is exact and fast enough for a personal
library (tens of thousands of passages search in milliseconds) and supports removal by id.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterable
from pathlib import Path

import faiss
import numpy as np

from retrieval import RetrievalError

log = logging.getLogger(__name__)


class VectorIndex:
    """Unit vectors keyed by int64 chunk id; scores are cosine similarities."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = int(dim)
        self._index = index if index is not None else faiss.IndexIDMap(faiss.IndexFlatIP(dim))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index written by :meth:`save`.

        Raises:
            RetrievalError: the file is missing or damaged.
        """
        try:
            index = faiss.read_index(str(path))
        except Exception as err:  # faiss raises RuntimeError with C++ text for any damage
            raise RetrievalError(f"vector index {path} could not be read: {err}") from err
        return cls(index.d, index)

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file beside ``path``, flushed, then renamed over it."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> set[int]:
        """Every chunk id that has a vector."""
        if len(self) == 0:
            return set()
        return set(faiss.vector_to_array(self._index.id_map).tolist())

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored vectors of those of ``ids`` that have one."""
        wanted = np.fromiter(set(ids), dtype=np.int64)
        if len(wanted) == 0 or len(self) == 0:
            return {}
        id_map = faiss.vector_to_array(self._index.id_map)
        flat = faiss.downcast_index(self._index.index)
        return {int(id_map[p]): flat.reconstruct(int(p))
                for p in np.flatnonzero(np.isin(id_map, wanted))}

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add ``vectors`` (``(n, dim)`` float32) under ``ids``."""
        ids_arr = np.asarray(list(ids), dtype=np.int64)
        if len(ids_arr) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids_arr), self.dim):
            raise ValueError(f"expected {(len(ids_arr), self.dim)} vectors, got {vectors.shape}")
        self._index.add_with_ids(vectors, ids_arr)

    def remove(self, ids: Iterable[int]) -> int:
        """Drop the vectors of ``ids``; returns how many were removed."""
        ids_arr = np.asarray(list(ids), dtype=np.int64)
        if len(ids_arr) == 0 or len(self) == 0:
            return 0
        return int(self._index.remove_ids(ids_arr))

    def search(
        self, vector: np.ndarray, k: int, within: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest chunk ids to one query vector, best first, with cosine scores.

        ``within`` limits the search to those chunk ids (``None``: all).
        """
        if len(self) == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        params = None
        if within is not None:
            if not within:
                return []
            # Filtered inside the exact scan, so a small document still gets its k best.
            params = faiss.SearchParameters(
                sel=faiss.IDSelectorBatch(np.fromiter(within, dtype=np.int64)))
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]
