from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe import Config, Detector, Document, Skipped
from dedupe.config import load_config
from dedupe.passages import Occurrence

WORDS = (
    "tariff call canada trade minister election vote market oil price bank rate share profit "
    "dividend quarter company said would year government talks week agreement export import steel "
    "auto workers union strike court ruling policy budget deficit growth"
).split()


def article(rng: random.Random, n: int = 120) -> str:
    return " ".join(
        rng.choice(WORDS) + (str(rng.randrange(1000)) if rng.random() < 0.3 else "") for _ in range(n)
    )


def clusters_as_sets(result) -> set[frozenset[str]]:
    return {frozenset(c.members) for c in result.clusters}


def test_identical_trimmed_and_edited_copies_cluster():
    rng = random.Random(1)
    base = article(rng, 300)
    words = base.split()
    docs = [
        Document("orig", base),
        Document("copy", base),
        Document("trimmed", " ".join(words[:140])),  # Jaccard ~0.46, contained in orig
        Document("edited", " ".join(w if i % 40 else "x" for i, w in enumerate(words))),
        Document("other", article(rng, 300)),
    ]
    result = Detector().run(docs)
    assert clusters_as_sets(result) == {frozenset({"orig", "copy", "trimmed", "edited"})}
    (cluster,) = result.clusters
    assert cluster.id == "copy"  # the smallest member id
    assert cluster.representative == "copy"  # longest, ties broken by smallest id
    by_pair = {(p.a, p.b): p for p in result.pairs}
    trimmed = next(p for k, p in by_pair.items() if "trimmed" in k)
    assert trimmed.match == "containment" and trimmed.jaccard < 0.7
    assert max(trimmed.containment_a_in_b, trimmed.containment_b_in_a) > 0.95
    assert 0.0 < cluster.cohesion.min_jaccard <= cluster.cohesion.mean_jaccard <= 1.0
    assert result.documents_read == 5


def test_short_text_inside_long_ones_is_a_candidate_without_passages():
    """With the passage stage off, a 100-word text copied whole into texts 4 to 16 times longer
    still reaches the containment rule: the single-value containment candidates find it where
    the bands (tuned to Jaccard, here 0.06 to 0.25) do not; with them off the copies are lost."""
    rng = random.Random(7)
    short = article(rng, 100)
    docs = [Document("short", short)]
    for k, ratio in enumerate((4, 8, 16)):
        before = article(rng, 50 * ratio)
        docs.append(Document(f"host{ratio}", before + " " + short + " " + article(rng, 50 * ratio)))
        docs.append(Document(f"other{k}", article(rng, 100 * ratio)))
    off = Config().replace({"passages.enabled": False})
    result = Detector(off).run(docs)
    pairs = {(p.a, p.b): p for p in result.pairs}
    assert set(pairs) == {("host16", "short"), ("host4", "short"), ("host8", "short")}
    assert all(p.match == "containment" and p.jaccard < 0.3 for p in pairs.values())
    assert result.stats["containment_candidate_pairs"] >= 3
    without = Detector(off.replace({"lsh.containment_candidates": False})).run(docs)
    assert len(without.pairs) < 3 and "containment_candidate_pairs" not in without.stats


def test_representative_earliest():
    rng = random.Random(2)
    base = article(rng)
    docs = [
        Document("a", base + " extra words here", meta={"date": "1987-03-02"}),
        Document("b", base, meta={"date": "1987-03-01"}),
        Document("c", base),
    ]
    result = Detector(load_config(overrides={"cluster.representative": "earliest"})).run(docs)
    assert result.clusters[0].representative == "b"


def test_skips_empty_and_duplicate_ids_and_keeps_short_unmatched():
    docs = [
        Document("a", "   \n"),
        Document("b", "tiny text"),
        Document("c", "tiny text"),
        Document("b", "other"),
        Skipped("x.bin", "binary file"),
    ]
    result = Detector().run(docs)
    assert sorted(d.id for d in result.documents) == ["b", "c"]
    assert {s.reason.split(" (")[0] for s in result.skipped} == {
        "empty document",
        "duplicate id",
        "binary file",
    }
    assert result.clusters == [] and result.documents_read == 5
    assert all(d.shingles == 0 and d.notes for d in result.documents)


def test_plain_strings_and_tuples():
    result = Detector().run(["same words in this text here now", "same words in this text here now"])
    assert clusters_as_sets(result) == {frozenset({"0", "1"})}
    result = Detector().run(
        [("x", "alpha beta gamma delta epsilon zeta"), ("y", "alpha beta gamma delta epsilon zeta")]
    )
    assert clusters_as_sets(result) == {frozenset({"x", "y"})}


corpora = st.lists(st.integers(0, 2**16), min_size=2, max_size=10).map(
    lambda seeds: [article(random.Random(s), 40 + s % 80) for s in seeds]
)


def make_docs(texts: list[str], dup_plan: list[int]) -> list[Document]:
    docs = [Document(f"d{i:02d}", t) for i, t in enumerate(texts)]
    for k, src in enumerate(dup_plan):
        t = texts[src % len(texts)].split()
        cut = t[: max(6, len(t) * (3 + k % 3) // 5)]
        docs.append(Document(f"x{k:02d}", " ".join(cut)))
    return docs


@given(corpora, st.lists(st.integers(0, 100), max_size=5), st.randoms(use_true_random=False))
def test_result_invariant_under_input_order(texts, plan, rnd):
    docs = make_docs(texts, plan)
    shuffled = docs[:]
    rnd.shuffle(shuffled)
    a, b = Detector().run(docs), Detector().run(shuffled)
    assert a.clusters == b.clusters
    assert a.pairs == b.pairs


@given(corpora, st.integers(0, 9))
def test_identical_documents_always_share_a_cluster(texts, which):
    docs = [Document(f"d{i}", t) for i, t in enumerate(texts)]
    docs.append(Document("twin", texts[which % len(texts)]))
    cluster_of = Detector().run(docs).cluster_of()
    assert cluster_of["twin"] == cluster_of[f"d{which % len(texts)}"]


@given(corpora, st.lists(st.integers(0, 100), max_size=5), st.floats(0.3, 0.9), st.floats(0.05, 0.3))
def test_raising_thresholds_never_merges_clusters(texts, plan, low, step):
    docs = make_docs(texts, plan)
    cfg_low = Config().replace({"verify.jaccard_threshold": low, "verify.containment_threshold": low})
    high = min(1.0, low + step)
    cfg_high = Config().replace({"verify.jaccard_threshold": high, "verify.containment_threshold": high})
    low_of = Detector(cfg_low).run(docs).cluster_of()
    for c in Detector(cfg_high).run(docs).clusters:
        # every high-threshold cluster lies inside one low-threshold cluster
        assert len({low_of.get(m) for m in c.members}) == 1 and low_of.get(c.members[0]) is not None


def test_near_empty_documents_never_form_a_cluster():
    docs = [Document(f"e{i}", t) for i, t in enumerate(["a", "the", "Reuters", ".", "x y", "ok"] * 50)]
    result = Detector().run(docs)
    assert result.clusters == []


def test_workers_give_the_same_result():
    rng = random.Random(5)
    texts = [article(rng) for _ in range(30)]
    docs = make_docs(texts, [1, 2, 3, 4])
    one = Detector(Config().replace({"run.workers": 1, "run.batch_size": 4})).run(docs)
    two = Detector(Config().replace({"run.workers": 2, "run.batch_size": 4})).run(docs)
    assert one.clusters == two.clusters and one.pairs == two.pairs


def test_reuters_repeats_are_found(reuters_stories):
    cfg = Config()
    result = Detector(cfg).run([(s["id"], s["text"]) for s in reuters_stories])
    assert len(result.clusters) > 50
    texts = {s["id"]: s["text"] for s in reuters_stories}
    v = cfg.verify
    chars = {d.id: d.chars for d in result.documents}
    for p in result.pairs:  # every accepted pair passes the rule it names, by its exact figures
        assert passes_rule(p, v, chars), p
        assert not p.template
    assert {p.match for p in result.pairs} >= {"identical", "jaccard", "containment", "aligned"}
    # every cluster member's printed scores are against the document it matched, and pass
    scores = {(p.a, p.b): p for p in result.pairs}
    for c in result.clusters:
        for m in c.scores:
            if m.id == c.representative:
                assert m.relation == "source" and m.match is None
                continue
            pair = scores[tuple(sorted((m.id, m.matched_to)))]
            assert m.match == pair.match and m.jaccard == pair.jaccard
            assert m.relation in ("identical", "reprint", "trimmed", "extended", "edited")
    # an exact repeat in the corpus: every pair of stories with the same text shares a cluster
    by_text: dict[str, list[str]] = {}
    for doc_id, text in texts.items():
        by_text.setdefault(text, []).append(doc_id)
    repeats = [ids for ids in by_text.values() if len(ids) > 1 and len(texts[ids[0]].split()) >= 5]
    assert repeats
    cluster_of = result.cluster_of()
    for ids in repeats:
        assert len({cluster_of[i] for i in ids}) == 1


def passes_rule(p, v, chars) -> bool:
    """Whether a pair's figures pass the rule its ``match`` names."""
    if p.match == "identical":
        return p.jaccard == 1.0
    if p.match == "jaccard":
        return p.jaccard >= v.jaccard_threshold
    if p.match == "containment":
        return max(p.containment_a_in_b, p.containment_b_in_a) >= v.containment_threshold
    if p.match == "aligned":
        shorter = p.aligned_a if chars[p.a] <= chars[p.b] else p.aligned_b
        return shorter >= v.aligned_threshold
    return False


def test_chains_are_split_into_stars():
    """A-B, B-C, C-D share two thirds; A-C, B-D share one third, A-D nothing: no cluster is a chain."""
    rng = random.Random(9)
    parts = [article(rng, 60) for _ in range(6)]
    docs = [Document(name, " ".join(parts[k : k + 3])) for k, name in enumerate("abcd")]
    cfg = Config()
    chained = Detector(cfg.replace({"cluster.split_chains": False})).run(docs)
    assert {frozenset(c.members) for c in chained.clusters} == {frozenset("abcd")}
    result = Detector(cfg).run(docs)
    from dedupe.shingle import Shingler
    from dedupe.verify import score_pair

    sh = Shingler(cfg)
    sets = {d.id: sh.hashes(d.text) for d in docs}
    sig = np.zeros(4, dtype=np.uint32)
    for c in result.clusters:

        def passes(x, y):
            return score_pair(x, y, sets[x], sets[y], sig, sig, cfg.verify).match is not None

        assert any(all(m == center or passes(center, m) for m in c.members) for center in c.members)
        assert len(c.members) <= 3


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 9), st.integers(0, 9)), min_size=2, max_size=2, unique=True),
    st.sampled_from(["SAN MATEO, Calif.", "NEW YORK", "BOSTON"]),
)
def test_payout_notices_with_other_amounts_stay_apart_when_digits_coincide(amounts, city):
    """Two funds' payout notices, word for word the same but for the amounts, whose digits may
    coincide ("3.6" and "7.3" share a 3, which the word matcher pairs): not reprints of each other,
    nor is the second a reprint of the first one's copy-edited reprint, which is."""
    frame = (
        "{fund} SETS MONTHLY PAYOUT\n{city}, March 2 - Mthly div {x}.{y} cts vs {x}.{y} cts prior\n"
        "    Pay March 13\n    Record March 20\n    The fund said the payout was declared by its board "
        "of trustees and is in line with the income the fund earned from its portfolio of bonds."
    )
    (x1, y1), (x2, y2) = amounts
    one = frame.format(fund="FRANKLIN AGE HIGH INCOME FUND", city=city, x=x1, y=y1)
    docs = [
        Document("one", one),
        Document("two", frame.format(fund="FRANKLIN NEW YORK TAX-FREE FUND", city=city, x=x2, y=y2)),
        Document(
            "one-reprint", one.replace("The fund said", "The fund stated").replace("board", "directors")
        ),
    ]
    result = Detector().run(docs)
    of = result.cluster_of()
    assert of.get("one") is not None and of.get("one") == of.get("one-reprint")
    assert of.get("two") is None or of.get("two") != of.get("one")


def test_templated_notices_with_other_figures_are_not_reprints():
    template = (
        "NEW YORK, March {d} - The Federal Reserve entered the U.S. Government securities market to arrange "
        "{x} billion dlrs of customer repurchase agreements, a Fed spokesman said. Dealers said Federal funds "
        "were trading at {r} pct when the Fed began its temporary and indirect supply of reserves to the "
        "banking system."
    )
    docs = [
        Document("mon", template.format(d=2, x="1.5", r="6-3/16")),
        Document("tue", template.format(d=3, x="2.5", r="6-5/16")),
        Document("mon-reprint", template.format(d=2, x="1.5", r="6-3/16").replace("said", "stated")),
        Document("mon-trimmed", template.format(d=2, x="1.5", r="6-3/16").split(" Dealers")[0]),
    ]
    result = Detector().run(docs)
    assert {frozenset(c.members) for c in result.clusters} == {
        frozenset({"mon", "mon-reprint", "mon-trimmed"})
    }
    # without the figures rule, the passages' evidence still keeps them apart: their aligned text
    # states other figures at the same places
    evidence = Detector(Config().replace({"verify.distinct_figures": False})).run(docs)
    assert {frozenset(c.members) for c in evidence.clusters} == {
        frozenset({"mon", "mon-reprint", "mon-trimmed"})
    }
    pair = {(p.a, p.b): p for p in evidence.pairs}
    assert ("mon", "tue") not in pair and evidence.stats["rejected_templates"] >= 1
    merged = Detector(Config().replace({"verify.distinct_figures": False, "passages.enabled": False})).run(
        docs
    )
    assert {frozenset(c.members) for c in merged.clusters} == {
        frozenset({"mon", "tue", "mon-reprint", "mon-trimmed"})
    }


@given(
    st.text(),
    st.text(),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.lists(st.text(max_size=20), max_size=3),
)
def test_document_json_is_the_json_encoding(doc_id, source, chars, shingles, notes):
    """The JSON writers' fast path for documents writes what json would (any text, surrogates too)."""
    import io
    import json

    from dedupe.records import DocumentInfo
    from dedupe.report.json import write_json, write_jsonl
    from dedupe.result import Documents, Result, document_dict, document_json

    d = DocumentInfo(doc_id, source, chars, shingles, tuple(notes))
    assert document_json(d) == json.JSONEncoder(ensure_ascii=False).encode(document_dict(d))
    # the pipeline's columns read as the records, and write the same lines
    columns = Documents([doc_id] * 2, [source] * 2, [chars] * 2, [shingles] * 2, [tuple(notes)] * 2)
    assert columns == [d, d] and [d, d] == columns and list(columns) == [d, d] and columns[-1] == d
    assert columns.json_lines() == [document_json(d)] * 2
    result = Result(params={}, documents=columns, skipped=[], clusters=[], pairs=[])
    for write in (write_json, write_jsonl):
        out = io.StringIO()
        write(result, out)
        text = out.getvalue()
        records = (
            [json.loads(x) for x in text.split("\n") if x] if write is write_jsonl else [json.loads(text)]
        )
        docs = [r for r in records if r.get("kind") == "document"] or records[0]["documents"]
        assert [{k: v for k, v in r.items() if k != "kind"} for r in docs] == [document_dict(d)] * 2


_shares = st.floats(0, 1, allow_nan=False)
_occurrences = st.builds(
    Occurrence,
    st.text(max_size=10),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    _shares,
    _shares,
    st.booleans(),
    st.text(max_size=40),
)


@given(
    st.lists(_occurrences, max_size=4),
    st.text(max_size=40),
    st.booleans(),
    st.lists(
        st.tuples(
            st.text(max_size=8),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
            _shares,
            _shares,
            st.lists(st.text(max_size=12), max_size=3),
        ),
        max_size=4,
    ),
)
def test_passage_records_json_is_the_json_encoding(occurrences, text, quotation, pairs):
    """The JSON writers' fast path for passage groups and reuse clusters writes what json would
    write of their dictionaries, and both writers' output reads back as those dictionaries."""
    import io
    import json

    from dedupe.passages import PassageGroup, ReuseCluster, ReusePair
    from dedupe.report.json import write_json, write_jsonl
    from dedupe.result import Result

    encode = json.JSONEncoder(ensure_ascii=False).encode
    group = PassageGroup("g:1-2", text, "g", 1, 2, quotation, tuple(occurrences))
    reuse = ReuseCluster(
        "a",
        ("a", "b"),
        tuple(ReusePair("a", "b", sa, sb, fa, fb, tuple(ps)) for _, sa, sb, fa, fb, ps in pairs),
    )
    for record in (*occurrences, group, *reuse.pairs, reuse):
        assert record.to_json() == encode(record.to_dict())
    result = Result(
        params={}, documents=[], skipped=[], clusters=[], pairs=[], passages=[group], reuse_clusters=[reuse]
    )
    out = io.StringIO()
    write_json(result, out)
    data = json.loads(out.getvalue())
    assert data["passages"] == [group.to_dict()] and data["reuse_clusters"] == [reuse.to_dict()]
    out = io.StringIO()
    write_jsonl(result, out)
    lines = [json.loads(line) for line in out.getvalue().split("\n") if line]
    assert [x for x in lines if x["kind"] == "passage"] == [{"kind": "passage", **group.to_dict()}]
    assert [x for x in lines if x["kind"] == "reuse_cluster"] == [
        {"kind": "reuse_cluster", **reuse.to_dict()}
    ]


_scores = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1, allow_nan=False),
    st.integers(0, 10).map(lambda k: k / 10),
)


@given(
    st.lists(st.text(max_size=8), min_size=1, max_size=4),
    st.lists(st.tuples(_scores, _scores, _scores, _scores), max_size=3),
    st.tuples(_scores, _scores, st.booleans()),
    st.lists(
        st.tuples(
            st.text(max_size=8),
            st.text(max_size=8),
            _scores,
            _scores,
            _scores,
            _scores,
            st.integers(0, 10**9),
            st.sampled_from([None, "jaccard", "containment", "identical", "é\ud800"]),
        ),
        max_size=3,
    ),
)
def test_cluster_and_pair_json_is_the_json_encoding(members, scores, cohesion, pairs):
    """The JSON writers' fast path for clusters and pairs writes what json would write of their
    dictionaries (rounded scores, NaN and infinities too), and both writers read back as them."""
    import io
    import json

    from dedupe.records import Cluster, Cohesion, MemberScore, PairScore
    from dedupe.report.json import write_json, write_jsonl
    from dedupe.result import Result, cluster_dict, cluster_json, pair_dict, pair_json

    encode = json.JSONEncoder(ensure_ascii=False).encode
    cluster = Cluster(
        members[0],
        tuple(members),
        members[-1],
        tuple(MemberScore(m, *s) for m, s in zip(members, scores)),
        Cohesion(*cohesion),
    )
    pair_records = [PairScore(*p) for p in pairs]
    assert cluster_json(cluster) == encode(cluster_dict(cluster))
    for p in pair_records:
        assert pair_json(p) == encode(pair_dict(p))
    result = Result(params={}, documents=[], skipped=[], clusters=[cluster], pairs=pair_records)
    decoded = (
        json.loads(encode(cluster_dict(cluster))),
        [json.loads(encode(pair_dict(p))) for p in pair_records],
    )
    out = io.StringIO()
    write_json(result, out)
    data = json.loads(out.getvalue())
    assert json.dumps([data["clusters"], data["pairs"]]) == json.dumps([[decoded[0]], decoded[1]])
    out = io.StringIO()
    write_jsonl(result, out)
    lines = [json.loads(line) for line in out.getvalue().split("\n") if line]
    assert json.dumps([x for x in lines if x["kind"] in ("cluster", "pair")]) == json.dumps(
        [{"kind": "cluster", **decoded[0]}, *({"kind": "pair", **p} for p in decoded[1])]
    )


def test_passages_of_a_jsonl_file_equal_with_texts_read_again(seeds_dir, tmp_path):
    """A scan of a JSON Lines file holds no text for the passage stage: each is read again from
    its line when a passage is reported. The passages (texts and offsets) and reuse clusters are
    the ones found with every text held, on the five seed articles written as JSON Lines with a
    blank and a malformed line between them."""
    from dedupe.sources import Texts, read_sources

    lines = [
        json.dumps({"id": p.name, "text": p.read_text(encoding="utf-8")}) for p in sorted(seeds_dir.iterdir())
    ]
    path = tmp_path / "seeds.jsonl"
    path.write_text("\n".join([lines[0], "", "{broken", *lines[1:]]) + "\n", encoding="utf-8")
    cfg = load_config()
    det = Detector(cfg)
    fp = det.fingerprint(read_sources([str(path)], cfg.input, parse=False))
    assert isinstance(fp.texts, Texts) and fp.texts.unread == len(lines) == len(fp)
    located = det.run(read_sources([str(path)], cfg.input, parse=False))
    held = det.run(read_sources([str(path)], cfg.input, parse=True))
    assert located.passages and located.passages == held.passages
    assert located.reuse_clusters == held.reuse_clusters
    assert [s.source for s in located.skipped] == [s.source for s in held.skipped] == [f"{path}:3"]


def test_a_jsonl_file_rewritten_during_the_run_is_an_input_error(seeds_dir, tmp_path):
    """When the file changes after it was fingerprinted, the passage stage does not report
    offsets into a text that is not the one it matched: the run stops with InputError (a
    one-line error and exit code 3 in the CLI) naming the file."""
    import pytest

    from dedupe.errors import InputError
    from dedupe.sources import read_sources

    lines = [
        json.dumps({"id": p.name, "text": p.read_text(encoding="utf-8")}) for p in sorted(seeds_dir.iterdir())
    ]
    path = tmp_path / "seeds.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = load_config()

    def rewrite_when_passages_start(stage: str, done: int, total: int) -> None:
        if stage == "passages":  # the map stage has read and located every line
            path.write_text(
                "\n".join(line.replace("call", "CALL") for line in lines) + "\n", encoding="utf-8"
            )

    with pytest.raises(InputError, match="seeds.jsonl changed while dedupe read it"):
        Detector(cfg, progress=rewrite_when_passages_start).run(
            read_sources([str(path)], cfg.input, parse=False)
        )


def _arrays(batch: list[int]) -> dict:
    """A result holding every kind of array a map stage returns: contiguous (out of band), strided
    and object (pickled in band), plus plain Python values."""
    n = batch[0]
    flat = np.arange(n, dtype=np.uint32)
    return {
        "flat": flat,
        "sigs": np.arange(3 * n, dtype=np.uint64).reshape(n, 3),
        "strided": flat[::2],
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
        "objects": np.array(["a", None], dtype=object),
        "ids": [f"d{i}" for i in range(3)],
    }


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype
        if isinstance(a[k], np.ndarray)
        else a[k] == b[k]
        for k in a
    )


@given(st.integers(min_value=0, max_value=3000), st.sampled_from([256, 4096, 1 << 16]))
def test_results_through_shared_slots_equal_the_results(n, size):
    """A worker's result comes back through its shared slot (or, too large for it, whole) equal to
    itself, and the slot is given back either way."""
    from concurrent.futures import Future

    from dedupe.engines.local import ResultSlots, _call_into_slot, _result

    slots = ResultSlots(2, size)
    try:
        slot = slots.take()
        done: Future = Future()
        done.set_result(_call_into_slot(slots.key, slot, _arrays, [n]))
        back = _result(slots, done, slot)
        assert _same(back, _arrays([n]))
        assert sorted(slots.free) == [0, 1]
        back["flat"][:1] = 7  # a copy: writable, and the slot's bytes are not the result's
    finally:
        slots.close()


def test_pool_results_come_back_in_order_and_equal():
    from dedupe.engines import LocalEngine

    batches = [[n] for n in (0, 5, 3_000_000, 17, 1, 300)]  # the third is 84 MB: larger than a slot
    got = list(LocalEngine(2).map(_arrays, batches))
    assert len(got) == len(batches) and all(_same(g, _arrays(b)) for g, b in zip(got, batches))


def test_passage_stage_reports_its_progress_to_the_end():
    """The passage stage ticks as it aligns (in thousandths of the work, over all passes) and ends
    at its total: a progress bar does not sit at zero for the whole stage."""
    seen: list[tuple[str, int, int]] = []
    rng = random.Random(3)
    shared = article(rng, 80)
    docs = [Document(f"d{k}", article(rng, 40) + " " + shared + " " + article(rng, 40)) for k in range(6)]
    Detector(Config(), progress=lambda stage, done, total: seen.append((stage, done, total))).run(docs)
    ticks = [(d, t) for s, d, t in seen if s == "passages"]
    assert ticks[0] == (0, 1000) and ticks[-1] == (1000, 1000)
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)


@settings(max_examples=40, deadline=None)
@given(st.integers(65, 150), st.integers(2, 4), st.integers(0, 2**31))
def test_large_cluster_cohesion_is_linear_and_its_mean_exact(m, values, seed):
    """Past EXACT_COHESION_LIMIT members, cohesion is read from signatures in linear time: its mean
    equals the mean signature agreement over all pairs, and its minimum is at most the mean and
    at least the true minimum."""
    from dedupe.cluster import cohesion

    sig = np.random.default_rng(seed).integers(0, values, size=(m, 16)).astype(np.uint32)
    agree = [(sig[k + 1 :] == sig[k]).mean(axis=1) for k in range(m - 1)]
    c = cohesion(list(range(m)), None, sig)
    assert abs(c.mean_jaccard - float(np.concatenate(agree).mean())) < 1e-12
    assert float(np.concatenate(agree).min()) <= c.min_jaccard <= c.mean_jaccard and not c.exact


ZH = (
    "国家统计局周三公布的数据显示，今年第三季度国内生产总值同比增长百分之四点八，略低于市场预期。"
    "分析人士认为，房地产市场持续低迷和外部需求疲软是拖累经济增长的主要因素。"
    "统计局发言人表示，随着一系列稳增长政策逐步见效，经济有望在第四季度企稳回升。"
    "与此同时，九月份社会消费品零售总额同比增长百分之三点二，工业增加值增长百分之五点四。"
)
ZH_OTHER = (
    "本届国际电影节于周五晚间在上海开幕，来自四十多个国家和地区的两百余部影片将参加展映。"
    "组委会介绍，今年新设了青年导演单元，鼓励新人创作，并将举办多场面向公众的交流活动。"
    "闭幕式将于下周日举行，届时将揭晓各个奖项的最终归属。"
)
JA = (
    "気象庁によりますと、大型の台風十号は今夜から明日の朝にかけて九州南部に接近する見込みです。"
    "鹿児島県と宮崎県では、記録的な大雨となるおそれがあり、土砂災害や河川の氾濫に厳重な警戒が必要です。"
    "交通機関にも大きな影響が出ており、航空各社は明日の便の欠航を相次いで決めました。"
)
JA_OTHER = (
    "東京都内の百貨店では、夏のセールが始まり、開店前から多くの買い物客が列を作りました。"
    "売り場では衣料品や雑貨が最大で半額となり、担当者は客足の回復に期待を寄せています。"
)


def test_texts_without_spaces_between_words_are_matched_by_default():
    """Chinese and Japanese near-duplicates (a wire story with a sentence dropped, punctuation and a
    word changed) cluster with the default word shingles; unrelated texts in the same scripts do not."""
    docs = [
        Document("zh", ZH),
        Document(
            "zh-reprint", "新华社北京电 " + ZH.replace("略低于市场预期", "低于市场预期").replace("，", ", ")
        ),
        Document("zh-trimmed", ZH.rsplit("与此同时", 1)[0]),
        Document("zh-other", ZH_OTHER),
        Document("ja", JA),
        Document("ja-reprint", JA.replace("見込みです", "見通しです") + "（共同）"),
        Document("ja-other", JA_OTHER),
    ]
    result = Detector().run(docs)
    assert clusters_as_sets(result) == {
        frozenset({"zh", "zh-reprint", "zh-trimmed"}),
        frozenset({"ja", "ja-reprint"}),
    }
    assert all(d.shingles > 30 for d in result.documents)


def test_widely_printed_template_notices_stay_apart():
    """Twelve eurobond notices of one template, each naming its own issuer, amount, coupon, price
    and dates, and sharing the template's fixed figures (fees, denominations): their shared text is
    in more documents than pairs are made for, so the passage stage pairs it through one hub, yet
    each pair the shingle sets accept is aligned for its verdict, and none is taken for a reprint.
    A plain reprint of one notice still is."""
    rng = random.Random(4)
    issuers = ["Toyota Motor Credit", "Union Bank of Finland", "Kansallis Finance", "Denmark",
               "Norsk Hydro", "Swedish Export Credit", "Rabobank", "Sumitomo Finance", "Electricite de France",
               "Nordic Investment Bank", "Council of Europe", "Asian Development Bank"]  # fmt: skip
    template = (
        "{issuer} is issuing a {amount} billion yen eurobond due {month} {day}, 1992 paying {coupon} pct and "
        "priced at {price} pct, lead manager {lead} International Ltd said. The bond is available in "
        "denominations of one mln yen and will be listed in Luxembourg. Payment date is {month} {day}. "
        "Fees comprise 1-1/4 pct selling concession and 5/8 pct for management and underwriting combined."
    )
    docs = []
    for k, issuer in enumerate(issuers):
        fields = {
            "issuer": issuer,
            "amount": rng.choice([10, 15, 20, 23, 25, 30, 40]),
            "month": rng.choice(["March", "April", "May"]),
            "day": 10 + k,
            "coupon": rng.choice(["4-1/2", "4-3/4", "five", "5-1/8"]),
            "price": rng.choice(["101-1/2", "102-3/8", "101-7/8", "102"]),
            "lead": rng.choice(["Nomura", "LTCB", "Daiwa", "Nikko"]),
        }
        docs.append(Document(f"notice-{k:02d}", template.format(**fields)))
    docs.append(Document("notice-00-reprint", docs[0].text.replace(" said.", " said on Thursday.")))
    result = Detector().run(docs)
    assert clusters_as_sets(result) == {frozenset({"notice-00", "notice-00-reprint"})}


def test_eurobond_notices_of_other_terms_are_not_joined():
    """The 176 eurobond notices of Reuters-21578 share their wording; many of their 5-grams stand
    in more documents than the passage stage pairs directly, so it aligns two notices only where
    they share rarer text. Montedison's and Bacob's notices (the same amount and price, other
    maturities and coupons) passed by containment that way. Every pair the verdicts may accept
    is aligned again on its own: no accepted pair joins notices of other maturity or coupon,
    while notices of the same terms (reissues, corrections) still pair."""
    import reuters

    if not reuters.available():
        pytest.fail(f"Reuters-21578 not found at {reuters.DEFAULT_DIR} (set DEDUPE_REUTERS)")
    terms = re.compile(
        r"due ([A-Z][a-z]+ \d+, \d{4}) (?:paying|with) (?:an? )?(?:indicated )?(?:coupon of )?([\w/-]+) (?:pct|per cent)"
    )
    notices = [
        s
        for s in reuters.stories()
        if "eurobond" in s["text"].lower() and "lead manager" in s["text"].lower()
    ]
    assert len(notices) > 150
    text = {s["id"]: s["text"] for s in notices}
    result = Detector().run([Document(s["id"], s["text"]) for s in notices])
    stated = {i: terms.search(t) for i, t in text.items()}
    compared = [(p, stated[p.a], stated[p.b]) for p in result.pairs if stated[p.a] and stated[p.b]]
    assert len(compared) >= 5  # notices of the same terms pair (7 here)
    assert [(p.a, p.b) for p, ta, tb in compared if ta.groups() != tb.groups()] == []


def test_a_text_printed_twice_still_aligns_with_its_damaged_copy():
    """A pair is aligned again on its own from its anchors (seeds found once in each text); a text
    printed twice has none, so that alignment says nothing of the pair: the stage's shares stand,
    and an OCR-damaged copy of the text is accepted against it as against the text printed once."""
    rng = random.Random(3)
    vocab = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
        for _ in range(400)
    ]
    text = [rng.choice(vocab) for _ in range(250)]
    for k in range(10, 250, 25):
        text[k] = str(1900 + k)
    damaged = [w if k % 4 else w[:-1] + "q" for k, w in enumerate(text)]
    damaged[10] = "1911"  # a figure misread
    once, twice = " ".join(text), " ".join(text) + "\n\n" + " ".join(text)
    for other in (once, twice):
        result = Detector().run([Document("copy", " ".join(damaged)), Document("other", other)])
        assert [p.match for p in result.pairs] == ["aligned"]


def test_each_member_relation_to_its_source_comes_with_its_spans():
    """A member matched to its star's center, not to the source, is aligned with the source when
    it is explained: an edited member lists what changed, and no difference is listed twice."""
    rng = random.Random(12)
    base = article(rng, 260)
    words = base.split()
    docs = [
        Document("source", base),
        Document("copy", " ".join(w if i % 50 else "changed" for i, w in enumerate(words))),
        Document("trim", " ".join(words[:200])),
        Document("trim-of-copy", " ".join((w if i % 50 else "changed") for i, w in enumerate(words[:150]))),
    ]
    result = Detector(Config().replace({"cluster.representative": "longest"})).run(docs)
    for c in result.clusters:
        for s in c.scores:
            assert len(set(s.differences)) == len(s.differences)
            if s.relation == "edited":
                assert s.differences and s.changed_words > 0
            if s.relation == "trimmed":
                assert s.differences and all(k == "dropped" for k, _, _ in s.differences)


def test_fingerprint_progress_counts_against_the_inputs_size():
    """Given the inputs' size (the command line counts it for local, uncompressed inputs), the
    fingerprint stage reports its progress as characters done of it, ending at the total: a bar
    with a time left, not a bare count."""
    ticks = []
    docs = [Document(f"d{k}", article(random.Random(k), 40)) for k in range(50)]
    detector = Detector(Config().replace({"run.batch_size": 10}), progress=lambda *t: ticks.append(t))
    detector.input_bytes = sum(len(d.text) for d in docs) + 500  # JSON around the texts
    detector.run(docs)
    marks = [(done, total) for stage, done, total in ticks if stage == "fingerprint (MB)"]
    assert len(marks) >= 5 and all(t == detector.input_bytes for _, t in marks)
    assert [d for d, _ in marks] == sorted(d for d, _ in marks) and marks[-1][0] == detector.input_bytes


def test_accepted_pairs_are_aligned_again_only_when_they_may_be_templates(monkeypatch):
    """Near-copies of one story (the same figures, or identical sets) need no alignment for their
    verdict: only a pair stating other figures is aligned again (a crowd of near-copies cost
    seconds a thousand pairs before this filter)."""
    from dedupe import pipeline as pipeline_module

    asked = []
    real = pipeline_module.aligned_pairs

    def spy(store, pairs, cfg):
        asked.append(len(pairs))
        return real(store, pairs, cfg)

    monkeypatch.setattr(pipeline_module, "aligned_pairs", spy)
    rng = random.Random(5)
    words = [rng.choice(WORDS) for _ in range(200)]  # no figures but the ones added below
    docs = []
    for k in range(40):
        w = list(words)
        w[rng.randrange(len(w))] = f"edit{chr(97 + k % 26)}{chr(97 + k // 26)}"  # no digit: the same figures
        docs.append(Document(f"copy-{k:02d}", " ".join(w) + " The fund paid 12 cts in 1987."))
    result = Detector().run(docs)
    assert len(result.clusters) == 1 and sum(asked) == 0
