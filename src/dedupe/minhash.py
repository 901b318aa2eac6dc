"""MinHash signatures, bit-for-bit equal to ``datasketch.MinHash``.

For a set S of shingle hashes and permutation k, the signature value is
``min over h in S of pi_k(h)``; the share of permutations on which two signatures agree
estimates the Jaccard similarity of their sets (standard error ``sqrt(J(1-J)/num_perm)``).

The permutations are datasketch's own: the parameters ``(a_k, b_k)`` are taken from a
``datasketch.MinHash(num_perm, seed, scheme=...)``, and applied the way datasketch applies them:

* ``affine32`` (datasketch's default since 2.0): ``h`` is pre-mixed by the MurmurHash3 32-bit
  finaliser, then ``pi_k(h) = a_k * h + b_k mod 2^32``;
* ``affine64``: the same in 64 bits;
* ``legacy`` (datasketch < 2.0): ``pi_k(h) = ((a_k * h + b_k) mod 2^64 mod (2^61 - 1)) & (2^32 - 1)``.

What differs is only the batching: all shingles of many documents are permuted in one numpy
operation and reduced per document. So a signature computed here equals
``MinHash(num_perm, seed, hashfunc=lambda h: h, scheme=...)`` updated with the same shingle
hashes, and :meth:`MinHasher.to_datasketch` hands it to ``MinHashLSH``, ``LeanMinHash`` or
datasketch's Redis storage unchanged. Signatures of ``affine32`` and ``legacy`` are stored as
uint32 (their values are below 2^32), ``affine64`` as uint64.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from . import libcache
from .shingle import fmix64

if TYPE_CHECKING:
    import datasketch

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_CHUNK = 1 << 16  # permuted values computed at once (elements), bounds the temporary arrays


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutations (remembered on disk, see :mod:`dedupe.libcache`)."""
    a, b = libcache.permutations(num_perm, seed, scheme)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


class MinHasher:
    """Computes signatures for one (num_perm, seed, scheme)."""

    def __init__(self, num_perm: int = 128, seed: int = 1, scheme: str = "affine32") -> None:
        self.num_perm, self.seed, self.scheme = num_perm, seed, scheme
        self.a, self.b = _permutations(num_perm, seed, scheme)
        self.dtype = np.uint64 if scheme == "affine64" else np.uint32
        self.empty_value = np.iinfo(self.dtype).max

    def _permute(self, hashes: np.ndarray) -> np.ndarray:
        """The permuted values, one row per hash, in the signature dtype."""
        if self.scheme == "affine32":
            h = _fmix32(hashes.astype(np.uint32, copy=False))[:, None]
            return h * self.a + self.b
        if self.scheme == "affine64":
            h = fmix64(hashes.astype(np.uint64, copy=False))[:, None]
            return h * self.a + self.b
        h = hashes.astype(np.uint64, copy=False)[:, None]
        return (((h * self.a + self.b) % _MERSENNE) & _MAX32).astype(np.uint32)

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of one set of shingle hashes (all ``empty_value`` for the empty set)."""
        return self.signatures([hashes])[0]

    def signatures(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        """Signatures of many sets, as a ``len(sets) x num_perm`` matrix."""
        if self.scheme == "affine32" and len(sets):
            lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
            flat = np.concatenate(sets) if lengths.sum() else np.empty(0, dtype=np.uint32)
            return self.signatures_flat(flat, np.concatenate(([0], np.cumsum(lengths))))
        return self.signatures_numpy(sets)

    def signatures_flat(self, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of the sets ``flat[offsets[i]:offsets[i + 1]]``: the compiled kernel for
        ``affine32`` (:func:`dedupe.kernels.minhash_affine32`), numpy for the other schemes."""
        if self.scheme == "affine32":
            from .kernels import minhash_affine32

            return minhash_affine32(flat.astype(np.uint32, copy=False), offsets, self.a, self.b)
        return self.signatures_numpy([flat[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)])

    def signatures_numpy(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        """The numpy path (any scheme): permutations batched over many documents, reduced per document."""
        out = np.full((len(sets), self.num_perm), self.empty_value, dtype=self.dtype)
        rows_per_chunk = max(1, _CHUNK // self.num_perm)
        i = 0
        while i < len(sets):
            # gather documents until the chunk is full; a huge document is processed in slices
            j, total = i, 0
            while j < len(sets) and (total == 0 or total + len(sets[j]) <= rows_per_chunk):
                total += len(sets[j])
                j += 1
            batch = [s for s in sets[i:j]]
            lengths = np.array([len(s) for s in batch])
            nonempty = np.flatnonzero(lengths)
            if total > rows_per_chunk:  # one document larger than a chunk
                (k,) = nonempty
                acc = out[i + k]
                for start in range(0, total, rows_per_chunk):
                    acc = np.minimum(acc, self._permute(batch[k][start : start + rows_per_chunk]).min(axis=0))
                out[i + k] = acc
            elif len(nonempty):
                permuted = self._permute(np.concatenate([batch[k] for k in nonempty]))
                offsets = np.concatenate(([0], np.cumsum(lengths[nonempty])[:-1]))
                out[i + nonempty] = np.minimum.reduceat(permuted, offsets, axis=0)
            i = j
        return out

    def to_datasketch(self, signature: np.ndarray) -> datasketch.MinHash:
        """A ``datasketch.MinHash`` holding this signature (its hashfunc is the identity on shingle hashes)."""
        import datasketch

        return datasketch.MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashfunc=_identity,
            hashvalues=signature.astype(np.uint64 if self.scheme != "affine32" else np.uint32),
            scheme=self.scheme,
        )


def _identity(h: int) -> int:
    return h


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of permutations on which two signatures agree."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)
