"""Identical copies: the cost of n copies of one text, per stage, as n grows.

    python benchmarks/identical_copies.py [--copies 5000,10000,20000,40000] [--json out.json]

A boilerplate page crawled thousands of times, a wire story with no edit at all: every copy has
the same shingle set, so the identical stage groups them, the LSH and verify stages see one
leader, and the cluster stage builds one cluster of n members. Each stage must cost time linear
in n. For each n the default scan (passages on) runs on n copies of one Reuters-21578 story
(plus as many other stories, so that the corpus is not only the copies), and the benchmark
reports each stage's seconds and the cluster stage's microseconds per copy: flat when linear.

Before the cluster stage read cohesion from signatures in linear time, 5k, 10k and 20k copies
took 1.2, 4.9 and 19.9 s there (pairwise signature agreement over every pair).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import reuters  # noqa: E402

from dedupe import Detector, Document  # noqa: E402
from dedupe.config import Config  # noqa: E402


def run(n: int, stories: list[dict]) -> dict:
    base = max(stories, key=lambda s: len(s["text"]))["text"]
    docs = [Document(f"copy-{k:07d}", base) for k in range(n)]
    docs += [Document(s["id"], s["text"]) for s in stories[:n]]
    t0 = time.perf_counter()
    result = Detector(Config()).run(docs)
    total = time.perf_counter() - t0
    seconds = result.stats["seconds"]
    largest = max((len(c.members) for c in result.clusters), default=0)
    return {
        "copies": n,
        "documents": len(docs),
        "largest_cluster": largest,
        "seconds": round(total, 3),
        "stages": seconds,
        "cluster_us_per_copy": round(1e6 * seconds["cluster"] / n, 2),
        "identical_us_per_copy": round(1e6 * seconds["identical"] / n, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", default="5000,10000,20000,40000")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not reuters.available():
        raise SystemExit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    sizes = [int(x) for x in args.copies.split(",")]
    stories = list(reuters.stories(limit=max(sizes)))
    rows = [run(n, stories) for n in sizes]
    print(
        f"{'copies':>8} {'docs':>8} {'largest':>8} {'total s':>8} {'identical':>10} {'cluster':>8} {'cluster us/copy':>16}"
    )
    for r in rows:
        print(
            f"{r['copies']:>8} {r['documents']:>8} {r['largest_cluster']:>8} {r['seconds']:>8.2f} "
            f"{r['stages']['identical']:>10.3f} {r['stages']['cluster']:>8.3f} {r['cluster_us_per_copy']:>16.1f}"
        )
    first, last = rows[0], rows[-1]
    print(
        f"cluster stage per copy x{last['cluster_us_per_copy'] / max(first['cluster_us_per_copy'], 1e-9):.2f} "
        f"from {first['copies']} to {last['copies']} copies (1.0: linear)"
    )
    out = {"rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
