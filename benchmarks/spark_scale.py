"""The Spark engine at scale, beside the local engine on the same corpus, in one run.

    python benchmarks/spark_scale.py [--docs 100000,1000000] [--partitions 16] [--driver-memory 14g] [--json out.json]

The corpus is speed.py's (3 KB news-like documents of Reuters-21578 sentences, 5% lightly edited
copies), as JSON Lines. For each size, two runs in child processes, on the same two cores:

* ``local``: ``dedupe scan --workers 2`` writing JSON (the local engine's best on two cores);
* ``spark``: ``SparkEngine`` on ``local[2]`` writing Parquet, one JVM (driver and executors).

Both run ``--no-passages``, word 5-grams, 128 permutations. The table gives time, documents/s,
peak RSS (the summed RSS of the process tree: the JVM, Spark's Python workers, the local
engine's pool), sampled from /proc, Spark's
per-stage time beside the local engine's, and Spark's shuffle: bytes written per stage (from
Spark's REST API, by the job description each stage sets) and per document. Correctness travels
with speed: the clusters Spark wrote must equal the local engine's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

OVERRIDES = {"passages.enabled": False, "shingle.size": 5, "minhash.num_perm": 128}


def run_local(corpus: Path, out: Path) -> dict:
    from dedupe.cli import main

    t0 = time.perf_counter()
    args = ["scan", str(corpus), "-f", "json", "-o", str(out), "-q", "--workers", "2", "--no-passages"]
    code = main([*args, "--shingle-size", "5", "--num-perm", "128"])
    seconds = time.perf_counter() - t0
    assert code == 0, code
    data = json.loads(out.read_text())
    return {
        "seconds": seconds,
        "stages": data["stats"]["seconds"],
        "clusters": sorted(c["members"] for c in data["clusters"]),
        "pairs": data["summary"]["pairs"],
    }


def _get(url: str) -> list:
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def shuffle_by_stage(spark) -> dict[str, dict[str, int]]:
    """Bytes Spark's jobs read, shuffled and spilled, summed per dedupe stage (job description)."""
    sc = spark.sparkContext
    base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
    stages = {(s["stageId"], s["attemptId"]): s for s in _get(f"{base}/stages?status=complete")}
    by_id = {}
    for (sid, _), s in stages.items():
        by_id.setdefault(sid, []).append(s)
    out: dict[str, dict[str, int]] = {}
    for job in _get(f"{base}/jobs"):
        name = (job.get("description") or "other").removeprefix("dedupe: ")
        agg = out.setdefault(name, {"shuffle_write": 0, "input": 0, "spill_disk": 0})
        for sid in job["stageIds"]:
            for s in by_id.get(sid, []):
                agg["shuffle_write"] += s.get("shuffleWriteBytes", 0)
                agg["input"] += s.get("inputBytes", 0)
                agg["spill_disk"] += s.get("diskBytesSpilled", 0)
        by_id.update({sid: [] for sid in job["stageIds"]})  # a stage shared by jobs counts once
    return out


def run_spark(corpus: Path, out: Path, partitions: int, memory: str) -> dict:
    import pyarrow.parquet as pq

    from dedupe.config import load_config
    from dedupe.engines.spark import SparkEngine, spark_session

    cfg = load_config(
        None,
        {
            **OVERRIDES,
            "spark.master": "local[2]",
            "spark.partitions": partitions,
            "spark.driver_memory": memory,
        },
    )
    t0 = time.perf_counter()
    spark = spark_session(cfg)
    started = time.perf_counter() - t0
    job = SparkEngine(cfg, spark).scan([str(corpus)])
    t1 = time.perf_counter()
    summary = job.write(str(out), "parquet")
    written = time.perf_counter() - t1
    seconds = time.perf_counter() - t0
    clusters = sorted(r["members"] for r in pq.read_table(out / "clusters", columns=["members"]).to_pylist())
    return {
        "seconds": seconds,
        "start": started,
        "write": written,
        "stages": job.stats["seconds"],
        "shuffle": shuffle_by_stage(spark),
        "clusters": clusters,
        "pairs": summary["summary"]["pairs"],
        "candidates": summary["stats"]["candidate_pairs"],
    }


class TreeRSS:
    """Peak of the summed RSS of this process and all its descendants (the JVM, Spark's Python
    workers, a process pool), sampled from /proc twice a second."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _sample() -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        page = os.sysconf("SC_PAGE_SIZE")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * page
        mine = {os.getpid()}
        changed = True
        while changed:
            changed = False
            for pid, ppid in parents.items():
                if ppid in mine and pid not in mine:
                    mine.add(pid)
                    changed = True
        return sum(rss.get(p, 0) for p in mine)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, self._sample())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def child(args: argparse.Namespace) -> None:
    tree = TreeRSS()
    if args.run == "local":
        res = run_local(Path(args.corpus), Path(args.out))
    else:
        res = run_spark(Path(args.corpus), Path(args.out), args.partitions, args.driver_memory)
    res["peak_rss_mb"] = max(tree.stop(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(res))


def spawn(*argv: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", default="100000,1000000")
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--driver-memory", default="14g")
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dedupe-bench")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args)
        return
    from speed import make_corpus

    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for n in [int(x) for x in args.docs.split(",") if x]:
        corpus = make_corpus(args.workdir / f"news-{n}.jsonl", n)
        mb = corpus.stat().st_size / 1e6
        local = spawn(
            "--run", "local", "--corpus", str(corpus), "--out", str(args.workdir / f"local-{n}.json")
        )
        spark = spawn(
            "--run", "spark", "--corpus", str(corpus), "--out", str(args.workdir / f"spark-{n}"),
            "--partitions", str(args.partitions), "--driver-memory", args.driver_memory,
        )  # fmt: skip
        results.append({"docs": n, "mb": mb, "local": local, "spark": spark})
        report(n, mb, local, spark)
    if args.json:
        for r in results:
            for side in ("local", "spark"):
                r[side].pop("clusters", None)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


def report(n: int, mb: float, local: dict, spark: dict) -> None:
    print(f"\n{n:,} documents, {mb:,.0f} MB of JSON Lines")
    for name, r in (("local --workers 2", local), ("spark local[2]", spark)):
        if "error" in r:
            print(f"  {name:<20} failed: {r['error'][:100]}")
            continue
        rss = r["peak_rss_mb"]
        print(f"  {name:<20} {r['seconds']:8.1f} s {n / r['seconds']:8.0f} docs/s   peak RSS {rss:7.0f} MB")
    if "error" in local or "error" in spark:
        return
    print(
        f"  spark takes {spark['seconds'] / local['seconds']:.2f}x the local engine's time "
        f"(session start {spark['start']:.1f} s, writing Parquet {spark['write']:.1f} s)"
    )
    print("  local stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in local["stages"].items()))
    print("  spark stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in spark["stages"].items()))
    total = sum(s["shuffle_write"] for s in spark["shuffle"].values())
    print(f"  spark shuffle written: {total / 1e6:,.0f} MB, {total / n:,.0f} bytes/document")
    for stage, s in spark["shuffle"].items():
        if s["shuffle_write"] or s["spill_disk"]:
            print(
                f"    {stage:<18} shuffle {s['shuffle_write'] / 1e6:9,.1f} MB ({s['shuffle_write'] / n:7,.0f} B/doc)"
                f"  spilled to disk {s['spill_disk'] / 1e6:8,.1f} MB"
            )
    same = spark["clusters"] == local["clusters"] and spark["pairs"] == local["pairs"]
    print(
        f"  correctness: spark's clusters and pairs {'EQUAL' if same else 'DIFFER FROM'} the local engine's "
        f"({len(local['clusters']):,} clusters, {local['pairs']:,} pairs; {spark['candidates']:,} candidates)"
    )


if __name__ == "__main__":
    main()
