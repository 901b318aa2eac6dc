from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.config import Config, VerifyConfig
from dedupe.lsh import (
    band_keys,
    candidate_pairs,
    containment_pairs,
    containment_threshold_count,
    signature_pairs,
)
from dedupe.shingle import RowsBuilder, Shingler, ShingleSets, ShingleSetsBuilder
from dedupe.verify import Verifier, intersection_size, score_pair


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
    from references import UnionFind

    uf = UnionFind(n)
    for i, j in pairs.tolist():
        uf.union(i, j)
    assert len(uf.components()) == 1 and len(uf.components()[0]) == n


@given(
    st.integers(0, 60),
    st.integers(1, 6),
    st.integers(1, 3),
    st.sampled_from([np.uint32, np.uint64]),
    st.integers(1, 3),
    st.data(),
)
def test_pairs_from_signatures_equal_pairs_from_the_key_matrix(n, bands, rows, dtype, threads, data):
    """signature_pairs (each band's keys made on its thread, rows picked by index) finds the pairs
    and bucket counts that candidate_pairs finds on band_keys of the picked rows, caps included."""
    width = bands * rows + data.draw(st.integers(0, 2))
    values = data.draw(
        st.lists(st.integers(0, 3), min_size=n * width, max_size=n * width)
    )  # few values: buckets
    sigs = np.array(values, dtype=dtype).reshape(n, width)
    among = np.array(
        sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))) if n else [], np.int64
    )
    cap = data.draw(st.integers(2, 8))
    for picked in (None, among):
        keys = band_keys(sigs if picked is None else sigs[picked], bands, rows)
        expected, expected_stats = candidate_pairs(keys, cap)
        got, stats = signature_pairs(sigs, bands, rows, cap, threads, among=picked)
        assert got.tolist() == expected.tolist() and stats == expected_stats


@given(st.integers(0, 40), st.integers(1, 12), st.integers(1, 3), st.data())
def test_containment_pairs_equal_counting_shared_values(n, perms, threads, data):
    """containment_pairs keeps exactly the pairs of usable rows (``among``, at least ``min_size``
    shingles) whose sizes differ by the ratio and that share at least the test's count of
    MinHash values, counting only values held by at most ``cap`` usable rows of the extreme sizes
    (the rows that can pair at all)."""
    sigs = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n * perms, max_size=n * perms)), np.uint32)
    sigs = sigs.reshape(n, perms)
    sizes = np.array(data.draw(st.lists(st.integers(0, 90), min_size=n, max_size=n)), np.int64)
    among = np.array(
        sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))) if n else [], np.int64
    )
    cap, min_size, ratio = (
        data.draw(st.integers(2, 8)),
        data.draw(st.integers(1, 20)),
        data.draw(st.sampled_from([1.5, 2.0, 3.0])),
    )
    got, stats = containment_pairs(
        sigs, sizes, 0.5, cap, threads, among=among, min_ratio=ratio, min_size=min_size
    )

    size = sizes[among]
    usable = size >= min_size
    lo, hi = (size[usable].min(), size[usable].max()) if usable.any() else (0, 0)
    able = [k for k in range(len(among)) if usable[k] and (size[k] * ratio <= hi or size[k] >= ratio * lo)]
    shared: dict[tuple[int, int], int] = {}
    for p in range(perms):
        holders: dict[int, list[int]] = {}
        for k in able:
            holders.setdefault(int(sigs[among[k], p]), []).append(k)
        for group in holders.values():
            if len(group) > cap:
                continue
            for x in group:
                for y in group:
                    small, large = sorted((size[x], size[y]))
                    if x < y and large >= ratio * small:
                        shared[x, y] = shared.get((x, y), 0) + 1
    expected = sorted(
        pair
        for pair, count in shared.items()
        if count
        >= containment_threshold_count(
            np.array([min(size[list(pair)])]), np.array([max(size[list(pair)])]), 0.5, perms
        )[0]
    )
    assert [tuple(p) for p in got.tolist()] == expected
    assert stats.candidate_pairs == len(expected) and stats.shared_values == sum(shared.values())


def test_containment_count_falls_with_the_length_ratio():
    """Pairs of like sizes must share many values, a text 20 times shorter only 2 of 128."""
    small = np.array([100, 100, 100])
    counts = containment_threshold_count(small, np.array([100, 400, 2000]), 0.5, 128).tolist()
    assert counts[0] > counts[1] > counts[2] == 2


@given(st.lists(st.integers(0, 5), max_size=12), st.sampled_from([None, 1, 3]))
def test_rows_builder_reads_back_rows_in_order(batch_sizes, width):
    """Rows added batch by batch come back as one array, in order, growing past its reservation
    when it must."""
    builder = RowsBuilder(np.uint32, width, reserve=4)  # a tiny reservation: adding grows it
    w = width or 1
    starts = np.cumsum([0, *batch_sizes]) * w
    batches = [
        np.arange(a, a + k * w, dtype=np.uint32).reshape((k,) if width is None else (k, w))
        for a, k in zip(starts.tolist(), batch_sizes)
    ]
    for b in batches:
        builder.add(b)
    assert len(builder) == sum(batch_sizes)
    out = builder.finish()
    expected = np.arange(starts[-1], dtype=np.uint32).reshape((-1,) if width is None else (-1, w))
    assert out.dtype == np.uint32 and out.shape == expected.shape and np.array_equal(out, expected)
    wrong = np.zeros((1, w + 1), np.uint32) if width else np.zeros((1, 1), np.uint32)
    with pytest.raises(ValueError):  # rows of another width would be misread, not refused
        builder.add(wrong)


@given(st.integers(1, 40), st.data())
def test_compiled_components_equal_union_find(n, data):
    """The clusters' components (compiled union-find + numpy) are UnionFind's, in its order."""
    from references import UnionFind

    from dedupe.cluster import components

    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    uf = UnionFind(n)
    for i, j in pairs:
        uf.union(i, j)
    assert components(n, pairs) == uf.components()


small_sets = st.lists(st.sets(st.integers(0, 60), max_size=40), min_size=2, max_size=12)


@given(small_sets, st.data())
def test_batched_screen_equals_pair_by_pair(raw, data):
    """The verify stage's batched path (one compiled pass, the rule on arrays, threads) accepts
    exactly the pairs the pair-by-pair rule accepts, with the same kept scores."""
    n = len(raw)
    sets = [np.array(sorted(s), dtype=np.uint32) for s in raw]
    ids = [f"d{i:02d}" for i in range(n)]
    sigs = np.random.default_rng(n).integers(0, 3, (n, 4)).astype(np.uint32)
    figs = [
        np.array(sorted(f), dtype=np.uint64)
        for f in data.draw(st.lists(st.sets(st.integers(0, 5)), min_size=n, max_size=n))
    ]
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    pairs = np.array(data.draw(st.lists(pair, min_size=1)), dtype=np.int64)
    cfg = VerifyConfig(
        jaccard_threshold=data.draw(st.sampled_from([0.3, 0.5, 0.8])),
        containment_threshold=data.draw(st.sampled_from([0.5, 0.8])),
        min_containment_shingles=data.draw(st.integers(0, 10)),
        distinct_figures=data.draw(st.booleans()),
    )
    one_by_one = Verifier(ids, sets, sigs, cfg, figs)
    expected = [one_by_one.passes(i, j) for i, j in pairs.tolist()]
    batched = Verifier(ids, ShingleSets.of(sets), sigs, cfg, figs)
    threads = data.draw(st.sampled_from([1, 2]))
    assert batched.screen(pairs, threads).tolist() == expected
    assert batched.overlaps(np.tile(pairs, (20_000 // len(pairs) + 1, 1)), 2)[: len(pairs)].tolist() == [
        intersection_size(sets[i], sets[j]) for i, j in pairs.tolist()
    ]
    for i, j in pairs[np.array(expected, dtype=bool)].tolist():
        assert batched.score(i, j) == one_by_one.score(i, j)
    # an early stop (-1) only for a pair whose count is below what it needs; others are exact
    need = np.array(data.draw(st.lists(st.integers(0, 45), min_size=len(pairs), max_size=len(pairs))))
    exact = [intersection_size(sets[i], sets[j]) for i, j in pairs.tolist()]
    for got, full, n_k in zip(batched.overlaps(pairs, 1, need).tolist(), exact, need.tolist()):
        assert got == full or (got == -1 and full < n_k)


@given(st.lists(st.lists(st.sets(st.integers(0, 2**32 - 1), max_size=30), max_size=6), max_size=8), st.data())
def test_set_store_keeps_every_set(batches, data):
    """Sets added batch by batch (any subset of rows, in any order) read back as added; take and
    concatenation move bounds, not shingles."""
    builder = ShingleSetsBuilder(np.uint32)
    expected: list[list[int]] = []
    for batch in batches:
        arrays = [np.array(sorted(s), dtype=np.uint32) for s in batch]
        flat = np.concatenate(arrays) if arrays else np.empty(0, np.uint32)
        offsets = np.concatenate([[0], np.cumsum([len(a) for a in arrays])]).astype(np.int64)
        perm = data.draw(st.permutations(range(len(batch))))
        rows = perm[: data.draw(st.integers(0, len(perm)))]
        builder.add(flat, offsets, rows)
        expected.extend(sorted(batch[k]) for k in rows)
    store = builder.finish()
    assert [s.tolist() for s in store] == expected
    assert [store[i].tolist() for i in range(len(store))] == expected
    assert store.sizes().tolist() == [len(e) for e in expected]
    order = data.draw(st.permutations(range(len(expected))))
    assert [s.tolist() for s in store.take(order)] == [expected[k] for k in order]
    assert [s.tolist() for s in store + store.take(order)] == expected + [expected[k] for k in order]


def test_s_curve_in_stats_is_datasketchs():
    """Every run's stats carry the bands' S-curve: datasketch's own false positive and false
    negative probabilities for the bands and rows in use, and the Jaccard found half the time."""
    from datasketch.lsh import _false_negative_probability, _false_positive_probability

    from dedupe import Detector
    from dedupe.lsh import candidate_probability

    det = Detector(Config().replace({"lsh.threshold": 0.4}))
    curve = Detector(det.config).run(["one two three four five six seven eight nine"]).stats["lsh_s_curve"]
    assert curve == det.s_curve()
    fp = _false_positive_probability(0.4, det.bands, det.rows)
    fn = _false_negative_probability(0.4, det.bands, det.rows)
    assert curve["false_positive_probability"] == pytest.approx(fp, abs=1e-6)
    assert curve["false_negative_probability"] == pytest.approx(fn, abs=1e-6)
    half = curve["half_found_at_jaccard"]
    assert candidate_probability(half, det.bands, det.rows) == pytest.approx(0.5, abs=1e-3)


@given(st.lists(st.integers(-50, 50), max_size=40), st.sets(st.integers(-50, 50), max_size=40))
def test_in_sorted_equals_isin(values, table):
    from dedupe.grouping import in_sorted

    v, t = np.array(values, dtype=np.int64), np.array(sorted(table), dtype=np.int64)
    assert in_sorted(v, t).tolist() == np.isin(v, t).tolist()
