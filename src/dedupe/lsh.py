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

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch.lsh import _optimal_param

from .shingle import fmix64

_MULT = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=64)
def optimal_params(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) for a Jaccard threshold, from datasketch's optimisation."""
    return _optimal_param(threshold, num_perm, fp_weight, fn_weight)


def candidate_probability(s: float, bands: int, rows: int) -> float:
    """Probability that two sets with Jaccard ``s`` share at least one band."""
    return 1.0 - (1.0 - s**rows) ** bands


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``n x bands`` uint64 keys; equal keys mean (up to 2^-64 collisions) equal bands."""
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.zeros((n, bands), dtype=np.uint64)
    for r in range(rows):
        acc = fmix64(acc * _MULT + sig[:, :, r])
    # the band index is mixed in so that equal values in different bands never share a key
    return fmix64(acc ^ np.arange(bands, dtype=np.uint64))


@dataclass(frozen=True)
class CandidateStats:
    buckets: int
    largest_bucket: int
    oversized_buckets: int
    candidate_pairs: int


def candidate_pairs(keys: np.ndarray, max_bucket_size: int) -> tuple[np.ndarray, CandidateStats]:
    """Unique pairs ``(i, j)``, i < j, of rows that share a band key; ``m x 2`` int64, sorted.

    A bucket with more than ``max_bucket_size`` members would cost a quadratic number of
    pairs. It is split, in row order, into chunks of ``max_bucket_size`` members whose
    pairs are generated, and consecutive chunks are bridged by pairing each chunk's first
    member with the next chunk's members, so the bucket stays connected for clustering while
    its cost stays linear in its size.
    """
    n, bands = keys.shape
    chunks: list[np.ndarray] = []
    buckets = largest = oversized = 0
    for band in range(bands):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        sorted_keys = col[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
        sizes = np.diff(np.append(starts, n))
        multi = np.flatnonzero(sizes > 1)
        buckets += len(multi)
        if not len(multi):
            continue
        largest = max(largest, int(sizes[multi].max()))
        # all buckets of size 2 at once: the common case
        twos = starts[multi[sizes[multi] == 2]]
        if len(twos):
            chunks.append(np.stack([order[twos], order[twos + 1]], axis=1))
        for k in multi[sizes[multi] > 2]:
            members = np.sort(order[starts[k] : starts[k] + sizes[k]])
            if len(members) > max_bucket_size:
                oversized += 1
                for c in range(0, len(members), max_bucket_size):
                    part = members[c : c + max_bucket_size]
                    chunks.append(_all_pairs(part))
                    nxt = members[c + max_bucket_size : c + 2 * max_bucket_size]
                    if len(nxt):
                        chunks.append(np.stack([np.full(len(nxt), part[0]), nxt], axis=1))
            else:
                chunks.append(_all_pairs(members))
    if chunks:
        pairs = np.concatenate(chunks).astype(np.int64)
        pairs.sort(axis=1)
        codes = np.unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])
        pairs = np.stack([codes // n, codes % n], axis=1)
    else:
        pairs = np.empty((0, 2), dtype=np.int64)
    return pairs, CandidateStats(buckets, largest, oversized, len(pairs))


def _all_pairs(members: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(len(members), 1)
    return np.stack([members[i], members[j]], axis=1)
