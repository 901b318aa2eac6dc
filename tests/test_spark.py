"""The Spark engine gives the local engine's results: the same documents and skipped records, the
same clusters (ids, members, representatives, member scores, cohesion), the same pairs with the
same scores and, with the passage stage on, the same passage groups (occurrences and offsets),
reuse clusters and verdicts, on seeds/, on 3,000 Reuters-21578 stories and on hostile input; in
local[2]."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pyspark")

from references import UnionFind  # noqa: E402

from dedupe import Detector  # noqa: E402
from dedupe.cli import main  # noqa: E402
from dedupe.config import load_config  # noqa: E402
from dedupe.engines.spark import SparkEngine, connected_components, spark_session  # noqa: E402
from dedupe.sources import read_sources  # noqa: E402

SENTENCE = "the quick brown fox jumps over the lazy dog near the river bank today"
OVERRIDES = {"spark.master": "local[2]", "spark.partitions": 4, "passages.enabled": False}


@pytest.fixture(scope="module")
def spark():
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime (the README's test command installs openjdk-17-jre-headless)")
    session = spark_session(load_config(None, OVERRIDES))
    yield session
    session.stop()


def both(spark, paths: list[str], **overrides) -> tuple[dict, dict]:
    """The spark and local results' JSON for the same paths and config, run-specific stats removed;
    the scan's cached tables are released (a session runs scan after scan)."""
    cfg = load_config(None, {**OVERRIDES, **overrides})
    with SparkEngine(cfg, spark).scan(paths) as scan:
        remote = scan.result().to_dict()
        frames = list(scan.cached)
        assert frames and all(f.is_cached for f in frames)
    assert not any(f.is_cached for f in frames)
    local = Detector(cfg).run(read_sources(paths, cfg.input)).to_dict()
    for data in (remote, local):
        data["stats"] = {k: v for k, v in data["stats"].items() if k not in ("seconds", "engine")}
    return remote, local


def assert_same(remote: dict, local: dict) -> None:
    for key in ("summary", "documents", "skipped", "clusters", "pairs", "passages", "reuse_clusters"):
        assert remote[key] == local[key], key
    for key in ("stats", "params"):
        assert remote[key] == local[key], key


@pytest.fixture(scope="module")
def reuters_jsonl(tmp_path_factory, reuters_stories):
    path = tmp_path_factory.mktemp("reuters") / "reuters.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for story in reuters_stories:
            fh.write(json.dumps(story) + "\n")
    return path


def test_passages_and_verdicts_equal_local(spark, reuters_jsonl, seeds_dir):
    """With the passage stage on (the default), the same passage groups, reuse clusters, verdicts
    from aligned passages and explained clusters as the local engine."""
    remote, local = both(spark, [str(seeds_dir)], **{"passages.enabled": True})
    assert_same(remote, local)
    assert remote["summary"]["passage_groups"] >= 1 and remote["reuse_clusters"]
    remote, local = both(spark, [str(reuters_jsonl)], **{"passages.enabled": True})
    assert_same(remote, local)
    assert len(remote["passages"]) > 500 and remote["stats"]["accepted_aligned"] > 0
    assert any(g["category"] == "template" for g in remote["passages"])


def test_reuters_equal_local(spark, reuters_jsonl):
    # passages off: every stage on the cluster, containment candidates included; earliest: the
    # representative rule that reads dates; a low bucket cap: oversized buckets too
    remote, local = both(
        spark, [str(reuters_jsonl)], **{"cluster.representative": "earliest", "lsh.max_bucket_size": 6}
    )
    assert_same(remote, local)
    assert len(remote["clusters"]) > 100 and remote["stats"]["oversized_buckets"] > 0
    assert remote["stats"]["identical_groups"] > 0 and remote["stats"]["rejected_pairs"] > 0
    assert remote["stats"]["containment_candidate_pairs"] > 0  # texts of skewed sizes, by shared values


def _hostile_inputs(tmp_path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path / "texts"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text(SENTENCE + " and then some more words follow here", encoding="utf-8")
    (d / "sub" / "b.TXT").write_text(SENTENCE + " and then some more words follow", encoding="utf-8")
    (d / "c.md").write_bytes(b"\xef\xbb\xbf" + SENTENCE.encode())
    (d / "bad_utf8.txt").write_bytes(b"caf\xe9 " + SENTENCE.encode())
    (d / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (d / "empty.txt").write_bytes(b"")
    (d / "short.txt").write_bytes(b"two words")
    (d / "ignored.dat").write_text("not read: neither a record format nor in input.extensions")
    j = tmp_path / "d.jsonl"
    lines = [
        json.dumps({"id": "ok", "text": SENTENCE, "date": "1987-03-01"}),
        "{broken json",
        "",
        json.dumps({"id": "notext"}),
        json.dumps({"id": "num", "text": 42}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": SENTENCE + " again"}),
        json.dumps({"id": "ok", "text": "duplicate id " + SENTENCE}),
        json.dumps({"id": 7, "text": "   "}),
        json.dumps({"id": "blank-then-good", "text": ""}),
        json.dumps({"id": "blank-then-good", "text": SENTENCE + " later"}),
        json.dumps({"id": "copy", "text": SENTENCE, "date": "1987-02-01"}),
    ]
    j.write_bytes(("\n".join(lines) + "\r\n").encode())
    p = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["p1", None, "ok"],
                "text": [SENTENCE + " from parquet", SENTENCE + " no id", SENTENCE],
            }
        ),
        p,
    )
    nocol = tmp_path / "nocol.parquet"
    pq.write_table(pa.table({"body": ["x"]}), nocol)
    return [str(d), str(j), str(p), str(nocol)]


@pytest.fixture(scope="module")
def hostile(spark, tmp_path_factory):
    """One spark scan of the hostile inputs, and the local result's JSON for them."""
    paths = _hostile_inputs(tmp_path_factory.mktemp("hostile"))
    cfg = load_config(None, {**OVERRIDES, "cluster.representative": "earliest"})
    local = Detector(cfg).run(read_sources(paths, cfg.input)).to_dict()
    with SparkEngine(cfg, spark).scan(paths) as job:
        yield job, local


def test_hostile_inputs_equal_local(hostile):
    job, local = hostile
    remote = job.result().to_dict()
    remote["stats"] = {k: v for k, v in remote["stats"].items() if k not in ("seconds", "engine")}
    local["stats"] = {k: v for k, v in local["stats"].items() if k != "seconds"}
    assert_same(remote, local)
    reasons = {s["reason"].split(" (")[0].split(":")[0] for s in remote["skipped"]}
    assert {"binary file", "empty document", "malformed JSON on line 2", "duplicate id"} <= reasons
    assert remote["clusters"] and remote["summary"]["documents_read"] == 22


def test_write_jsonl_and_parquet_hold_the_local_records(hostile, tmp_path):
    import pyarrow.parquet as pq

    job, local = hostile
    out = tmp_path / "out"
    summary = job.write(str(out), "jsonl")
    assert summary["summary"] == local["summary"]
    assert json.loads((out / "summary.json").read_text())["summary"] == local["summary"]
    for name in ("documents", "skipped", "clusters", "pairs"):
        rows = [json.loads(line) for f in sorted((out / name).glob("part-*.json")) for line in f.open()]
        assert rows == local[name], name
    pq_out = tmp_path / "pq"
    job.write(str(pq_out), "parquet")
    clusters = pq.read_table(pq_out / "clusters").to_pylist()
    assert clusters == local["clusters"]
    # a directory that is not an earlier output is never overwritten
    other = tmp_path / "precious"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(Exception, match="not an earlier dedupe output"):
        job.write(str(other), "jsonl")
    assert (other / "keep.txt").read_text() == "mine"


def test_connected_components_match_union_find(spark):
    rng = random.Random(7)
    n = 400
    edges = [(f"n{i:04d}", f"n{i + 1:04d}") for i in range(0, 120)]  # a long chain
    edges += [(f"n{200:04d}", f"n{k:04d}") for k in range(201, 260)]  # a star
    edges += [(f"n{rng.randrange(260, n):04d}", f"n{rng.randrange(260, n):04d}") for _ in range(150)]
    edges = [(a, b) for a, b in edges if a != b]
    df = spark.createDataFrame(edges, "a string, b string")
    got = {r["id"]: r["comp"] for r in connected_components(df).collect()}
    names = sorted({x for e in edges for x in e})
    index = {x: i for i, x in enumerate(names)}
    uf = UnionFind(len(names))
    for a, b in edges:
        uf.union(index[a], index[b])
    want = {}
    for comp in uf.components():
        for m in comp:
            want[names[m]] = names[min(comp)]
    assert got == want


def test_cli_spark_scan_of_seeds_writes_the_local_records(spark, tmp_path, seeds_dir, capsys):
    out = tmp_path / "out"
    code = main(["scan", "--engine", "spark", str(seeds_dir), "-o", str(out), "-f", "jsonl"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "5 documents read" in err and "4 shared passages" in err and "reuse_clusters)" in err
    cfg = load_config(None)
    local = Detector(cfg).run(read_sources([str(seeds_dir)], cfg.input)).to_dict()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"] == local["summary"] and summary["summary"]["passage_groups"] == 4
    for name in ("documents", "skipped", "clusters", "pairs", "passages", "reuse_clusters"):
        rows = [json.loads(line) for f in sorted((out / name).glob("part-*.json")) for line in f.open()]
        assert rows == local[name], name
    # a glob is expanded through Hadoop's file system; the result is collected for -f json
    assert main(["scan", "--engine", "spark", f"{seeds_dir}/00[0-2]*.txt", "-f", "json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["documents"] == 3 and all(d["id"].startswith("file:") for d in data["documents"])
    assert main(["scan", "--engine", "spark", str(seeds_dir), "-f", "parquet", "-q"]) == 2
    assert "give --output DIR" in capsys.readouterr().err
    assert main(["scan", "--engine", "spark", str(tmp_path / "missing"), "-q"]) == 3
    assert "path not found" in capsys.readouterr().err
    shards = tmp_path / "shards"  # shards are read record by record, as locally (never as texts)
    shards.mkdir()
    (shards / "a.jsonl").write_text(json.dumps({"id": "a", "text": SENTENCE}) + "\n")
    ext = _jsonl_as_text(tmp_path)
    assert main(["scan", "--engine", "spark", str(shards), "-q", "-f", "json", "--config", str(ext)]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)["documents"]] == ["a"]
    assert main(["scan", str(seeds_dir), "-f", "parquet", "-q"]) == 2
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "empty.txt").write_bytes(b"")
    assert main(["scan", "--engine", "spark", str(nothing), "-q"]) == 4
    assert "no documents to process (1 inputs skipped, first: " in capsys.readouterr().err


def _jsonl_as_text(tmp_path: Path) -> Path:
    path = tmp_path / "ext.yaml"
    path.write_text("input:\n  extensions: [.txt, .jsonl]\n")
    return path


def test_compressed_files_and_shard_directories_equal_local(spark, tmp_path, reuters_stories):
    """JSON Lines compressed four ways (gzip, bzip2, xz, zstd: known by their bytes) and a directory
    of shards (JSON Lines plain and compressed, Parquet, texts plain and compressed) give the local
    engine's documents, skipped records, clusters and pairs."""
    import bz2
    import gzip
    import lzma

    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    def jsonl(prefix: str) -> str:
        out = "".join(json.dumps({**s, "id": prefix + s["id"]}) + "\n" for s in reuters_stories[:300])
        return out + json.dumps({"text": reuters_stories[0]["text"]}) + "\n{broken\n"  # no id; malformed

    lines = jsonl("")
    packers = {
        "gz": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
        "zst": lambda b: zstandard.ZstdCompressor().compress(b),
    }
    paths = []
    for ext, pack in packers.items():  # one scan of the four, each file's ids its own
        path = tmp_path / f"r.jsonl.{ext}"
        path.write_bytes(pack(jsonl(f"{ext}-").encode()))
        paths.append(str(path))
    remote, local = both(spark, paths)
    assert_same(remote, local)
    ids = {d["id"] for d in remote["documents"]}
    for ext in packers:  # every file read whole, its malformed line and id-less record included
        assert sum(i.startswith(f"{ext}-") for i in ids) == 300, ext
        assert f"r.jsonl.{ext}:301" in ids
        assert any(s["source"].endswith(f"r.jsonl.{ext}:302") for s in remote["skipped"]), ext
    assert remote["clusters"]
    root = tmp_path / "dump"
    (root / "2024").mkdir(parents=True)
    (root / "a.jsonl").write_text("".join(json.dumps(s) + "\n" for s in reuters_stories[300:500]))
    (root / "2024" / "b.jsonl.zst").write_bytes(packers["zst"](lines.encode()))
    stories = reuters_stories[500:600]
    pq.write_table(pa.table({"text": [s["text"] for s in stories]}), root / "2024" / "c.parquet")
    (root / "d.txt").write_text(reuters_stories[1]["text"])
    (root / "e.txt.gz").write_bytes(gzip.compress(reuters_stories[2]["text"].encode()))
    remote, local = both(spark, [str(root)])
    assert_same(remote, local)
    ids = {d["id"] for d in remote["documents"]}
    assert {"d.txt", "e.txt.gz", "2024/c.parquet:1", "2024/b.jsonl.zst:301"} <= ids
