"""What the index asks of its storage: the interface a backend implements.

:class:`~dedupe.index.sqlite.SQLiteStore` is the default and tested backend. A shared server
backend (PostgreSQL, or Redis beside datasketch's Redis storage) would implement the same
methods: the :class:`~dedupe.index.Index` above it (candidate generation, verification,
clustering, passages) does not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from ..records import Document
from .sqlite import StoredBatch


class IndexStore(Protocol):
    path: Any

    def config(self) -> dict[str, Any]:
        """The config the index was made with (with the LSH bands and rows in use)."""

    def count(self) -> int:
        """Documents held."""

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` the index holds."""

    def band_matches(self, keys: np.ndarray) -> np.ndarray:
        """``(key, doc)`` rows of the documents holding any of the uint64 band ``keys``."""

    def seed_matches(self, hashes: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """Document frequency of each seed hash (up to ``cap + 1``) and ``(hash, doc, pos)`` rows of
        the hashes held by at most ``cap`` documents."""

    def documents(self, docs: Iterable[int]) -> dict[int, Document]:
        """The documents (text included) of the given internal numbers."""

    def lookup(self, ids: Sequence[str]) -> dict[str, tuple[int, np.ndarray, str]]:
        """id -> (internal number, signature, text)."""

    def add_batch(self, batch: StoredBatch) -> tuple[int, set[str]]:
        """Store one batch atomically; returns its number and the ids it did not store because the
        index held them by then (another writer added them meanwhile)."""

    def remove(self, rows: Sequence[tuple[int, np.ndarray, np.ndarray | None]]) -> None:
        """Remove documents (number, band keys, seeds) atomically."""

    def snapshot(self) -> AbstractContextManager[Any]:
        """A consistent view for the reads of one query."""

    def stats(self) -> dict[str, Any]:
        """Counts and sizes."""

    def check(self, num_perm: int, bands: int, seeds: bool) -> list[str]:
        """Problems found (empty: sound)."""

    def close(self) -> None: ...
