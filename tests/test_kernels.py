"""The compiled kernels give the very numbers of the numpy/xxhash code they replace."""

from __future__ import annotations

import os
import string
from collections import Counter
from pathlib import Path

import numpy as np
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.config import load_config
from dedupe.kernels import xxh64
from dedupe.minhash import MinHasher
from dedupe.shingle import Shingler
from dedupe.verify import figure_hashes, figures

ASCII_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + string.punctuation + " \t\n\r\x0b\x0c\x1c\x1f\x00\x7f",
    max_size=300,
)


@given(st.binary(max_size=100), st.integers(0, 2**64 - 1))
def test_xxh64_equals_the_xxhash_package(data, seed):
    arr = np.frombuffer(data, dtype=np.uint8) if data else np.zeros(0, dtype=np.uint8)
    assert int(xxh64(arr, 0, len(data), np.uint64(seed))) == xxhash.xxh64_intdigest(data, seed)


@given(
    st.lists(st.one_of(ASCII_TEXT, st.text(max_size=50)), max_size=12),
    st.integers(1, 6),
    st.sampled_from(["affine32", "affine64", "legacy"]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_batch_shingles_equal_one_by_one(texts, size, scheme, casefold, punct, seed):
    """The kernels (ASCII texts: cut and hashed in one pass, or from the words the passage stage
    cut already) and the Python path (the others) give what hashes() gives."""
    cfg = load_config(
        overrides={
            "shingle.size": size,
            "minhash.scheme": scheme,
            "minhash.seed": seed,
            "normalize.casefold": casefold,
            "normalize.fold_punctuation": punct,
        }
    )
    shingler = Shingler(cfg)
    for flat, offsets in (
        shingler.hashes_batch(texts),
        shingler.hashes_batch(texts, shingler.ascii_words(texts)),
    ):
        assert len(offsets) == len(texts) + 1
        for i, t in enumerate(texts):
            expected = shingler.hashes(t)
            got = flat[offsets[i] : offsets[i + 1]]
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected)


@given(
    st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=200, unique=True), max_size=8),
    st.integers(2, 300),
    st.integers(0, 2**32 - 1),
)
def test_minhash_kernel_equals_numpy(sets, num_perm, seed):
    hasher = MinHasher(num_perm, seed, "affine32")
    arrays = [np.array(sorted(s), dtype=np.uint32) for s in sets]
    assert np.array_equal(hasher.signatures(arrays), hasher.signatures_numpy(arrays))


FIGURE_TEXT = st.text(alphabet="0123456789.,/- a\n$%", max_size=80)


@given(st.lists(st.one_of(FIGURE_TEXT, ASCII_TEXT, st.text(max_size=40)), max_size=10))
def test_figure_kernel_equals_the_regex(texts):
    """The figures kernel (ASCII texts) and the regex path (the others) both hash what figures() finds."""
    got = figure_hashes(texts)
    assert len(got) == len(texts)
    for t, h in zip(texts, got):
        expected = sorted({xxhash.xxh64_intdigest(f.encode("utf-8", "surrogatepass")) for f in figures(t)})
        assert h.dtype == np.uint64 and h.tolist() == expected


def test_figures_of_a_news_sentence():
    (h,) = figure_hashes(["Net profit rose 12.5 pct to 1,234.5 mln dlrs in 1986, up from 6-3/16. and 12.5"])
    assert sorted(h.tolist()) == sorted(
        xxhash.xxh64_intdigest(f) for f in (b"12.5", b"1234.5", b"1986", b"6-3/16")
    )


@given(st.sets(st.integers(0, 2**32 - 1), max_size=300), st.sets(st.integers(0, 2**32 - 1), max_size=300))
def test_intersection_size_equals_sets(a, b):
    from dedupe.verify import intersection_size

    for dtype in (np.uint32, np.uint64):
        x, y = np.array(sorted(a), dtype=dtype), np.array(sorted(b), dtype=dtype)
        assert intersection_size(x, y) == len(a & b)


@given(
    st.integers(1, 40).flatmap(
        lambda words: st.tuples(
            st.lists(st.integers(0, words), max_size=160), st.lists(st.integers(0, words), max_size=160)
        )
    )
)
def test_matching_blocks_equal_difflib(ab):
    """Small spans fill every cell, larger ones walk b's index of matching words (past
    _SMALL_CELLS cells): both are difflib, with few distinct words (repeats) or many."""
    from difflib import SequenceMatcher

    from dedupe.kernels import matching_blocks

    a, b = ab
    for x, y in ((a, b), (a, a)):  # and equal arrays, which take a short cut
        expected = [
            tuple(m) for m in SequenceMatcher(None, x, y, autojunk=False).get_matching_blocks() if m.size
        ]
        got = matching_blocks(np.array(x, dtype=np.uint64), np.array(y, dtype=np.uint64))
        assert [tuple(r) for r in got.tolist()] == expected


def _extend_reference(wa, wb, a1, b1, max_gap, min_run=2):
    """The Python version of passages._extend (over difflib), which the kernel replaced."""
    from difflib import SequenceMatcher

    while True:
        while a1 < len(wa) and b1 < len(wb) and wa[a1] == wb[b1]:
            a1, b1 = a1 + 1, b1 + 1
        window = max_gap + min_run
        ta, tb = list(wa[a1 : a1 + window]), list(wb[b1 : b1 + window])
        if not ta or not tb:
            return a1, b1
        best, matched = None, 0
        for i, j, k in SequenceMatcher(None, ta, tb, autojunk=False).get_matching_blocks():
            if not k:
                continue
            matched += k
            if matched >= min_run and 2 * matched >= max(i, j) + k:
                best = (i + k, j + k)
        if best is None:
            return a1, b1
        a1, b1 = a1 + best[0], b1 + best[1]


@given(
    st.lists(st.integers(0, 4), max_size=50),
    st.lists(st.integers(0, 4), max_size=50),
    st.integers(0, 12),
    st.booleans(),
    st.data(),
)
def test_extend_kernel_equals_python(a, b, max_gap, reverse, data):
    from dedupe.kernels import extend

    wa, wb = np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)
    if reverse:  # passages extend backwards over reversed views
        wa, wb = wa[::-1], wb[::-1]
    a1 = data.draw(st.integers(0, len(a)))
    b1 = data.draw(st.integers(0, len(b)))
    got = tuple(int(x) for x in extend(wa, wb, a1, b1, max_gap, 2))
    assert got == _extend_reference(list(wa), list(wb), a1, b1, max_gap)


def _flagged_values(words, flags, lo, hi):
    """Each run of adjacent flagged words in ``[lo, hi)``, its hashes combined in order (mod 2^64)."""
    out, run = [], None
    for i in range(lo, hi):
        if flags[i]:
            w = int(words[i])
            run = w if run is None else ((run * 0x9E3779B97F4A7C15) % (1 << 64)) ^ w
        elif run is not None:
            out.append(run)
            run = None
    if run is not None:
        out.append(run)
    return Counter(out)


def replaced_words(wa, fa, a0, a1, wb, fb, b0, b1):
    """Flagged values (runs of adjacent flagged words) of ``wa[a0:a1]`` and ``wb[b0:b1]`` the other
    side does not hold (multisets): the fewer."""
    x = _flagged_values(wa, fa, a0, a1)
    y = _flagged_values(wb, fb, b0, b1)
    common = sum((x & y).values())
    return min(sum(x.values()) - common, sum(y.values()) - common)


def _align_pair_reference(a, b, fa, fb, seeds, cfg):
    """The Python alignment of one document pair (chain the seeds, extend, cut where the sides state
    different figures, test, drop contained alignments), which :func:`dedupe.kernels.align_runs`
    replaced."""
    from difflib import SequenceMatcher

    from dedupe.passages import Alignment, min_seeds

    n, reach = cfg.ngram, cfg.ngram + cfg.max_gap
    active, done = [], []  # chains: [first_a, first_b, last_a, last_b, seeds]
    for pa, pb in seeds:
        still = []
        for ch in active:
            (still if pa - ch[2] <= reach else done).append(ch)
        active = still
        best, best_skew = None, None
        for ch in active:
            da, db = pa - ch[2], pb - ch[3]
            if 0 < da <= reach and 0 < db <= reach and (best_skew is None or abs(da - db) < best_skew):
                best, best_skew = ch, abs(da - db)
        if best is None:
            active.append([pa, pb, pa, pb, 1])
        else:
            best[2], best[3], best[4] = pa, pb, best[4] + 1
    done.extend(active)
    wa, wb = list(fa.words), list(fb.words)

    def name_share(titled, offset, blocks, side):
        matched = sum(blk[2] for blk in blocks)
        names = sum(int(titled[offset + blk[side] : offset + blk[side] + blk[2]].sum()) for blk in blocks)
        return names / matched if matched else 1.0

    def figures(fp, lo, hi):
        return {int(w) for w, f in zip(fp.words[lo:hi], fp.figure[lo:hi]) if f}

    def apart(x, y):
        return bool(x - y) and bool(y - x)

    def pieces(blocks, a0, a1, b0, b1):
        """The alignment cut after each block followed by figures that differ on the two sides, or whole."""
        cuts = []
        for r in range(len(blocks) - 1):
            x = figures(fa, a0 + blocks[r][0] + blocks[r][2], a0 + blocks[r + 1][0])
            y = figures(fb, b0 + blocks[r][1] + blocks[r][2], b0 + blocks[r + 1][1])
            if apart(x, y):
                cuts.append(r)
        if not cuts:
            return [(a0, a1, b0, b1, blocks, False, False)]
        out, lo = [], 0
        for hi in [*cuts, len(blocks) - 1]:
            first, last = blocks[lo], blocks[hi]
            span = (a0 + first[0], a0 + last[0] + last[2], b0 + first[1], b0 + last[1] + last[2])
            out.append((*span, blocks[lo : hi + 1], lo > 0, hi < len(blocks) - 1))
            lo = hi + 1
        return out

    out = []
    for first_a, first_b, last_a, last_b, count in done:
        if count < min_seeds(cfg):
            continue
        a1, b1 = _extend_reference(wa, wb, last_a + n, last_b + n, cfg.max_gap)
        ea, eb = _extend_reference(wa[::-1], wb[::-1], len(wa) - first_a, len(wb) - first_b, cfg.max_gap)
        a0, b0 = len(wa) - ea, len(wb) - eb
        matcher = SequenceMatcher(None, wa[a0:a1], wb[b0:b1], autojunk=False)
        whole = [tuple(m) for m in matcher.get_matching_blocks() if m.size]
        if min(a1 - a0, b1 - b0) < min(cfg.min_words, cfg.min_quote_words):
            continue
        for p0, p1, q0, q1, blocks, cut_before, cut_after in pieces(whole, a0, a1, b0, b1):
            la, lb = p1 - p0, q1 - q0
            quoted = bool(fa.quoted[p0:p1].all() and fb.quoted[q0:q1].all())
            min_len = cfg.min_quote_words if quoted else cfg.min_words
            if min(la, lb) < min_len:
                continue
            matched = sum(blk[2] for blk in blocks)
            sim = 2 * matched / (la + lb)
            if matched < min_len or sim < cfg.min_similarity:
                continue
            if (
                min(name_share(fa.titled, a0, blocks, 0), name_share(fb.titled, b0, blocks, 1))
                > cfg.max_name_share
            ):
                continue
            before = cut_before or apart(figures(fa, max(p0 - 2, 0), p0), figures(fb, max(q0 - 2, 0), q0))
            after = cut_after or apart(figures(fa, p1, p1 + 2), figures(fb, q1, q1 + 2))
            replaced = replaced_words(fa.words, fa.figure, p0, p1, fb.words, fb.figure, q0, q1)
            out.append(Alignment(a, p0, p1, b, q0, q1, sim, min(int(before) + int(after) + replaced, 127)))
    keep = []  # drop alignments inside another on both sides: longest first
    for x in sorted(out, key=lambda x: (x.a0 - x.a1, x.a0, x.b0)):
        if not any(y.a0 <= x.a0 and x.a1 <= y.a1 and y.b0 <= x.b0 and x.b1 <= y.b1 for y in keep):
            keep.append(x)
    return sorted(keep, key=lambda x: (x.a0, x.b0))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 6), max_size=60), min_size=2, max_size=6),
    st.data(),
    st.integers(2, 3),
    st.integers(0, 6),
    st.integers(2, 8),
    st.integers(2, 6),
    st.floats(0.05, 1.0),
    st.floats(0.0, 1.0),
)
def test_align_kernel_equals_python(docs, data, ngram, max_gap, min_words, min_quote, min_sim, names):
    """Every document pair holding a seed, aligned by the kernel and by the Python reference: the
    same alignments, in the same order, with the same similarities."""
    from dedupe.config import PassagesConfig
    from dedupe.passages import PassageBatch, PassageFingerprint, PassageStore, _align_runs, seed_pairs

    cfg = PassagesConfig(
        ngram=ngram,
        max_gap=max_gap,
        min_words=min_words,
        min_quote_words=min_quote,
        min_similarity=min_sim,
        max_name_share=names,
        max_ngram_docs=len(docs),
    )
    fps = []
    for words in docs:
        flags = data.draw(st.lists(st.integers(0, 7), min_size=len(words), max_size=len(words)))
        span = np.arange(len(words), dtype=np.int64)
        quoted = np.array([f & 1 for f in flags], dtype=bool)
        titled = np.array([f & 2 for f in flags], dtype=bool)
        figure = np.array([f & 4 for f in flags], dtype=bool)
        fps.append(
            PassageFingerprint(
                np.array(words, dtype=np.uint64), span, span + 1, quoted, titled, ngram, figure
            )
        )
    seeds = seed_pairs(fps, cfg)
    if not len(seeds):
        return
    key = seeds[:, 0] * len(docs) + seeds[:, 2]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sizes = np.diff(np.r_[starts, len(seeds)])
    expected = []
    for s, k in zip(starts.tolist(), sizes.tolist()):
        a, b = int(seeds[s, 0]), int(seeds[s, 2])
        expected += _align_pair_reference(a, b, fps[a], fps[b], seeds[s : s + k][:, [1, 3]].tolist(), cfg)
    # the documents spread over passage batches: pairs within one batch and across two
    cut = data.draw(st.integers(0, len(docs)))
    store = PassageStore.build(
        [
            (PassageBatch.of(fps[:cut], ngram), range(cut)),
            (PassageBatch.of(fps[cut:], ngram), range(len(docs) - cut)),
        ],
        ngram,
    )
    assert list(_align_runs(store, cfg, seeds, starts, sizes)) == expected


def _band_keys_numpy(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The band-key formula of dedupe.lsh.band_keys, written with numpy arrays."""
    from dedupe.shingle import fmix64

    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.zeros((n, bands), dtype=np.uint64)
    for r in range(rows):
        acc = fmix64(acc * np.uint64(0x9E3779B97F4A7C15) + sig[:, :, r])
    return fmix64(acc ^ np.arange(bands, dtype=np.uint64))


@given(
    st.integers(0, 20),
    st.integers(1, 8),
    st.integers(1, 6),
    st.sampled_from([np.uint32, np.uint64]),
    st.data(),
)
def test_band_key_kernel_equals_numpy(n, bands, rows, dtype, data):
    from dedupe.lsh import band_keys

    width = bands * rows + data.draw(st.integers(0, 3))
    info = np.iinfo(dtype)
    values = data.draw(st.lists(st.integers(0, int(info.max)), min_size=n * width, max_size=n * width))
    sigs = np.array(values, dtype=dtype).reshape(n, width)
    assert np.array_equal(band_keys(sigs, bands, rows), _band_keys_numpy(sigs, bands, rows))


@given(st.lists(st.integers(0, 6), max_size=80), st.one_of(st.none(), st.integers(2, 5)))
def test_group_pairs_kernel_equals_the_rule(keys, max_group):
    """Pairs of rows sharing a key: every pair of each group, or for a group over max_group the
    star around its first row and each row with the next (grouping.group_pairs)."""
    from dedupe.grouping import group_pairs, pairs_in_groups

    arr = np.array(keys, dtype=np.uint64)
    pairs, stats = pairs_in_groups(arr, max_group)
    expected = []
    sizes = []
    for key in sorted(set(keys)):
        rows = np.flatnonzero(arr == key)
        if len(rows) > 1:
            sizes.append(len(rows))
            expected.extend(map(tuple, rows[group_pairs(len(rows), max_group)].tolist()))
    assert sorted(map(tuple, pairs.tolist())) == sorted(expected)
    assert (stats.groups, stats.largest) == (len(sizes), max(sizes, default=0))
    assert stats.oversized == sum(max_group is not None and s > max_group for s in sizes)


@given(
    st.lists(st.one_of(ASCII_TEXT, FIGURE_TEXT, st.text(max_size=50)), max_size=10),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_passage_fingerprints_batch_equal_one_by_one(texts, casefold, punct, seed):
    """The passage stage's batch path (the word kernel for ASCII texts) gives each text the very
    fingerprint of the one-text path: word hashes, spans, quotation and Titlecase flags, seeds
    (the batch may hold spans as int32)."""
    from dedupe.passages import fingerprint, fingerprints

    cfg = load_config(
        overrides={"minhash.seed": seed, "normalize.casefold": casefold, "normalize.fold_punctuation": punct}
    )
    shingler = Shingler(cfg)
    for text, got in zip(texts, fingerprints(texts, shingler, cfg.passages), strict=True):
        want = fingerprint(text, shingler, cfg.passages)
        for field in ("words", "starts", "ends", "quoted", "titled", "seeds"):
            a, b = getattr(got, field), getattr(want, field)
            assert np.array_equal(a, b), field
            assert a.dtype == b.dtype or field in ("starts", "ends"), field


def test_loading_the_kernels_skips_only_numbas_blas_probe():
    """Start-up: the first kernel loads without importing scipy.linalg (numba's BLAS probe is
    answered "no"), and compiled linear algebra still finds BLAS when it is first used."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, numba\n"
        "from dedupe.kernels import intersection_size\n"
        "assert intersection_size(np.array([1, 2], np.uint64), np.array([2, 3], np.uint64)) == 1\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "f = numba.njit(lambda a, b: (np.dot(a, b), np.convolve(a, b)))\n"
        "d, c = f(np.arange(3.0), np.arange(3.0))\n"
        "assert d == 5.0 and c.tolist() == [0.0, 0.0, 1.0, 4.0, 4.0]\n"
        "assert 'scipy.linalg' in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_kernel_cache_falls_back_when_no_cache_directory_takes_files(tmp_path):
    """Numba caches the kernels beside the package or in the user's cache; when neither takes
    files (a read-only install and HOME), a private directory under the temporary one does."""
    from dedupe.kernels import cache_fallback

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert cache_fallback(tmp_path / "tree", tmp_path / "user") is None
    assert cache_fallback(blocker / "tree", tmp_path / "user") is None
    fallback = cache_fallback(blocker / "tree", blocker / "user")
    assert fallback and Path(fallback).is_dir() and os.access(fallback, os.W_OK)
