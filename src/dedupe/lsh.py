"""LSH banding: signatures -> band keys -> candidate pairs.

A signature of ``bands x rows`` values is cut into ``bands`` bands of ``rows`` values; two
documents become candidates when all rows of at least one band agree. For two sets with
Jaccard ``s`` that happens with probability ``1 - (1 - s^rows)^bands``, an S-curve whose
midpoint sits near ``(1/bands)^(1/rows)``. ``bands`` and ``rows`` come from datasketch's
optimisation (the pair that minimises the weighted false positive and false negative areas
around the threshold) unless the config sets them.

Band keys are computed for a whole signature matrix at once: each band's values are folded
into one 64-bit key. Grouping by key is the pipeline's all-to-all step (a group-by); it is
kept here as a plain function over the key matrix, so any engine can run the same code per
band or per partition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import libcache
from .grouping import GroupStats, pairs_in_groups, unique_pairs


@lru_cache(maxsize=64)
def optimal_params(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) for a Jaccard threshold, from datasketch's optimisation (remembered on
    disk, see :mod:`dedupe.libcache`)."""
    return libcache.optimal_lsh(threshold, num_perm, fp_weight, fn_weight)


def candidate_probability(s: float, bands: int, rows: int) -> float:
    """Probability that two sets with Jaccard ``s`` share at least one band."""
    return 1.0 - (1.0 - s**rows) ** bands


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``n x bands`` uint64 keys; equal keys mean (up to 2^-64 collisions) equal bands.

    Key of band ``b``: ``acc = 0``, then for each of its rows ``acc = fmix64(acc * 0x9E3779B97F4A7C15
    + value)``, and finally ``fmix64(acc ^ b)``, so equal values in different bands never share a
    key (one compiled pass, :func:`dedupe.kernels.band_keys`)."""
    from .kernels import band_keys as kernel

    return kernel(np.ascontiguousarray(signatures), bands, rows)


@dataclass(frozen=True)
class CandidateStats:
    buckets: int
    largest_bucket: int
    oversized_buckets: int
    candidate_pairs: int


def candidate_pairs(
    keys: np.ndarray, max_bucket_size: int, threads: int = 1
) -> tuple[np.ndarray, CandidateStats]:
    """Unique pairs ``(i, j)``, i < j, of rows that share a band key; ``m x 2`` int64, sorted.

    A bucket larger than ``max_bucket_size`` yields a star and a chain instead of all its pairs
    (see :mod:`dedupe.grouping`), so thousands of copies or boilerplate in one bucket cost
    linear, not quadratic, work. Bands are grouped independently; with ``threads > 1`` they are
    shared among threads (the sort and the pass over it run without the GIL).
    """
    n, bands = keys.shape
    return _pairs_by_band(n, bands, lambda b: np.ascontiguousarray(keys[:, b]), max_bucket_size, threads)


def signature_pairs(
    signatures: np.ndarray,
    bands: int,
    rows: int,
    max_bucket_size: int,
    threads: int = 1,
    among: np.ndarray | None = None,
) -> tuple[np.ndarray, CandidateStats]:
    """:func:`candidate_pairs` of ``band_keys(signatures[among], bands, rows)``, made band by band
    from the signatures: each band's keys are made where the band is grouped (on its thread), so
    neither the key matrix nor a copy of the rows ``among`` is made (at a million documents, 340
    and 510 MB of fresh memory, filled on one thread). Pairs are positions in ``among`` (all
    rows when None)."""
    from .kernels import band_column

    signatures = np.ascontiguousarray(signatures)
    rows_of = np.arange(len(signatures), dtype=np.int64) if among is None else np.asarray(among, np.int64)
    return _pairs_by_band(
        len(rows_of), bands, lambda b: band_column(signatures, rows_of, b, rows), max_bucket_size, threads
    )


def _pairs_by_band(
    n: int, bands: int, keys_of: Callable[[int], np.ndarray], max_bucket_size: int, threads: int
) -> tuple[np.ndarray, CandidateStats]:
    """The unique pairs of rows (of ``n``) sharing a key in any band, ``keys_of(b)`` giving band
    ``b``'s keys: bands grouped one by one, or shared among ``threads``."""

    def band(b: int) -> tuple[np.ndarray, GroupStats]:
        return pairs_in_groups(keys_of(b), max_bucket_size)

    if threads > 1 and bands > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            per_band = list(pool.map(band, range(bands)))
    else:
        per_band = [band(b) for b in range(bands)]
    stats = sum((st for _, st in per_band), GroupStats())
    found = [p for p, _ in per_band]
    pairs = unique_pairs(np.concatenate(found) if found else np.empty((0, 2), np.int64), n)
    return pairs, CandidateStats(stats.groups, stats.largest, stats.oversized, len(pairs))
