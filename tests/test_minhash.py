from __future__ import annotations

import math

import datasketch
import numpy as np
import pytest
from datasketch import MinHashLSH
from hypothesis import given
from hypothesis import strategies as st

from dedupe.lsh import optimal_params
from dedupe.minhash import MinHasher, estimate_jaccard

hash32 = st.lists(st.integers(0, 2**32 - 1), max_size=300, unique=True)


def reference(hashes, num_perm, seed, scheme):
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, scheme=scheme, hashfunc=lambda h: h)
    if hashes:
        m.update_batch(hashes)
    return m.hashvalues


@given(
    hash32, st.sampled_from([1, 7, 42]), st.sampled_from([16, 128]), st.sampled_from(["affine32", "legacy"])
)
def test_signature_equals_datasketch(hashes, seed, num_perm, scheme):
    hasher = MinHasher(num_perm, seed, scheme)
    ours = hasher.signature(np.array(sorted(hashes), dtype=np.uint32))
    assert np.array_equal(ours.astype(np.uint64), reference(hashes, num_perm, seed, scheme).astype(np.uint64))


@given(st.lists(st.integers(0, 2**64 - 1), max_size=200, unique=True), st.sampled_from([1, 9]))
def test_affine64_signature_equals_datasketch(hashes, seed):
    ours = MinHasher(64, seed, "affine64").signature(np.array(sorted(hashes), dtype=np.uint64))
    assert np.array_equal(ours, reference(hashes, 64, seed, "affine64"))


@given(st.lists(hash32, max_size=12))
def test_batch_equals_one_by_one(sets):
    hasher = MinHasher(32, 3, "affine32")
    arrays = [np.array(sorted(s), dtype=np.uint32) for s in sets]
    batch = hasher.signatures(arrays)
    assert batch.shape == (len(sets), 32)
    for row, arr in zip(batch, arrays):
        assert np.array_equal(row, reference(list(arr), 32, 3, "affine32"))


def test_huge_set_is_processed_in_slices():
    hasher = MinHasher(64, 1, "affine32")
    big = np.arange(100_000, dtype=np.uint32)
    assert np.array_equal(
        hasher.signatures([big, np.array([5], np.uint32)])[0], reference(list(big), 64, 1, "affine32")
    )


def test_to_datasketch_works_with_minhashlsh():
    hasher = MinHasher(128, 1, "affine32")
    a = np.arange(0, 1000, dtype=np.uint32)
    b = np.arange(50, 1050, dtype=np.uint32)
    ma, mb = hasher.to_datasketch(hasher.signature(a)), hasher.to_datasketch(hasher.signature(b))
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    lsh.insert("a", ma)
    assert lsh.query(mb) == ["a"]
    assert ma.jaccard(mb) == estimate_jaccard(hasher.signature(a), hasher.signature(b))
    m = datasketch.MinHash(num_perm=128, hashfunc=lambda h: h)
    m.update_batch(list(range(50, 1050)))
    assert m.jaccard(mb) == 1.0


@given(st.integers(20, 2000), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_estimate_within_statistical_bound(n, overlap, seed):
    rng = np.random.default_rng(seed)
    universe = rng.choice(2**32 - 1, size=2 * n, replace=False).astype(np.uint32)
    shared = int(n * overlap)
    a = np.sort(universe[:n])
    b = np.sort(np.concatenate([universe[:shared], universe[n : 2 * n - shared]]))
    exact = shared / (2 * n - shared)
    num_perm = 256
    hasher = MinHasher(num_perm, 1, "affine32")
    est = estimate_jaccard(hasher.signature(a), hasher.signature(b))
    # 5 standard errors, plus a little slack for the discrete estimator near 0 and 1
    bound = 5 * math.sqrt(exact * (1 - exact) / num_perm) + 0.03
    assert abs(est - exact) <= bound


@pytest.mark.parametrize("threshold, num_perm", [(0.4, 128), (0.8, 128), (0.5, 256)])
def test_lsh_params_are_datasketchs(threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert optimal_params(threshold, num_perm) == (lsh.b, lsh.r)


def test_datasketch_values_are_remembered(tmp_path, monkeypatch):
    """Permutations and LSH parameters come back from the disk cache equal to datasketch's, in the
    same dtype; a damaged or unwritable cache is ignored."""
    import datasketch
    from datasketch.lsh import _optimal_param

    from dedupe import libcache

    monkeypatch.setenv("DEDUPE_CACHE_DIR", str(tmp_path / "cache"))
    for scheme in ("affine32", "affine64", "legacy"):
        want = datasketch.MinHash(num_perm=16, seed=7, scheme=scheme).permutations
        for _ in range(2):  # computed, then read back
            a, b = libcache.permutations(16, 7, scheme)
            assert (
                a.dtype == np.asarray(want[0]).dtype
                and np.array_equal(a, want[0])
                and np.array_equal(b, want[1])
            )
    assert libcache.optimal_lsh(0.3, 64, 0.5, 0.5) == _optimal_param(0.3, 64, 0.5, 0.5)
    files = sorted((tmp_path / "cache").glob("*.json"))
    assert len(files) == 4
    for f in files:
        f.write_text("{not json", encoding="utf-8")
    assert libcache.optimal_lsh(0.3, 64, 0.5, 0.5) == _optimal_param(0.3, 64, 0.5, 0.5)
    (tmp_path / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("DEDUPE_CACHE_DIR", str(tmp_path / "file" / "sub"))  # cannot be created
    assert libcache.optimal_lsh(0.4, 64, 0.5, 0.5) == _optimal_param(0.4, 64, 0.5, 0.5)
