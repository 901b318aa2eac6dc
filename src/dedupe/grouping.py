"""Group-by on integer keys: the pipeline's all-to-all step, shared by LSH buckets and passage seeds.

Rows with equal keys form a group; :func:`pairs_in_groups` lists, for every group of two or
more rows, the pairs of rows it holds. It is vectorised for the common case (groups of two)
and bounded for the rare large group: a group larger than ``max_group`` yields only a star
around its first row plus each row paired with the next (in row order), 2m pairs instead of
m(m-1)/2. The group stays connected, which is what clustering needs; the pairs left out are
joined through the ones listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroupStats:
    groups: int = 0  # groups of two or more rows
    largest: int = 0
    oversized: int = 0  # groups larger than max_group, split into chunks

    def __add__(self, other: GroupStats) -> GroupStats:
        return GroupStats(
            self.groups + other.groups, max(self.largest, other.largest), self.oversized + other.oversized
        )


def group_bounds(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and size of each run of equal values in a sorted array."""
    n = len(sorted_keys)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return starts, np.diff(np.append(starts, n))


def group_pairs(size: int, max_group: int | None = None) -> np.ndarray:
    """The pairs listed for one group of ``size`` rows, as positions (first < second) in the group
    sorted by row: all of them, or for a group larger than ``max_group`` a star around the first
    row and each row with the next. The one rule for every engine."""
    if max_group is not None and size > max_group:
        rest = np.arange(1, size, dtype=np.int64)
        star = np.stack([np.zeros(size - 1, dtype=np.int64), rest], axis=1)
        chain = np.stack([rest[:-1], rest[1:]], axis=1)
        return np.concatenate([star, chain])
    i, j = np.triu_indices(size, 1)
    return np.stack([i, j], axis=1).astype(np.int64, copy=False)


def pairs_in_groups(keys: np.ndarray, max_group: int | None = None) -> tuple[np.ndarray, GroupStats]:
    """``m x 2`` row-index pairs (first < second) of rows sharing a key, and the grouping stats."""
    order = np.argsort(keys, kind="stable")
    starts, sizes = group_bounds(keys[order])
    multi = np.flatnonzero(sizes > 1)
    if not len(multi):
        return np.empty((0, 2), dtype=np.int64), GroupStats()
    chunks: list[np.ndarray] = []
    twos = starts[multi[sizes[multi] == 2]]
    if len(twos):
        chunks.append(np.sort(np.stack([order[twos], order[twos + 1]], axis=1), axis=1))
    oversized = 0
    for k in multi[sizes[multi] > 2]:
        rows = np.sort(order[starts[k] : starts[k] + sizes[k]])
        oversized += max_group is not None and len(rows) > max_group
        chunks.append(rows[group_pairs(len(rows), max_group)])
    stats = GroupStats(len(multi), int(sizes[multi].max()), oversized)
    return np.concatenate(chunks).astype(np.int64, copy=False), stats


def unique_pairs(pairs: np.ndarray, n: int) -> np.ndarray:
    """Sorted, duplicate-free copy of ``m x 2`` pairs of indices below ``n`` (first < second)."""
    if not len(pairs):
        return np.empty((0, 2), dtype=np.int64)
    codes = np.unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])
    return np.stack([codes // n, codes % n], axis=1)
