from __future__ import annotations

import random
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe import Config, Detector, Document
from dedupe.config import PassagesConfig
from dedupe.passages import PassageFingerprint, quote_regions, seed_pairs

QUOTE_START = "It was an extremely productive call"


def seeds_result(seeds_dir):
    docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.iterdir())]
    return docs, Detector().run(docs)


def test_truth_social_quote_is_one_group_in_all_five_seeds(seeds_dir):
    docs, result = seeds_result(seeds_dir)
    texts = {d.id: d.text for d in docs}
    group = result.passages[0]
    assert group.documents == 5 and group.quotation
    assert group.text.startswith(QUOTE_START)
    for occ in group.occurrences:
        assert texts[occ.doc][occ.start : occ.end] == occ.text
    by_doc = {o.doc[:3]: o for o in group.occurrences}
    # seed 000 quotes only fragments: “very productive call,” and “agree on many things.”
    assert "agree on many things" in by_doc["000"].text
    assert "extremely productive call. We agree on many things" in by_doc["004"].text
    assert "politics, business, and all other factors" in by_doc["002"].text
    assert "We agree on many things" in by_doc["003"].text and "everything else" in by_doc["003"].text
    assert len(result.reuse_clusters) == 1


def test_no_groups_of_stock_phrases(seeds_dir):
    _, result = seeds_result(seeds_dir)
    for g in result.passages:
        words = g.text.split()
        assert len(words) >= 4
        stock = {
            "the",
            "united",
            "states",
            "prime",
            "minister",
            "president",
            "donald",
            "trump",
            "mark",
            "carney",
            "canadian",
            "and",
            "of",
            "u.s.",
            "newly",
            "elected",
        }
        assert any(w.lower().strip(",.“”") not in stock for w in words), g.text


def test_quote_regions():
    text = 'He said “yes, we agree” and "no" then «oui» and an open “quote\nnext line'
    regions = [text[a:b] for a, b in quote_regions(text)]
    assert regions == ["“yes, we agree”", '"no"', "«oui»", "“quote"]


def test_passages_can_be_turned_off(seeds_dir):
    docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.iterdir())]
    result = Detector(Config().replace({"passages.enabled": False})).run(docs)
    assert result.passages == [] and result.reuse_clusters == []


# ---- properties -------------------------------------------------------------------------------


def random_words(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def edit(rng: random.Random, words: list[str], edits: int) -> list[str]:
    """Change, drop or insert words, away from the two words at each end: a passage whose first or
    last word was changed begins (or ends) after that word, by design, so its offsets would differ
    from the planted ones by that word."""
    out = list(words)
    for _ in range(edits):
        i = rng.randrange(2, len(out) - 2)
        op = rng.choice(["sub", "del", "ins"])
        if op == "sub":
            out[i] = "edited"
        elif op == "del":
            del out[i]
        else:
            out.insert(i, "inserted")
    return out


@given(st.integers(0, 2**32), st.integers(12, 40), st.integers(0, 5), st.integers(2, 4))
def test_planted_passage_is_found_with_its_offsets(seed, length, edits, copies):
    edits = min(edits, length // 8)  # light edits: at most one word in eight changed, dropped or inserted
    rng = random.Random(seed)
    passage = random_words(rng, length)
    docs, planted = [], {}
    for k in range(copies):
        host = random_words(rng, rng.randint(20, 120))
        cut = rng.randint(0, len(host))
        words = edit(rng, passage, edits if k else 0)
        before = " ".join(host[:cut]) + (" " if cut else "")
        text = before + " ".join(words) + (" " if cut < len(host) else "") + " ".join(host[cut:])
        planted[f"d{k}"] = (len(before), len(before) + len(" ".join(words)))
        docs.append(Document(f"d{k}", text))
    result = Detector().run(docs)
    assert result.passages, "planted passage not found"
    group = max(result.passages, key=lambda g: g.documents)
    assert group.documents == copies
    for occ in group.occurrences:
        start, end = planted[occ.doc]
        assert abs(occ.start - start) <= 12 and abs(occ.end - end) <= 12, (occ, start, end)


@given(st.integers(0, 2**32), st.integers(2, 6))
def test_unrelated_texts_have_no_passage(seed, n):
    rng = random.Random(seed)
    docs = [Document(f"d{k}", " ".join(random_words(rng, rng.randint(10, 150)))) for k in range(n)]
    result = Detector().run(docs)
    assert result.passages == [] and result.reuse_clusters == []


unicode_noise = st.text(alphabet=st.characters(codec=None), max_size=30)


@given(st.lists(unicode_noise, min_size=2, max_size=4), st.integers(0, 2**32))
def test_offsets_slice_the_original_whatever_the_unicode(noise, seed):
    rng = random.Random(seed)
    shared = "“We agree on many things, and will be meeting immediately after the élection”"
    docs = []
    for k, junk in enumerate(noise):
        sep = rng.choice(["\r\n", " ", "\u0301 ", " 🙂 ", "\u200b"])
        docs.append(
            Document(f"d{k}", junk + sep + shared.replace("é", "e\u0301" if k % 2 else "é") + sep + junk)
        )
    result = Detector().run(docs)
    texts = {d.id: d.text for d in docs}
    assert result.passages
    for g in result.passages:
        for occ in g.occurrences:
            assert 0 <= occ.start < occ.end <= len(texts[occ.doc])
            assert texts[occ.doc][occ.start : occ.end] == occ.text


@given(st.integers(0, 2**32), st.randoms(use_true_random=False))
def test_passages_do_not_depend_on_document_order(seed, rnd):
    rng = random.Random(seed)
    passage = random_words(rng, 20)
    docs = []
    for k in range(5):
        host = random_words(rng, 60)
        cut = rng.randint(0, 60)
        docs.append(Document(f"d{k}", " ".join(host[:cut] + edit(rng, passage, k % 3) + host[cut:])))
    shuffled = docs[:]
    rnd.shuffle(shuffled)
    a, b = Detector().run(docs), Detector().run(shuffled)
    assert a.passages == b.passages and a.reuse_clusters == b.reuse_clusters


def test_config_keys_documented():
    cfg = PassagesConfig()
    assert cfg.min_quote_words < cfg.min_words


@given(st.lists(st.lists(st.integers(0, 12), max_size=30), min_size=2, max_size=10), st.data())
def test_seed_pairs_involving_equals_filtering_all_pairs(docs, data):
    """The index's query path (pairs holding a marked document, listed directly) lists exactly
    the seed pairs that all-pairs-then-filter gives."""
    cfg = PassagesConfig(max_ngram_docs=5, ngram=2)
    fps = []
    for words in docs:
        arr = np.array(words, dtype=np.uint64)
        z = np.zeros(len(words))
        fps.append(PassageFingerprint(arr, z, z, z, z, cfg.ngram))
    marked = np.array(data.draw(st.lists(st.booleans(), min_size=len(docs), max_size=len(docs))))
    everything = seed_pairs(fps, cfg)
    expected = everything[marked[everything[:, 0]] | marked[everything[:, 2]]]
    assert np.array_equal(seed_pairs(fps, cfg, marked), expected)


def _word_fingerprints(docs: list[list[int]], ngram: int) -> list[PassageFingerprint]:
    out = []
    for words in docs:
        arr = np.array(words, dtype=np.uint64)
        spans = np.arange(len(words), dtype=np.int64)
        out.append(PassageFingerprint(arr, spans, spans + 1, arr % 2 == 0, arr % 3 == 0, ngram))
    return out


def _seed_pairs_by_definition(fps: list[PassageFingerprint], cfg: PassagesConfig) -> list[tuple[int, ...]]:
    """Every pair of occurrences, in two documents, of a seed found in 2 to max_ngram_docs
    documents and at most 4 x max_ngram_docs times; for a seed found more widely (or more
    often), each occurrence paired with the first occurrence in the smallest document."""
    where: dict[int, list[tuple[int, int]]] = {}
    for d, fp in enumerate(fps):
        for p, h in enumerate(fp.seeds.tolist()):
            where.setdefault(h, []).append((d, p))
    pairs = []
    for occ in where.values():
        docs = {d for d, _ in occ}
        if len(docs) < 2:
            continue
        if len(docs) <= cfg.max_ngram_docs and len(occ) <= 4 * cfg.max_ngram_docs:
            pairs += [(*x, *y) for x in occ for y in occ if x[0] < y[0]]
        else:
            hub = min(occ)
            pairs += [(*hub, *y) for y in occ if y[0] != hub[0]]
    return sorted(pairs, key=lambda r: (r[0], r[2], r[1], r[3]))


@given(
    st.lists(st.lists(st.integers(0, 9), max_size=40), min_size=2, max_size=12),
    st.integers(2, 3),
    st.integers(2, 6),
    st.sampled_from([1, 3, 17, 1 << 26]),
    st.integers(1, 5),
)
def test_seed_pairs_in_shares_equal_the_definition(docs, ngram, max_docs, share, parts):
    """Seeds grouped one share of the hash range at a time (any share size: one share, or many
    more than there are seeds) give exactly the pairs of the definition, in (doc, doc, pos, pos)
    order; the parts of the document pairs split them without loss or overlap, each pair's rows
    in one part; the count bounds them, and a budget one row short is refused."""
    from unittest import mock

    from dedupe import passages
    from dedupe.passages import _OverBudget, seed_pair_count

    cfg = PassagesConfig(ngram=ngram, max_ngram_docs=max_docs)
    fps = _word_fingerprints(docs, ngram)
    expected = _seed_pairs_by_definition(fps, cfg)
    with mock.patch.object(passages, "_SEED_SHARE", share):
        got = seed_pairs(fps, cfg)
        assert [tuple(r) for r in got.tolist()] == expected
        assert seed_pair_count(fps, cfg) >= len(expected)  # repeats within a document counted too
        everyone = np.ones(len(fps), dtype=bool)  # the index's path, with no budget
        assert np.array_equal(seed_pairs(fps, cfg, everyone), got)
        split = [seed_pairs(fps, cfg, part=(p, parts)) for p in range(parts)]
        joined = np.concatenate(split)
        joined = joined[np.lexsort((joined[:, 3], joined[:, 1], joined[:, 2], joined[:, 0]))]
        assert np.array_equal(joined, got)
        owner = {(a, b): p for p, rows in enumerate(split) for a, _, b, _ in rows.tolist()}
        assert all(owner[(a, b)] == p for p, rows in enumerate(split) for a, _, b, _ in rows.tolist())
        if expected:
            try:
                seed_pairs(fps, cfg, budget=len(expected) - 1)
            except _OverBudget:
                pass
            else:
                raise AssertionError("the budget let too many pairs through")


def test_widely_printed_text_is_one_group_at_any_document_frequency():
    """A passage printed in more documents than max_ngram_docs is paired as a star, not dropped:
    one group holding every copy, however many, in linear rows."""
    from dedupe.passages import find_passages

    rng = np.random.default_rng(5)
    quote = rng.integers(1_000, 2_000, 30).tolist()
    for k in (3, 12, 40):
        docs = []
        for d in range(k + 5):
            filler = rng.integers(10_000, 10**9, 60).tolist()
            docs.append(filler[:20] + quote + filler[20:] if d < k else filler)
        cfg = PassagesConfig(ngram=3, max_ngram_docs=5)
        fps = _word_fingerprints(docs, cfg.ngram)
        ids = [f"d{d:03d}" for d in range(len(docs))]
        texts = [" ".join(["w"] * len(x)) for x in docs]
        groups, _, stats, _ = find_passages(fps, ids, texts, cfg)
        assert len(groups) == 1 and groups[0].documents == k
        if k > cfg.max_ngram_docs:
            assert stats["seed_pairs"] == (k - 1) * (len(quote) - cfg.ngram + 1)


@pytest.mark.parametrize("share", [None, 64], ids=["one-share", "many-shares"])
def test_passes_give_the_alignments_of_one_pass(share, monkeypatch, tmp_path):
    """Past max_seed_pairs the pairs are made once, spilled to disk by part and aligned part by
    part: the same alignments, in order, and no file left. With one share of seeds, the share
    alone passes the budget and is made in pieces; with many, each share is made whole."""
    import dedupe.passages as passages_module
    from dedupe.passages import align_all

    if share is not None:
        monkeypatch.setattr(passages_module, "_SEED_SHARE", share)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again

    rng = np.random.default_rng(9)
    base = rng.integers(0, 400, 400).tolist()
    docs = [base[s : s + 120] + rng.integers(0, 400, 10).tolist() for s in range(0, 280, 14)]
    cfg = PassagesConfig(ngram=3)
    fps = _word_fingerprints(docs, cfg.ngram)
    one: dict = {}
    whole = align_all(fps, cfg, stats=one)
    assert one["passage_passes"] == 1 and len(whole) > 10
    tight = PassagesConfig(ngram=3, max_seed_pairs=max(1, one["seed_pairs"] // 7))
    many: dict = {}
    assert align_all(fps, tight, stats=many) == whole
    assert many["passage_passes"] >= 7 and many["seed_pairs"] == one["seed_pairs"]
    assert many["seed_pairs_spilled_bytes"] == 4 * 4 * one["seed_pairs"]  # int32 rows, each made once
    assert list(tmp_path.iterdir()) == []


def test_spilled_rows_leave_nothing_when_the_stage_fails(monkeypatch, tmp_path):
    """An alignment that fails after the rows were spilled: the error propagates, and the spill
    directory and its files are gone (not left for the garbage collector)."""
    import dedupe.passages as passages_module
    from dedupe.passages import align_all

    rng = np.random.default_rng(3)
    base = rng.integers(0, 400, 400).tolist()
    fps = _word_fingerprints([base[s : s + 120] for s in range(0, 280, 14)], 3)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    def broken(*args, **kwargs):
        raise RuntimeError("alignment failed")

    monkeypatch.setattr(passages_module, "_align_runs", broken)
    with pytest.raises(RuntimeError, match="alignment failed"):
        align_all(fps, PassagesConfig(ngram=3, max_seed_pairs=50))
    assert list(tmp_path.iterdir()) == []


def test_one_document_pair_past_the_budget_is_aligned_whole(tmp_path, monkeypatch):
    """Two copies of one long text with a budget of one row: every row belongs to one document
    pair, which cannot be split; the pair is aligned with all its rows (as without the budget),
    without opening a file per row."""
    from dedupe.passages import align_all

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    words = np.random.default_rng(4).integers(0, 10**9, 3000).tolist()
    fps = _word_fingerprints([words, words], 3)
    whole: dict = {}
    tight: dict = {}
    expected = align_all(fps, PassagesConfig(ngram=3), stats=whole)
    assert align_all(fps, PassagesConfig(ngram=3, max_seed_pairs=1), stats=tight) == expected
    assert tight["seed_pairs"] == whole["seed_pairs"] and list(tmp_path.iterdir()) == []


@given(
    st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=30), max_size=8),
    st.integers(2, 4),
    st.integers(0, 3),
)
def test_seed_kernel_equals_ngram_hashes(docs, ngram, bits):
    """The compiled seed pass gives each document's n-gram hashes (those of shingle.ngram_hashes),
    and the shares of the hash range split them without loss or overlap."""
    from dedupe.passages import PassageBatch, PassageStore

    fps = _word_fingerprints(docs, ngram)
    store = PassageStore.of(PassageBatch.of(fps, ngram), ngram)
    assert store.seed_count() == sum(len(fp.seeds) for fp in fps)
    sizes = store.share_sizes(bits)
    assert len(sizes) == 1 << bits and sizes.sum() == store.seed_count()
    found = sorted(
        (int(d), int(p), int(h))
        for share, size in enumerate(sizes.tolist())
        for h, d, p in zip(*store.seeds_in(bits, share, size), strict=True)
        if h >> 64 - bits == share or not bits
    )
    assert found == sorted((d, p, h) for d, fp in enumerate(fps) for p, h in enumerate(fp.seeds.tolist()))
    # the same documents in three batches: two threads write the very arrays one thread writes
    cut = [0, len(fps) // 3, 2 * len(fps) // 3, len(fps)]
    parts = [(PassageBatch.of(fps[a:b], ngram), range(b - a)) for a, b in zip(cut, cut[1:])]
    stores = [PassageStore.build(parts, ngram) for _ in range(2)]
    assert np.array_equal(stores[0].share_sizes(bits), sizes)
    assert np.array_equal(stores[1].share_sizes(bits, threads=2), sizes)
    for share, size in enumerate(sizes.tolist()):
        one = stores[0].seeds_in(bits, share, size)
        two = stores[1].seeds_in(bits, share, size, threads=2)
        assert all(np.array_equal(a, b) for a, b in zip(one, two))
        assert all(np.array_equal(a, b) for a, b in zip(one, store.seeds_in(bits, share, size)))


@given(st.lists(st.lists(st.integers(0, 50), max_size=20), max_size=8), st.data())
def test_passage_store_rows_and_order(docs, data):
    """A store built from batches and row subsets, reordered and joined, gives each document the
    fingerprint it was made from, every column."""
    from dedupe.passages import PassageBatch, PassageStore

    fps = _word_fingerprints(docs, 3)
    half = len(fps) // 2
    batches = [PassageBatch.of(fps[:half], 3), PassageBatch.of(fps[half:], 3)]
    rows = [data.draw(st.lists(st.integers(0, len(b) - 1), unique=True)) if len(b) else [] for b in batches]
    store = PassageStore.build(list(zip(batches, rows, strict=True)), 3)
    want = [fps[r] for r in rows[0]] + [fps[half + r] for r in rows[1]]
    order = data.draw(st.permutations(range(len(want))))
    got = store.take(order) + PassageStore.of(fps, 3)
    want = [want[k] for k in order] + fps
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for field in ("words", "starts", "ends", "quoted", "titled", "seeds"):
            assert np.array_equal(getattr(g, field), getattr(w, field)), field


@given(st.text(alphabet=string.ascii_letters + string.digits + " .,'\"-\n\t\x1f", max_size=200))
def test_titled_words_vectorised_equals_per_word(text):
    from dedupe.normalize import tokenize, words
    from dedupe.passages import _is_titled, _titled

    toks = tokenize(text, Config().normalize)
    starts, ends = np.array(toks.starts, dtype=np.int64), np.array(toks.ends, dtype=np.int64)
    expected = [_is_titled(text[a:b]) for a, b in zip(toks.starts, toks.ends)]
    assert _titled(text, starts, ends).tolist() == expected
    # the ASCII span path: each span is one whole word as printed, in order
    assert [
        " ".join(words(text[a:b], Config().normalize)) for a, b in zip(toks.starts, toks.ends)
    ] == toks.words


def test_parallel_alignment_equals_serial(reuters_stories, monkeypatch):
    """Two workers align the same pairs into the same alignments, in the same order."""
    from dedupe import passages
    from dedupe.engines import LocalEngine

    docs = [Document(s["id"], s["text"]) for s in reuters_stories[:1200]]
    det = Detector(Config())
    fp = det.fingerprint(docs)
    serial = passages.align_all(fp.passages, det.config.passages)
    monkeypatch.setattr(passages, "_PARALLEL_PAIRS", 0)
    parallel = passages.align_all(fp.passages, det.config.passages, engine=LocalEngine(2))
    assert len(serial) > 100
    assert parallel == serial
    assert not passages._SHARED  # nothing left published after the pool is gone


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping intervals joined (touching ones kept apart), as reuse clusters merged them."""
    merged: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


@given(st.lists(st.integers(1, 30), min_size=1, max_size=5), st.data())
def test_shared_chars_vectorised_equals_merging_pair_by_pair(lengths, data):
    """Characters covered per document pair, overlapping spans merged: numpy over all pairs at
    once equals merging each pair's spans in turn (as reuse clusters did)."""
    from dedupe.passages import PassageBatch, PassageStore, _shared_chars

    fps = []
    for n in lengths:
        gaps = data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
        starts = np.cumsum(gaps) + np.arange(n) * 4
        fps.append(
            PassageFingerprint(
                np.zeros(n, np.uint64), starts, starts + 4, np.zeros(n, bool), np.zeros(n, bool), 3
            )
        )
    cut = data.draw(st.integers(0, len(fps)))
    store = PassageStore.build(
        [(PassageBatch.of(fps[:cut], 3), range(cut)), (PassageBatch.of(fps[cut:], 3), range(len(fps) - cut))],
        3,
    )
    spans = data.draw(
        st.lists(
            st.integers(0, len(fps) - 1).flatmap(
                lambda d: st.tuples(st.just(d), st.integers(0, lengths[d] - 1)).flatmap(
                    lambda t: st.tuples(
                        st.just(t[0]), st.just(t[1]), st.integers(t[1] + 1, lengths[t[0]]), st.integers(0, 3)
                    )
                )
            ),
            min_size=1,
            max_size=20,
        )
    )
    docs = np.array([d for d, *_ in spans])
    lo = np.array([a for _, a, _, _ in spans])
    hi = np.array([b for _, _, b, _ in spans])
    pair_of = np.array([p for *_, p in spans])
    keys, pair = np.unique(pair_of * len(fps) + docs, return_inverse=True)  # one side: (pair, doc) fixed
    got = _shared_chars(store, docs, lo, hi, pair)
    expected = []
    for key in keys.tolist():
        mine = [(a, b) for (d, a, b, p) in spans if p * len(fps) + d == key]
        d = key % len(fps)
        expected.append(sum(e - s for s, e in (store.char_span(d, a, b) for a, b in _merge(mine))))
    assert got.tolist() == expected


def _assign_nodes_reference(spans: dict[int, list[tuple[int, int]]]) -> tuple[list, dict]:
    """The Python occurrence nodes (one document at a time, longest span first), which
    :func:`dedupe.kernels.assign_nodes` replaced."""
    nodes: list[list[int]] = []
    node_of: dict[tuple[int, int, int], int] = {}
    for doc in sorted(spans):
        anchors: list[tuple[int, int, int]] = []
        for lo, hi in sorted(set(spans[doc]), key=lambda x: (x[0] - x[1], x[0])):
            best = None
            for alo, ahi, k in anchors:
                if 2 * (min(hi, ahi) - max(lo, alo)) >= max(hi - lo, ahi - alo):
                    best = k
                    nodes[k][1], nodes[k][2] = min(nodes[k][1], lo), max(nodes[k][2], hi)
                    break
            if best is None:
                best = len(nodes)
                anchors.append((lo, hi, best))
                nodes.append([doc, lo, hi])
            node_of[(doc, lo, hi)] = best
    return [tuple(n) for n in nodes], node_of


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 20),
            st.integers(1, 12),
            st.integers(0, 3),
            st.integers(0, 20),
            st.integers(1, 12),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_occurrence_nodes_kernel_equals_python(rows):
    """Nodes of aligned spans, numbered alike, and each alignment side's node."""
    from dedupe.passages import Alignment, _assign_nodes

    alignments = [Alignment(a, a0, a0 + la, b, b0, b0 + lb, 1.0) for a, a0, la, b, b0, lb in rows]
    spans: dict[int, list[tuple[int, int]]] = {}
    for al in alignments:
        spans.setdefault(al.a, []).append((al.a0, al.a1))
        spans.setdefault(al.b, []).append((al.b0, al.b1))
    nodes, node_of = _assign_nodes_reference(spans)
    got_nodes, distinct, node_of_span, sides = _assign_nodes(
        np.array([(x.a, x.a0, x.a1, x.b, x.b0, x.b1) for x in alignments])
    )
    assert [tuple(n) for n in got_nodes.tolist()] == nodes
    assert {tuple(s): k for s, k in zip(distinct.tolist(), node_of_span.tolist())} == node_of
    assert sides.tolist() == [[node_of[(x.a, x.a0, x.a1)], node_of[(x.b, x.b0, x.b1)]] for x in alignments]


def _peel_reference(comp, edges, nodes, fps, ids, texts, min_similarity):
    """The Python passage groups of one component (leader walks), which
    :func:`dedupe.kernels.occurrence_reps` and :func:`dedupe.kernels.peel_groups` replaced."""
    from collections import defaultdict

    from dedupe.passages import Occurrence, PassageGroup, matched_words

    def char_len(k):
        s, e = fps.char_span(*nodes[k])
        return e - s

    def inside(lo, hi, olo, ohi):
        return 2 * (min(hi, ohi) - max(lo, olo)) >= hi - lo

    order = sorted(comp, key=lambda k: (nodes[k][1] - nodes[k][2], nodes[k][0], nodes[k][1]))
    rep, kept_by_doc = {}, defaultdict(list)
    for k in order:
        d, lo, hi = nodes[k]
        rep[k] = next((j for j in kept_by_doc[d] if inside(lo, hi, nodes[j][1], nodes[j][2])), k)
        if rep[k] == k:
            kept_by_doc[d].append(k)
    adjacent = defaultdict(set)
    for x, y in edges:
        x, y = rep[x], rep[y]
        if x != y:
            adjacent[x].add(y)
            adjacent[y].add(x)
    represented = defaultdict(list)
    for k, r in rep.items():
        represented[r].append(k)
    leaders = sorted(
        (k for k in comp if rep[k] == k), key=lambda k: (-char_len(k), ids[nodes[k][0]], nodes[k][1])
    )
    placed, out = set(), []
    for lead in leaders:
        if lead in placed:
            continue
        placed.add(lead)
        cd, cw0, cw1 = nodes[lead]
        canon = fps.words_of(cd)[cw0:cw1]
        canon_set = set(canon.tolist())
        members, scores = [lead], {lead: len(canon)}
        frontier, seen = list(adjacent[lead]), {lead}
        while frontier:
            k = frontier.pop()
            if k in seen or k in placed:
                continue
            seen.add(k)
            d, w0, w1 = nodes[k]
            words = fps.words_of(d)[w0:w1]
            need = min_similarity * len(words)
            if sum(w in canon_set for w in words.tolist()) < need:
                continue
            m = matched_words(words, canon)
            if m < need:
                continue
            members.append(k)
            scores[k] = m
            placed.add(k)
            frontier.extend(adjacent[k])
        if len({nodes[k][0] for k in members}) < 2:
            continue
        cstart, cend = fps.char_span(cd, cw0, cw1)
        occurrences = []
        for k in members:
            d, w0, w1 = nodes[k]
            s, e = fps.char_span(d, w0, w1)
            occurrences.append(
                Occurrence(
                    ids[d],
                    s,
                    e,
                    scores[k] / (w1 - w0),
                    scores[k] / (cw1 - cw0),
                    bool(fps[d].quoted[w0:w1].all()),
                    texts[d][s:e],
                )
            )
        occurrences.sort(key=lambda o: (o.doc, o.start))
        group = PassageGroup(
            f"{ids[cd]}:{cstart}-{cend}",
            texts[cd][cstart:cend],
            ids[cd],
            cstart,
            cend,
            len({o.doc for o in occurrences if o.quoted}) >= 2,
            tuple(occurrences),
        )
        out.append((group, [j for k in members for j in represented[k]]))
    return out


def _fold_fragments_reference(comps, nodes):
    """The Python folding of fragment groups, which :func:`dedupe.kernels.fold_groups` replaced."""
    from collections import defaultdict

    length = [max(nodes[k][2] - nodes[k][1] for k in comp) for comp in comps]
    by_doc = defaultdict(list)
    for ci, comp in enumerate(comps):
        for k in comp:
            doc, lo, hi = nodes[k]
            by_doc[doc].append((lo, hi, ci))
    for spans in by_doc.values():  # longest groups first: a group looks only at a prefix
        spans.sort(key=lambda span: -length[span[2]])
    parent = list(range(len(comps)))

    def root(c: int) -> int:
        while parent[c] != c:
            c = parent[c]
        return c

    # longest first: when a group is considered, every longer group already knows where it folds,
    # so containment is counted per final group
    for ci in sorted(range(len(comps)), key=lambda c: -length[c]):
        counts = defaultdict(int)
        longer = length[ci]
        for k in comps[ci]:
            doc, lo, hi = nodes[k]
            inside = set()
            for olo, ohi, cj in by_doc[doc]:
                if length[cj] <= longer:
                    break
                if 2 * (min(hi, ohi) - max(lo, olo)) >= hi - lo:  # at least half of it inside
                    inside.add(root(cj))
            for r in inside:
                counts[r] += 1
        if counts:
            best = max(counts, key=lambda r: (counts[r], len(comps[r]), -r))
            if counts[best] >= 2 and 2 * counts[best] >= len(comps[ci]):
                parent[ci] = best

    merged = {}
    for ci in sorted(range(len(comps)), key=lambda c: -length[c]):  # targets before their fragments
        r = root(ci)
        if r == ci:
            merged[ci] = list(comps[ci])
            continue
        merged[r].extend(comps[ci])
    return [merged[r] for r in sorted(merged)]


def _group_passages_reference(cols, fps, ids, texts, min_similarity):
    from references import UnionFind

    from dedupe.passages import _assign_nodes

    nodes, spans, node_of_span, sides = _assign_nodes(cols)
    nodes = [tuple(n) for n in nodes.tolist()]
    uf = UnionFind(len(nodes))
    for x, y in sides.tolist():
        uf.union(x, y)
    comps = _fold_fragments_reference(uf.components(), nodes)
    group_of = {k: ci for ci, comp in enumerate(comps) for k in comp}
    edges = {}
    for x, y in sides.tolist():
        edges.setdefault(group_of[x], []).append((x, y))
    groups, node_group = [], {}
    for ci, comp in enumerate(comps):
        for group, members in _peel_reference(
            comp, edges.get(ci, []), nodes, fps, ids, texts, min_similarity
        ):
            groups.append(group)
            node_group.update((k, group.id) for k in members)
    span_group = {tuple(key): node_group.get(k) for key, k in zip(spans.tolist(), node_of_span.tolist())}
    groups.sort(key=lambda g: (-g.documents, -(g.end - g.start), g.id))
    return groups, span_group


@given(
    st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=30), min_size=2, max_size=6),
    st.data(),
    st.sampled_from([0.3, 0.5, 0.8, 1.0]),
)
def test_passage_groups_kernels_equal_python(docs, data, min_similarity):
    """Passage groups from random alignments over random documents (few distinct words, so
    occurrences nest, overlap and resemble each other): the compiled representatives and walks
    give the groups, and each aligned span's group, that the Python walks gave."""
    from dedupe.passages import PassageBatch, PassageStore, group_passages

    fps, texts = [], []
    for words in docs:
        quoted = np.array(data.draw(st.lists(st.booleans(), min_size=len(words), max_size=len(words))))
        span = 2 * np.arange(len(words), dtype=np.int64)
        fps.append(PassageFingerprint(np.array(words, np.uint64), span, span + 1, quoted, quoted, 3))
        texts.append(" ".join("abcde"[w] for w in words))
    rows = []
    for _ in range(data.draw(st.integers(1, 25))):
        a, b = sorted(data.draw(st.lists(st.integers(0, len(docs) - 1), min_size=2, max_size=2, unique=True)))
        a0 = data.draw(st.integers(0, len(docs[a]) - 1))
        a1 = data.draw(st.integers(a0 + 1, len(docs[a])))
        b0 = data.draw(st.integers(0, len(docs[b]) - 1))
        b1 = data.draw(st.integers(b0 + 1, len(docs[b])))
        rows.append((a, a0, a1, b, b0, b1))
    cut = data.draw(st.integers(0, len(docs)))
    store = PassageStore.build(
        [
            (PassageBatch.of(fps[:cut], 3), range(cut)),
            (PassageBatch.of(fps[cut:], 3), range(len(docs) - cut)),
        ],
        3,
    )
    ids = data.draw(st.permutations([f"doc{k}" for k in range(len(docs))]))
    cols = np.array(rows, dtype=np.int64)
    groups, side_group = group_passages(cols, store, ids, texts, min_similarity)
    expected_groups, span_group = _group_passages_reference(cols, store, ids, texts, min_similarity)
    assert groups == expected_groups
    got = {}
    for row, sides in zip(cols.tolist(), side_group.tolist()):
        for span, g in ((row[:3], sides[0]), (row[3:], sides[1])):
            got[tuple(span)] = groups[g].id if g >= 0 else None
    assert got == span_group


@given(st.integers(1, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=40))
def test_component_labels_equal_union_find(n, pairs):
    """The compiled union-find: the components of the Python one, each labelled by its smallest element."""
    from references import UnionFind

    from dedupe.kernels import component_labels

    pairs = [(a % n, b % n) for a, b in pairs]
    uf = UnionFind(n)
    for a, b in pairs:
        uf.union(a, b)
    xs = np.array([a for a, _ in pairs], dtype=np.int64)
    ys = np.array([b for _, b in pairs], dtype=np.int64)
    labels = component_labels(n, xs, ys).tolist()
    assert labels == [min(k for k in range(n) if uf.find(k) == uf.find(i)) for i in range(n)]


@given(
    st.lists(
        st.lists(
            st.tuples(
                st.integers(0, 2**20), st.integers(0, 2**11), st.integers(0, 2**20), st.integers(0, 2**11)
            ),
            max_size=30,
        ),
        max_size=4,
    ),
    st.booleans(),
)
def test_sorted_seed_rows_equal_lexsort(parts, wide):
    """Seed rows of several shares packed, sorted and read back: the rows lexsort orders (and the
    lexsort path itself, when the four fields do not fit in 64 bits)."""
    from dedupe.passages import _sorted_rows

    arrays = [np.array(p, dtype=np.int64).reshape(-1, 4) for p in parts]
    if wide and arrays and len(arrays[0]):
        arrays[0][0, 1] = 2**40  # too long a document to pack
    rows = np.concatenate(arrays) if arrays else np.empty((0, 4), dtype=np.int64)
    expected = rows[np.lexsort((rows[:, 3], rows[:, 1], rows[:, 2], rows[:, 0]))]
    got = _sorted_rows(list(arrays))
    assert got.dtype == np.int64 and got.shape == (len(rows), 4)
    assert got.tolist() == expected.tolist()


def _alignable_reference(seeds, need, reach, look=3):
    """The numpy runs of alignable seed rows, which :func:`dedupe.kernels.alignable_runs` replaced."""
    from dedupe.grouping import group_bounds

    pair_key = seeds[:, 0] * (int(seeds[:, 2].max()) + 1) + seeds[:, 2]
    starts, sizes = group_bounds(pair_key)
    enough = sizes >= need
    if need > 1:
        linked = np.zeros(len(seeds), dtype=bool)
        for k in range(1, look + 1):
            same = pair_key[k:] == pair_key[:-k]
            da = seeds[k:, 1] - seeds[:-k, 1]
            db = seeds[k:, 3] - seeds[:-k, 3]
            linked[:-k] |= same & (da > 0) & (da <= reach) & (db > 0) & (db <= reach)
        enough &= np.logical_or.reduceat(linked, starts)
    return starts[enough], sizes[enough]


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 40), st.integers(0, 4), st.integers(0, 40)),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 2),
    st.integers(1, 15),
)
def test_alignable_runs_equal_numpy(rows, need, reach):
    """The compiled pass over sorted seed rows finds the runs the numpy passes found."""
    from dedupe.kernels import alignable_runs

    seeds = np.array(sorted((a, b, c, d) for a, b, c, d in rows if a < c) or [(0, 0, 1, 0)], dtype=np.int64)
    seeds = seeds[np.lexsort((seeds[:, 3], seeds[:, 1], seeds[:, 2], seeds[:, 0]))]
    got = alignable_runs(seeds, need, reach, 3)
    expected = _alignable_reference(seeds, need, reach)
    assert got[0].tolist() == expected[0].tolist() and got[1].tolist() == expected[1].tolist()


def test_value_index_on_threads_equals_one_pass():
    """The seed groups' look-up, cut into one run of keys per thread, gives the one-pass indices."""
    from dedupe.kernels import value_index
    from dedupe.passages import _value_index

    rng = np.random.default_rng(7)
    values = np.unique(rng.integers(0, 2**63, 5000, dtype=np.uint64))
    keys = values[rng.integers(0, len(values), (1 << 20) + 3)]
    keys[::3] = rng.integers(0, 2**63, len(keys[::3]), dtype=np.uint64)  # mostly absent
    assert np.array_equal(_value_index(keys, values, 2), value_index(keys, values))
    assert np.array_equal(_value_index(keys, values, 3), value_index(keys, values))


@given(st.lists(st.integers(0, 40), max_size=200), st.data())
def test_repeated_values_of_sorted_halves(values, data):
    """The values occurring more than once, from two sorted halves, are those of the whole."""
    from dedupe.kernels import repeated_values

    hashes = np.array(values, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # spread over 64 bits
    cut = data.draw(st.integers(0, len(hashes)))
    ordered = np.sort(hashes)
    expected = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    got = repeated_values(np.sort(hashes[:cut]), np.sort(hashes[cut:]))
    assert got.dtype == np.uint64 and got.tolist() == expected.tolist()


def test_repeated_seeds_on_two_threads_equal_one():
    from dedupe.passages import _repeated

    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 1 << 21, (1 << 20) + 5, dtype=np.uint64) << np.uint64(40)
    assert np.array_equal(_repeated(hashes, 2), _repeated(hashes, 1))
    ordered = np.sort(hashes)
    assert np.array_equal(_repeated(hashes, 1), np.unique(ordered[1:][ordered[1:] == ordered[:-1]]))


_PROSE = st.text(alphabet=string.ascii_letters + string.digits + " .,'\"-\n\t\x1f“”«é", max_size=120)


@given(st.lists(_PROSE, max_size=8))
def test_batch_fingerprints_equal_one_text_at_a_time(texts):
    """The batch path (ASCII texts' words cut by one compiled pass and their quotation and
    Titlecase flags set by another) gives each text the fingerprint the one-text path gives it:
    words, spans and flags, with straight quotes that alternate, quotations left open at a line's
    or the text's end, and non-ASCII texts (curly quotes, guillemets) in the same batch."""
    from dedupe.passages import PassageBatch, fingerprint, fingerprints
    from dedupe.shingle import Shingler

    cfg = Config()
    shingler = Shingler(cfg)
    got = fingerprints(texts, shingler, cfg.passages)
    want = PassageBatch.of([fingerprint(t, shingler, cfg.passages) for t in texts], cfg.passages.ngram)
    assert len(got) == len(want) == len(texts)
    for name in ("words", "starts", "ends", "quoted", "titled", "figure", "offsets"):
        g, w = getattr(got, name), getattr(want, name)
        assert g.dtype == w.dtype and np.array_equal(g, w), name


def test_a_figure_holds_no_letter():
    """Digits first and no letter: "1987" and "12" are figures; OCR's "1ower" (for "lower") and
    "4th" are not, in the compiled pass (ASCII) and in the Python one alike."""
    from dedupe.passages import fingerprint, fingerprints
    from dedupe.shingle import Shingler

    cfg = Config()
    shingler = Shingler(cfg)
    text = "Prices were 1ower in 1987 for the 4th time, down 12 pct"
    expected = [w in {"1987", "12"} for w in text.replace(",", "").split()]
    (fp,) = fingerprints([text], shingler, cfg.passages)
    assert fp.figure.tolist() == expected
    assert fingerprint(text + " \u00e9", shingler, cfg.passages).figure.tolist() == [*expected, False]
