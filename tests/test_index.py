"""The persistent index: same matches as one scan, parameters enforced, crash-safe batches,
readers beside a writer, schema versions."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pipeline import WORDS, article

from dedupe import Config, Detector, Document
from dedupe.cli import main
from dedupe.errors import ConfigError, IndexStoreError, InputError
from dedupe.index import Index
from dedupe.index import sqlite as index_sqlite

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_docs() -> list[Document]:
    return [Document(p.name, p.read_text(encoding="utf-8"), str(p)) for p in sorted(SEEDS.glob("*.txt"))]


def identical_classes(docs: list[Document], config: Config) -> dict[str, frozenset[str]]:
    """id -> the ids whose shingle sets equal its own (scan lists pairs through one of them)."""
    fp = Detector(config).fingerprint(docs)
    by_set: dict[bytes, set[str]] = {}
    for doc_id, s in zip(fp.ids, fp.sets):
        if len(s):
            by_set.setdefault(s.tobytes(), set()).add(doc_id)
    return {i: frozenset(group) for group in by_set.values() for i in group}


def scan_pairs_with(docs: list[Document], new: set[str], config: Config) -> dict[tuple[str, str], object]:
    """Accepted pairs of one scan of all ``docs`` that hold a new document, with each pair scan made
    through an identical copy extended to every copy (identical sets have identical scores)."""
    result = Detector(config).run(docs)
    same = identical_classes(docs, config)
    out = {}
    for p in result.pairs:
        for a in same.get(p.a, {p.a}):
            for b in same.get(p.b, {p.b}):
                if a != b and (a in new or b in new):
                    key = (min(a, b), max(a, b))
                    if p.match == "identical" or key not in out:
                        out[key] = p.match
    return out


def corpus(rng: random.Random, n: int) -> list[Document]:
    """Articles with copies: exact, trimmed and edited, spread over the list."""
    docs: list[Document] = []
    for k in range(n):
        roll = rng.random()
        if docs and roll < 0.2:
            words = rng.choice(docs).text.split()
            text = " ".join(words[: max(3, int(len(words) * rng.uniform(0.4, 1.0)))])
        elif docs and roll < 0.35:
            words = rng.choice(docs).text.split()
            text = " ".join(w if rng.random() > 0.08 else rng.choice(WORDS) for w in words)
        elif docs and roll < 0.4:
            text = rng.choice(docs).text
        else:
            text = article(rng, rng.randrange(10, 160))
        docs.append(Document(f"d{k:03d}", text, f"gen {k}"))
    return docs


def test_query_finds_what_a_scan_of_everything_finds(tmp_path):
    rng = random.Random(7)
    docs = corpus(rng, 120)
    rng.shuffle(docs)
    old, new = docs[:90], docs[90:]
    config = Config()
    with Index.open(tmp_path / "ix.db", create=True) as ix:
        ix.add(old[:40])
        ix.add(old[40:])
        result = ix.query(new)
    expected = scan_pairs_with(docs, {d.id for d in new}, config)
    got = {(p.a, p.b): p.match for p in result.pairs}
    assert got.keys() == expected.keys()
    assert expected  # the corpus has copies across the two halves
    full = {(p.a, p.b): p for p in Detector(config).run(docs).pairs}
    for key, p in ((k, p) for p in result.pairs if (k := (p.a, p.b)) in full):
        assert p == full[key]  # the very same scores
    assert [d.id for d in result.documents] == sorted(d.id for d in new)
    assert result.documents_read == len(new)


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(20, 60))
def test_batches_then_query_equals_one_scan(tmp_path_factory, seed, batches, n):
    """Property: adding in any number of batches, then querying, gives the pairs of one scan: all
    of them by the shingle sets' rules (passages off); with passages on, a query's pairs are a
    scan's (a pair a scan accepts on passage evidence alone may be missed when the query does not
    load the documents its alignment runs through: a known gap)."""
    rng = random.Random(seed)
    docs = corpus(rng, n)
    rng.shuffle(docs)
    cut = int(n * 0.7)
    old, new = docs[:cut], docs[cut:]
    for passages in (False, True):
        path = tmp_path_factory.mktemp("ix") / "ix.db"
        # passages off, the index pairs through bands alone: a scan without containment candidates
        config = Config().replace({"passages.enabled": passages, "lsh.containment_candidates": passages})
        with Index.open(path, {"passages.enabled": passages}, create=True) as ix:
            size = max(1, len(old) // batches)
            for k in range(0, len(old), size):
                ix.add(old[k : k + size])
            result = ix.query(new)
            assert ix.check() == []
        assert result.params["lsh"]["containment_candidates"] is passages
        with Index.open(path) as ix:  # what it stored, as it reports it
            assert ix.stats()["params"]["lsh"]["containment_candidates"] is passages
        expected = scan_pairs_with(docs, {d.id for d in new}, config)
        got = {(p.a, p.b): p.match for p in result.pairs}
        if passages:
            assert got.keys() <= expected.keys()
        else:
            assert got.keys() == expected.keys()


def test_shared_quotation_found_in_the_index():
    docs = seed_docs()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, Index.open(Path(tmp) / "ix.db", create=True) as ix:
        ix.add(docs[:4])
        texts: dict[str, str] = {}
        result = ix.query(docs[4:], texts=texts)
    quote = next(g for g in result.passages if "extremely productive call" in g.text)
    # the three indexed articles that print the quotation at length; 000 quotes four words of it,
    # which scan folds into this group through 000's alignments with the other indexed articles,
    # and a query (new document against the rest) reports as its own group with the new article
    assert {o.doc for o in quote.occurrences} == {d.id for d in docs[1:]}
    fragment = next(g for g in result.passages if g.text == "agree on many things")
    assert {o.doc for o in fragment.occurrences} == {docs[0].id, docs[4].id}
    for g in (quote, fragment):
        for o in g.occurrences:
            assert texts[o.doc][o.start : o.end] == o.text  # offsets into the original texts
    new = next(o for o in quote.occurrences if o.doc == docs[4].id)
    assert (new.start, new.end) == (1085, 1276)  # as scan reports it
    # passages come only from pairs holding the new document
    assert all(any(o.doc == docs[4].id for o in g.occurrences) for g in result.passages)


def test_query_add_then_within_batch_duplicates(tmp_path):
    rng = random.Random(3)
    a = article(rng, 200)
    path = tmp_path / "ix.db"
    with Index.open(path, create=True) as ix:
        ix.add([Document("old", a)])
        r = ix.query([Document("new1", a + " and one more line"), Document("new2", a)], add=True)
        assert {(p.a, p.b) for p in r.pairs} == {("new1", "new2"), ("new1", "old"), ("new2", "old")}
        assert r.stats["index"]["added"] == 2
        assert ix.store.count() == 3
        again = ix.add([Document("old", "other text entirely, nothing alike here")])
        assert again.added == 0 and again.skipped[0].reason == "id already in the index"


def test_fingerprint_parameters_are_enforced(tmp_path):
    path = tmp_path / "ix.db"
    Index.open(path, {"shingle.size": 4}, create=True).close()
    with pytest.raises(ConfigError, match=r"shingle.size is 4 in the index, 5 here"):
        Index.open(path, {"shingle.size": 5})
    with pytest.raises(ConfigError, match=r"lsh bands x rows"):
        Index.open(path, {"lsh.threshold": 0.8})
    with pytest.raises(ConfigError, match=r"minhash.seed"):
        Index.open(path, {"minhash.seed": 2})
    # thresholds are query-time settings; the index's own fingerprint values are kept
    with Index.open(path, {"verify.jaccard_threshold": 0.9, "shingle.size": 4}) as ix:
        assert ix.config.verify.jaccard_threshold == 0.9 and ix.config.shingle.size == 4


def test_remove_and_check(tmp_path):
    rng = random.Random(5)
    text = article(rng, 150)
    with Index.open(tmp_path / "ix.db", create=True) as ix:
        ix.add([Document("a", text), Document("b", article(rng, 150))])
        assert ix.query([Document("q", text)]).pairs
        removed, missing = ix.remove(["a", "zz"])
        assert removed == ["a"] and missing == ["zz"]
        assert ix.check() == []
        assert not ix.query([Document("q", text)]).pairs
        stats = ix.stats()
        assert stats["documents"] == 1 and stats["band_rows"] == ix.detector.bands


def test_schema_versions_and_foreign_files(tmp_path):
    path = tmp_path / "ix.db"
    Index.open(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {index_sqlite.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(IndexStoreError, match="newer dedupe"):
        Index.open(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    with pytest.raises(IndexStoreError, match="no migration from version 0"):
        Index.open(path, write=True)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(IndexStoreError, match="not a dedupe index"):
        Index.open(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(IndexStoreError, match="not a dedupe index"):
        Index.open(junk)
    with pytest.raises(InputError, match="no index at"):
        Index.open(tmp_path / "missing.db")


def test_migration_path_upgrades_an_older_schema(tmp_path, monkeypatch):
    """An index one version behind is upgraded in the writer's transaction, and refused to readers."""
    path = tmp_path / "ix.db"
    Index.open(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {index_sqlite.SCHEMA_VERSION - 1}")
    conn.close()
    ran = []
    monkeypatch.setitem(index_sqlite.MIGRATIONS, index_sqlite.SCHEMA_VERSION - 1, lambda c: ran.append(c))
    with pytest.raises(IndexStoreError, match="older than"):
        Index.open(path)
    Index.open(path, write=True).close()
    assert len(ran) == 1
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == index_sqlite.SCHEMA_VERSION


def _hubs(path: Path) -> dict[int, str]:
    """Seed hash -> the id of its hub, as the hubs table holds it."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT h.hash, d.id FROM hubs h JOIN documents d ON d.doc = h.doc").fetchall()
    conn.close()
    return dict(rows)


def _first_holders(path: Path) -> dict[int, tuple[str, int]]:
    """Seed hash -> the smallest id among the documents holding it, and how many hold it, from
    the seeds themselves."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT DISTINCT s.hash, d.id FROM seeds s JOIN documents d ON d.doc = s.doc"
    ).fetchall()
    conn.close()
    first: dict[int, tuple[str, int]] = {}
    for h, doc_id in rows:
        low, n = first.get(h, (doc_id, 0))
        first[h] = (min(low, doc_id), n + 1)
    return first


def _hubs_are_right(path: Path) -> None:
    """Every seed held by two documents or more has its row, naming its first holder; a row
    left for a seed now held by one names that one."""
    hubs, first = _hubs(path), _first_holders(path)
    assert {h for h, (_, n) in first.items() if n >= 2} <= hubs.keys()
    assert all(first[h][0] == doc_id for h, doc_id in hubs.items())


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_seed_hubs_follow_adds_and_removes(tmp_path_factory, seed, batches):
    """Property: whatever order ids arrive in and whatever is removed, each seed's hub is the
    holder with the smallest id (what a scan pairs a frequent seed's holders with), kept by add and
    remove, so a query finds it in one look-up; `check` compares the table with the seeds."""
    rng = random.Random(seed)
    base = [article(rng, 80) for _ in range(4)]
    # documents sharing text (so seeds with many holders), with ids in no particular order
    docs = [
        Document(f"d{rng.randrange(10**6):06d}-{k}", base[k % 4] + " " + article(rng, 20)) for k in range(24)
    ]
    path = tmp_path_factory.mktemp("hubs") / "ix.db"
    with Index.open(path, create=True) as ix:
        size = max(1, len(docs) // batches)
        for k in range(0, len(docs), size):
            ix.add(docs[k : k + size])
        _hubs_are_right(path)
        assert ix.check() == []
        gone = rng.sample([d.id for d in docs], 8)
        ix.remove(gone)
        assert ix.check() == []
        _hubs_are_right(path)
        first = _first_holders(path)
        for h in list(first)[:: max(1, len(first) // 40)]:  # shared seeds and seeds of one document
            assert ix.store.seed_hub(h)[1] == first[h][0]
        # the check sees a wrong row
        conn = sqlite3.connect(path)
        h = next(iter(_hubs(path)))
        conn.execute("UPDATE hubs SET doc = (SELECT max(doc) FROM documents) + 1 WHERE hash = ?", (h,))
        conn.commit()
        conn.close()
        assert any("seed hubs out of date" in p for p in ix.check())


def test_version_1_index_gains_its_hubs_on_upgrade(tmp_path):
    """A version-1 index (no hubs table) is refused to readers, and upgraded by a writer: the
    hubs table is filled from the seeds, and queries give what they gave before."""
    path = tmp_path / "ix.db"
    docs = seed_docs()
    with Index.open(path, create=True) as ix:
        ix.add(docs[:4])
        before = ix.query(docs[4:]).to_dict()
    expected = _hubs(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE hubs")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with pytest.raises(IndexStoreError, match="older than"):
        Index.open(path)
    with Index.open(path, write=True) as ix:
        assert ix.check() == []
        after = ix.query(docs[4:]).to_dict()
    assert _hubs(path) == expected and len(expected) > 20  # the seeds four articles share
    for result in (before, after):
        result["stats"].pop("seconds", None)
    assert after == before


def test_a_second_writer_finds_the_index_upgraded_already(tmp_path):
    """Two writers open a version-1 index at once: both read version 1, one upgrades it while the
    other waits for the write lock; the other then finds version 2 and takes no step again (it
    failed with "table hubs already exists", which reads like a damaged index)."""
    path = tmp_path / "ix.db"
    with Index.open(path, create=True) as ix:
        ix.add(seed_docs()[:2])
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE hubs")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    late = index_sqlite.SQLiteStore._connect(path)
    seen = late.execute("PRAGMA user_version").fetchone()[0]  # what open() read, before the lock
    index_sqlite.SQLiteStore.open(path, write=True).close()  # the first writer upgrades
    store = index_sqlite.SQLiteStore(path, late)
    store.upgrade(seen, True)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == index_sqlite.SCHEMA_VERSION
    store.close()
    with Index.open(path) as ix:
        assert ix.check() == []


def _write_jsonl(path: Path, n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    ids = []
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(n):
            ids.append(f"doc-{k:05d}")
            fh.write(json.dumps({"id": ids[-1], "text": article(rng, 120)}) + "\n")
    return ids


def _dedupe(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from dedupe.cli import main; sys.exit(main())", *args]


def test_kill_9_during_add_leaves_the_committed_batches(tmp_path):
    """kill -9 at random moments of `index add`: the index opens, passes its check, and holds
    exactly the batches committed, each whole; adding again completes it."""
    source = tmp_path / "docs.jsonl"
    ids = _write_jsonl(source, 3000)
    cfg = tmp_path / "small.yaml"
    cfg.write_text("run:\n  batch_size: 50\n")
    path = tmp_path / "ix.db"
    Index.open(path, create=True).close()
    rng = random.Random(1)
    command = _dedupe("index", "add", str(path), str(source), "-c", str(cfg), "-q")

    def count() -> int:
        with sqlite3.connect(path, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    killed, seen = 0, [0]
    for attempt in range(5):
        proc = subprocess.Popen(command)
        if attempt < 4:
            # once this run has committed a batch, kill it at a random moment of the next ones
            deadline = time.monotonic() + 60
            while proc.poll() is None and count() <= seen[-1] and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.4))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
        proc.wait()
        with Index.open(path) as ix:
            assert ix.check() == []
            held = [r[0] for r in ix.store.conn.execute("SELECT id FROM documents ORDER BY id")]
            batches = ix.store.conn.execute("SELECT batch, documents FROM batches ORDER BY batch").fetchall()
        # each run adds the next whole batches of 50, in input order, after what was there
        assert len(held) == sum(n for _, n in batches)
        assert held == ids[: len(held)]
        assert all(n == 50 for _, n in batches)
        assert len(held) > seen[-1]
        seen.append(len(held))
    assert killed == 4
    assert seen[-1] == len(ids)  # the last run, not killed, completed the index


def test_readers_query_while_a_writer_adds(tmp_path):
    source = tmp_path / "docs.jsonl"
    _write_jsonl(source, 3000, seed=2)
    probe = tmp_path / "probe.jsonl"
    rng = random.Random(2)
    first = json.loads(source.read_text().splitlines()[0])
    probe.write_text(json.dumps({"id": "probe", "text": first["text"]}) + "\n")
    cfg = tmp_path / "small.yaml"
    cfg.write_text("run:\n  batch_size: 100\n")
    path = tmp_path / "ix.db"
    Index.open(path, create=True).close()
    writer = subprocess.Popen(_dedupe("index", "add", str(path), str(source), "-c", str(cfg), "-q"))
    counts, queries = [], 0
    try:
        while writer.poll() is None or queries < 3:
            with Index.open(path) as ix:
                counts.append(ix.store.count())
                result = ix.query([Document("probe", first["text"])])
                if counts[-1]:
                    assert [(p.a, p.b) for p in result.pairs] == [(first["id"], "probe")]
            queries += 1
            time.sleep(rng.uniform(0, 0.05))
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    assert counts == sorted(counts) and all(c % 100 == 0 for c in counts)
    assert len(set(counts)) >= 3  # the reader saw the index grow while it was written
    assert counts[-1] == 3000


def test_cli_index_commands(tmp_path, capsys):
    path = str(tmp_path / "ix.db")
    seeds = sorted(str(p) for p in SEEDS.glob("*.txt"))
    assert main(["index", "add", path, *seeds[:4], "-q"]) == 0
    assert main(["index", "add", path, *seeds[:1]]) == 0
    assert "id already in the index" in capsys.readouterr().err
    assert main(["index", "query", path, seeds[4], "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema_version"] and out["summary"]["documents"] == 1
    assert out["stats"]["index"]["documents"] == 4
    assert any("extremely productive call" in g["text"] for g in out["passages"])
    assert main(["index", "query", path, seeds[4], "--add", "-q", "-f", "jsonl"]) == 0
    capsys.readouterr()
    assert main(["index", "stats", path, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 5 and stats["schema_version"] == index_sqlite.SCHEMA_VERSION
    assert main(["index", "stats", path]) == 0
    assert "5 in 2 batches" in capsys.readouterr().out
    assert main(["index", "check", path]) == 0
    assert main(["index", "remove", path, seeds[0], "nope"]) == 3
    err = capsys.readouterr().err
    assert "removed 1 documents" in err and "not in the index: nope" in err
    five = tmp_path / "five.yaml"
    five.write_text("shingle:\n  size: 5\n")
    assert main(["index", "query", path, seeds[4], "-c", str(five)]) == 2
    assert "shingle.size is 3 in the index, 5 here" in capsys.readouterr().err
    assert main(["index", "stats", str(tmp_path / "none.db")]) == 3
    assert main(["index", "add", str(tmp_path / "new.db"), str(tmp_path / "missing.txt")]) == 3
    assert not (tmp_path / "new.db").exists()  # a bad path makes no index
    assert main(["index", "query", path, str(tmp_path / "missing.txt")]) == 3
    junk = tmp_path / "junk.db"
    junk.write_text("not a database" * 200)
    capsys.readouterr()
    assert main(["index", "check", str(junk)]) == 5
    assert capsys.readouterr().err.count("\n") == 1  # one line, no traceback


def test_two_writers_at_once_both_succeed_and_lose_nothing(tmp_path):
    """Two processes adding to the same new index at once, with overlapping ids: both succeed, each
    id is stored once, and each run accounts for every record (added, or skipped as held)."""
    child = (
        "import json, sys\n"
        "from dedupe.config import InputConfig\n"
        "from dedupe.index import Index\n"
        "from dedupe.sources import read_sources\n"
        "with Index.open(sys.argv[1], {'run.batch_size': 50}, create=True, write=True) as idx:\n"
        "    r = idx.add(read_sources([sys.argv[2]], InputConfig()))\n"
        "print(json.dumps({'read': r.documents_read, 'added': r.added, 'skipped': [s.reason for s in r.skipped]}))\n"
    )

    def corpus(name: str, ids: range) -> Path:
        path = tmp_path / name
        path.write_text(
            "".join(
                json.dumps({"id": f"d{k}", "text": f"story {k} " + "word " * (k % 7 + 8)}) + "\n" for k in ids
            )
        )
        return path

    index = tmp_path / "shared.db"
    paths = (corpus("a.jsonl", range(0, 600)), corpus("b.jsonl", range(300, 900)))
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", child, str(index), str(p)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in paths
    ]
    reports = []
    for proc in runs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    for report in reports:
        assert report["read"] == report["added"] + len(report["skipped"]) == 600
        assert set(report["skipped"]) <= {"id already in the index"}
    assert sum(r["added"] for r in reports) == 900
    with Index.open(index) as idx:
        assert idx.store.count() == 900


def test_creating_an_index_never_follows_a_planted_symlink(tmp_path):
    """The temporary file an index is built in has an unpredictable name, opened exclusively: a
    symlink planted at the old predictable name (.NAME.PID.new) is neither followed nor removed."""
    victim = tmp_path / "victim.db"
    sqlite3.connect(victim).execute("CREATE TABLE mine (x)").connection.close()
    before = victim.read_bytes()
    index = tmp_path / "idx.db"
    planted = tmp_path / f".idx.db.{os.getpid()}.new"
    planted.symlink_to(victim)
    with Index.open(index, create=True, write=True) as idx:
        idx.add(seed_docs())
    assert victim.read_bytes() == before and planted.is_symlink()
    assert index.is_file() and not index.is_symlink()


def test_ids_that_are_not_utf8_are_stored_queried_and_removed(tmp_path):
    """A file name that is not UTF-8 (read as 'caf\\udce9.txt') and a JSON id holding a lone
    surrogate cannot be SQLite strings: they are kept as bytes and read back unchanged."""
    odd = ["caf\udce9.txt", "a\ud800b"]
    docs = [
        Document(i, f"{SEEDS.name} " + article(random.Random(k), 60), source=i) for k, i in enumerate(odd)
    ]
    index = tmp_path / "odd.db"
    with Index.open(index, create=True, write=True) as idx:
        report = idx.add(docs)
        assert report.added == 2 and not report.skipped
        assert idx.store.existing_ids(odd) == set(odd)
        assert idx.check() == []  # their seeds' hubs too, ordered as SQLite orders bytes and text
        result = idx.query([Document("probe", docs[0].text)])
        assert {p.b for p in result.pairs} | {p.a for p in result.pairs} >= {"caf\udce9.txt"}
        removed, missing = idx.remove(odd)
        assert removed == odd and not missing and idx.store.count() == 0
