from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedupe.config import Config, VerifyConfig
from dedupe.lsh import band_keys, candidate_pairs
from dedupe.shingle import Shingler
from dedupe.verify import intersection_size, score_pair


def shingler(**overrides) -> Shingler:
    return Shingler(Config().replace(overrides))


def test_word_shingles_count_and_dtype():
    s = shingler(**{"shingle.size": 5})
    h = s.hashes("one two three four five six seven")
    assert h.dtype == np.uint32 and len(h) == 3
    assert list(h) == sorted(set(h))
    assert shingler(**{"minhash.scheme": "affine64"}).hashes("one two three four five six").dtype == np.uint64


def test_shingles_are_order_sensitive_and_seeded():
    s = shingler(**{"shingle.size": 2})
    assert not set(s.hashes("a b")) & set(s.hashes("b a"))
    other = shingler(**{"shingle.size": 2, "minhash.seed": 2})
    assert set(s.hashes("a b c")) != set(other.hashes("a b c"))


def test_normalisation_makes_variants_equal():
    s = shingler()
    assert np.array_equal(
        s.hashes("It was an EXTREMELY productive call, we agree"),
        s.hashes("it was an extremely productive call. We agree"),
    )


def test_short_text_has_no_shingle():
    assert len(shingler(**{"shingle.size": 5}).hashes("only four words here")) == 0
    assert len(shingler(**{"shingle.size": 3}).hashes("two words")) == 0


def test_char_shingles():
    s = shingler(**{"shingle.kind": "char", "shingle.size": 3})
    assert len(s.hashes("abcd")) == 2
    assert np.array_equal(s.hashes("A  b,c"), s.hashes("a b c"))


sorted_sets = st.lists(st.integers(0, 500), max_size=80, unique=True).map(
    lambda v: np.array(sorted(v), dtype=np.uint32)
)


@given(sorted_sets, sorted_sets)
def test_intersection_size(a, b):
    assert intersection_size(a, b) == len(set(a.tolist()) & set(b.tolist()))


@given(sorted_sets, sorted_sets)
def test_scores_symmetric_and_swap_containment(a, b):
    cfg = VerifyConfig()
    sig_a, sig_b = np.arange(8, dtype=np.uint32), np.arange(8, dtype=np.uint32)
    ab = score_pair("a", "b", a, b, sig_a, sig_b, cfg)
    ba = score_pair("b", "a", b, a, sig_b, sig_a, cfg)
    assert ab == ba  # pairs are stored with a < b, whichever order they were scored in
    swapped = score_pair("a", "b", b, a, sig_b, sig_a, cfg)
    assert swapped.jaccard == ab.jaccard
    assert swapped.containment_a_in_b == ab.containment_b_in_a
    assert swapped.containment_b_in_a == ab.containment_a_in_b
    assert 0.0 <= ab.jaccard <= min(ab.containment_a_in_b, ab.containment_b_in_a) or ab.jaccard == 0.0


def test_containment_needs_enough_shingles():
    cfg = VerifyConfig(min_containment_shingles=20)
    big = np.arange(1000, dtype=np.uint32)
    sig = np.zeros(4, dtype=np.uint32)
    assert score_pair("a", "b", big[:10], big, sig, sig, cfg).match is None
    assert score_pair("a", "b", big[:400], big, sig, sig, cfg).match == "containment"
    assert score_pair("a", "b", big[:900], big, sig, sig, cfg).match == "jaccard"
    assert score_pair("a", "b", big, big.copy(), sig, sig, cfg).match == "identical"


def test_candidates_from_shared_bands():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 3, 4], [5, 5, 5, 5]], dtype=np.uint32)
    pairs, stats = candidate_pairs(band_keys(sigs, 2, 2), max_bucket_size=10)
    assert pairs.tolist() == [[0, 1], [0, 2]]
    assert stats.candidate_pairs == 2 and stats.oversized_buckets == 0


def test_oversized_bucket_is_split_but_stays_connected():
    n, cap = 1000, 50
    sigs = np.zeros((n, 4), dtype=np.uint32)
    pairs, stats = candidate_pairs(band_keys(sigs, 2, 2), max_bucket_size=cap)
    assert stats.oversized_buckets == 2 and stats.largest_bucket == n
    assert len(pairs) <= 2 * n  # linear in n, not n^2/2 = 499,500
    from dedupe.cluster import UnionFind

    uf = UnionFind(n)
    for i, j in pairs.tolist():
        uf.union(i, j)
    assert len(uf.components()) == 1 and len(uf.components()[0]) == n
