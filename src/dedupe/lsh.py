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
from typing import TypeVar

import numpy as np

from . import libcache
from .grouping import GroupStats, pairs_in_groups, repeated_rows, unique_pairs

T = TypeVar("T")


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


def _on_threads(work: Callable[[int], T], count: int, threads: int) -> list[T]:
    """``[work(k) for k in range(count)]``, shared among ``threads`` (the kernels release the GIL)."""
    if threads > 1 and count > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(work, range(count)))
    return [work(k) for k in range(count)]


def _pairs_by_band(
    n: int, bands: int, keys_of: Callable[[int], np.ndarray], max_bucket_size: int, threads: int
) -> tuple[np.ndarray, CandidateStats]:
    """The unique pairs of rows (of ``n``) sharing a key in any band, ``keys_of(b)`` giving band
    ``b``'s keys: bands grouped one by one, or shared among ``threads``."""

    def band(b: int) -> tuple[np.ndarray, GroupStats]:
        return pairs_in_groups(keys_of(b), max_bucket_size)

    per_band = _on_threads(band, bands, threads)
    stats = sum((st for _, st in per_band), GroupStats())
    found = [p for p, _ in per_band]
    pairs = unique_pairs(np.concatenate(found) if found else np.empty((0, 2), np.int64), n)
    return pairs, CandidateStats(stats.groups, stats.largest, stats.oversized, len(pairs))


# texts whose shingle counts differ less than this are left to the bands (see containment_pairs)
CONTAINMENT_MIN_RATIO = 2.0


@dataclass(frozen=True)
class ContainmentStats:
    shared_values: int  # pairs of texts (of skewed sizes) sharing a MinHash value, with repeats
    oversized_values: int  # values held by more than max_bucket_size texts: no pairs
    candidate_pairs: int  # pairs kept by the count test


def containment_threshold_count(
    small: np.ndarray, large: np.ndarray, containment: float, num_perm: int
) -> np.ndarray:
    """The fewest shared MinHash values a pair of sets of sizes ``small <= large`` must show to stay
    a containment candidate: the lower 5% tail of what a pair whose smaller set is contained in
    the larger exactly at ``containment`` shows, never below 2.

    Such a pair has Jaccard ``J = t q / (x + q - t q)`` (``q``, ``x`` the sizes, ``t`` the
    containment), and each of ``num_perm`` values agrees with probability ``J``: the count is
    binomial, and its mean minus 1.645 standard deviations leaves about one such pair in twenty
    out; pairs contained further show more values and are kept more surely. This is LSH
    Ensemble's idea (the Jaccard level a containment threshold means depends on both sizes)
    applied to single values rather than bands, since a text 10 times shorter than the other
    shares only a few of the 128 values with it however whole the copy."""
    q = small.astype(np.float64)
    x = large.astype(np.float64)
    jac = containment * q / np.maximum(x + q - containment * q, 1.0)
    mean = num_perm * jac
    low = np.floor(mean - 1.645 * np.sqrt(num_perm * jac * (1.0 - jac)))
    return np.maximum(2, low).astype(np.int64)


def containment_pairs(
    signatures: np.ndarray,
    sizes: np.ndarray,
    containment: float,
    max_bucket_size: int,
    threads: int = 1,
    among: np.ndarray | None = None,
    min_ratio: float = CONTAINMENT_MIN_RATIO,
    min_size: int = 1,
) -> tuple[np.ndarray, ContainmentStats]:
    """Candidate pairs for containment: a short text copied into a long one, whose Jaccard (a few
    percent at a length ratio of 20) the bands never see. Pairs, as positions in ``among`` (all
    rows when None), sorted; ``sizes`` are the rows' shingle-set sizes.

    Every MinHash value is its own key (a band of one row); two texts whose sizes differ by
    ``min_ratio`` or more and that share a value are paired (:func:`dedupe.kernels.skewed_pairs`),
    and a pair is kept when it shares at least :func:`containment_threshold_count` values. Pairs
    of closer sizes are left to the bands, which find a copy by its Jaccard: below a ratio of 2,
    a text contained 0.8 or more has Jaccard above 0.36 (the default 42 x 3 bands find it nearly
    9 times in 10), but one contained only 0.5 has 0.2 to 0.33 (found 3 to 8 times in 10).
    Counting every pair of like sizes would cost what the bands save (on the 100k benchmark
    corpus, 99M shared values against none). Values held by more than ``max_bucket_size`` texts
    (boilerplate) pair nothing, and neither do texts of fewer than ``min_size`` shingles (the
    containment rule's floor for the smaller text)."""
    from .kernels import band_column, skewed_pairs

    signatures = np.ascontiguousarray(signatures)
    rows_of = np.arange(len(signatures), dtype=np.int64) if among is None else np.asarray(among, np.int64)
    n = len(rows_of)
    size_of = np.ascontiguousarray(np.asarray(sizes)[rows_of], dtype=np.int64)
    # only a text with a partner min_ratio times longer or shorter somewhere can pair: in a corpus
    # of like-sized texts the stage costs nothing
    usable = size_of >= max(min_size, 1)
    if not usable.any():
        return np.empty((0, 2), np.int64), ContainmentStats(0, 0, 0)
    smallest, largest = size_of[usable].min(), size_of[usable].max()
    eligible = np.flatnonzero(usable & ((size_of * min_ratio <= largest) | (size_of >= min_ratio * smallest)))
    if not len(eligible):
        return np.empty((0, 2), np.int64), ContainmentStats(0, 0, 0)
    eligible = eligible[np.argsort(size_of[eligible], kind="stable")]  # by size: groups come out sorted

    def column(p: int) -> tuple[np.ndarray, int]:
        keys = band_column(signatures, rows_of[eligible], p, 1)
        order = repeated_rows(keys)
        return skewed_pairs(keys[order], eligible[order], size_of, float(min_ratio), max_bucket_size, n)

    perms = signatures.shape[1]
    per_value = _on_threads(column, perms, threads)
    codes = np.sort(np.concatenate([c for c, _ in per_value])) if per_value else np.empty(0, np.int64)
    oversized = sum(o for _, o in per_value)
    if not len(codes):
        return np.empty((0, 2), np.int64), ContainmentStats(0, oversized, 0)
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    counts = np.diff(np.append(starts, len(codes)))
    twice = counts >= 2  # the test never keeps a pair sharing one value: most pairs go here
    counts = counts[twice]
    pairs = np.stack(np.divmod(codes[starts[twice]], n), axis=1)
    a, b = size_of[pairs[:, 0]], size_of[pairs[:, 1]]
    keep = counts >= containment_threshold_count(np.minimum(a, b), np.maximum(a, b), containment, perms)
    pairs = pairs[keep]
    return pairs, ContainmentStats(len(codes), oversized, len(pairs))
