"""Group-by on integer keys: the pipeline's all-to-all step, shared by LSH buckets and passage seeds.

Rows with equal keys form a group; :func:`pairs_in_groups` lists, for every group of two or
more rows, the pairs of rows it holds, in one compiled pass over the sorted keys. It is
bounded for the rare large group: a group larger than ``max_group`` yields only a star
around its first row plus each row paired with the next (in row order), 2m pairs instead of
m(m-1)/2. The group stays connected, which is what clustering needs; the pairs left out are
joined through the ones listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shingle import sorted_unique


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
    """``m x 2`` row-index pairs (first < second) of rows sharing a key, and the grouping stats.

    Only the rows sharing a key are ordered (:func:`repeated_rows`) and paired in one compiled
    pass (:func:`dedupe.kernels.group_pairs`, which lists each group's pairs as :func:`group_pairs`
    does). All of it runs without the GIL."""
    from .kernels import group_pairs as kernel

    order = repeated_rows(keys)
    if not len(order):
        return np.empty((0, 2), dtype=np.int64), GroupStats()
    pairs, groups, largest, oversized = kernel(keys[order], order, -1 if max_group is None else max_group)
    return pairs, GroupStats(int(groups), int(largest), int(oversized))


def repeated_rows(keys: np.ndarray) -> np.ndarray:
    """The rows whose key some other row shares, ordered by key (stably: by row within a key).

    Most keys are unique, so the rows are not all sorted: a sort of the keys alone finds the
    repeated ones, a hash set of those picks their rows (:func:`dedupe.kernels.rows_in`), and
    only these are ordered."""
    from .kernels import rows_in

    ordered = np.sort(keys)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return np.empty(0, dtype=np.int64)
    rows = rows_in(keys, repeated[np.concatenate(([True], repeated[1:] != repeated[:-1]))])
    return rows[np.argsort(keys[rows], kind="stable")]


def unique_pairs(pairs: np.ndarray, n: int) -> np.ndarray:
    """Sorted, duplicate-free copy of ``m x 2`` pairs of indices below ``n`` (first < second)."""
    if not len(pairs):
        return np.empty((0, 2), dtype=np.int64)
    codes = sorted_unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])
    return np.stack([codes // n, codes % n], axis=1)


def in_sorted(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each of ``values``, whether it is in ``table`` (sorted ascending): a binary search per
    value, where ``np.isin`` would hash or sort both sides (a few keys against a million)."""
    values = np.asarray(values)
    if not len(table):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(table, values), len(table) - 1)
    return np.asarray(table)[at] == values
