"""Copies of one text: the cost of n copies, identical or each lightly edited, per stage, as n grows.

    python benchmarks/identical_copies.py [--copies 5000,10000,20000,40000] [--near 1000,2000,4000,8000]
                                          [--json out.json]

A boilerplate page crawled thousands of times, a wire story printed by every paper: the copies
of one text. Every stage must cost time linear in n, so each reports microseconds per copy: flat
when linear. For each n the default scan (passages on) runs on n copies of one Reuters-21578
story (plus as many other stories, so that the corpus is not only the copies).

* ``--copies``: identical copies. They share one shingle set, so the identical stage groups them,
  LSH and verify see one leader, and the cluster stage builds one cluster of n members.
* ``--near``: near copies, each with two of its words replaced at random (as a copy desk or an
  OCR pass would). No two share a set: every copy goes through LSH buckets (stars past
  ``lsh.max_bucket_size``), verification, the passage stage's seeds and alignments, the evidence
  step (which aligns accepted pairs that may be templates) and the cluster stage.

Before the cluster stage read cohesion from signatures in linear time, 5k, 10k and 20k identical
copies took 1.2, 4.9 and 19.9 s there; before the evidence step aligned only pairs that may be
templates, 1,000 and 4,000 near copies took 39.9 and 203 s in it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import reuters  # noqa: E402

from dedupe import Detector, Document  # noqa: E402
from dedupe.config import Config  # noqa: E402

FILLER = "however reportedly meanwhile officials analysts separately also further".split()


def run(n: int, stories: list[dict], near: bool = False) -> dict:
    base = max(stories, key=lambda s: len(s["text"]))["text"]
    rng = random.Random(n)
    words = base.split(" ")

    def copy() -> str:
        if not near:
            return base
        edited = list(words)
        for _ in range(2):
            edited[rng.randrange(len(edited))] = rng.choice(FILLER)
        return " ".join(edited)

    docs = [Document(f"copy-{k:07d}", copy()) for k in range(n)]
    docs += [Document(s["id"], s["text"]) for s in stories[:n]]
    t0 = time.perf_counter()
    result = Detector(Config()).run(docs)
    total = time.perf_counter() - t0
    seconds = result.stats["seconds"]
    largest = max((len(c.members) for c in result.clusters), default=0)
    return {
        "kind": "near" if near else "identical",
        "copies": n,
        "documents": len(docs),
        "largest_cluster": largest,
        "seconds": round(total, 3),
        "stages": seconds,
        "us_per_copy": {stage: round(1e6 * t / n, 1) for stage, t in seconds.items()},
        # kept for comparison with earlier results files
        "cluster_us_per_copy": round(1e6 * seconds["cluster"] / n, 2),
        "identical_us_per_copy": round(1e6 * seconds["identical"] / n, 2),
    }


def report(rows: list[dict]) -> None:
    stages = ["lsh", "verify", "passages", "evidence", "cluster"]
    print(
        f"{'kind':>9} {'copies':>7} {'docs':>7} {'largest':>7} {'total s':>8}  us per copy: "
        + " ".join(f"{s:>9}" for s in stages)
    )
    for r in rows:
        per = r["us_per_copy"]
        print(
            f"{r['kind']:>9} {r['copies']:>7} {r['documents']:>7} {r['largest_cluster']:>7} {r['seconds']:>8.2f}  "
            f"{'':12} " + " ".join(f"{per.get(s, 0.0):>9.1f}" for s in stages)
        )
    for kind in ("identical", "near"):
        mine = [r for r in rows if r["kind"] == kind]
        if len(mine) < 2:
            continue
        first, last = mine[0], mine[-1]
        growth = {
            s: round(last["us_per_copy"].get(s, 0.0) / max(first["us_per_copy"].get(s, 0.0), 1e-9), 2)
            for s in ("passages", "evidence", "cluster")
        }
        print(
            f"{kind}: per-copy cost from {first['copies']} to {last['copies']} copies x{growth} (1.0: linear)"
        )


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", default="5000,10000,20000,40000", help="identical copies ('' for none)")
    ap.add_argument("--near", default="1000,2000,4000,8000", help="near copies ('' for none)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not reuters.available():
        raise SystemExit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    identical = [int(x) for x in args.copies.split(",") if x]
    near = [int(x) for x in args.near.split(",") if x]
    stories = list(reuters.stories(limit=max(identical + near + [1])))
    rows = [run(n, stories) for n in identical] + [run(n, stories, near=True) for n in near]
    report(rows)
    out = {"rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
