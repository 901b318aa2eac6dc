"""The persistent index day by day: Reuters-21578 added in daily batches by its DATE field.

    python benchmarks/index_daily.py [--limit N] [--probes 40] [--no-passages] [--json out.json]

Every day's stories are checked against all earlier days and added (``Index.query(day, add=True)``,
what ``dedupe index query INDEX day/ --add`` does). Per day it records the query time, the add
time, the index's size on disk and the matches found. To show how the cost of one new document
grows with the index, a fixed set of held-out stories (``--probes``, never added) is queried one
at a time at every tenth of the corpus: the median latency of a single-document query, beside
the index's size. As a baseline in the same run, the alternative to an index, re-scanning
everything seen so far with ``Detector.run``, is timed at the same points.

Correctness travels with speed: at the end, the near-duplicate pairs the daily queries found
(each new story against everything before it and its own day) must equal the pairs of one scan of
the whole corpus that hold a story of a later or the same day, extended through identical copies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import reuters  # noqa: E402

from dedupe import Config, Detector, Document  # noqa: E402
from dedupe.index import Index  # noqa: E402


def _progress():
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    return Progress(transient=True)


def days_of(stories: list[dict]) -> list[tuple[str, list[Document]]]:
    by_day: dict[str, list[Document]] = defaultdict(list)
    for s in stories:
        day = (s["date"] or "unknown")[:10]
        by_day[day].append(Document(s["id"], s["text"], "reuters", {"date": s["date"]}))
    return sorted(by_day.items())


def run(limit: int | None, probes: int, passages: bool, rescan: bool) -> dict:
    stories = list(reuters.stories(limit=limit))
    # held-out probes: every k-th story, spread over the whole period, never added
    step = max(1, len(stories) // probes)
    probe_ids = {s["id"] for s in stories[::step][:probes]}
    probe_docs = [Document(s["id"], s["text"]) for s in stories if s["id"] in probe_ids]
    stories = [s for s in stories if s["id"] not in probe_ids]
    days = days_of(stories)
    total = sum(len(d) for _, d in days)
    overrides = {} if passages else {"passages.enabled": False}
    config = Config().replace(overrides)
    daily, checkpoints, found = [], [], {}
    marks = [int(total * k / 10) for k in range(1, 11)]
    seen: list[Document] = []
    bar = _progress()
    task = bar.add_task("days", total=len(days)) if bar else None
    if bar:
        bar.start()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reuters.db"
        index = Index.open(path, overrides, create=True)
        try:
            for day, docs in days:
                t0 = time.perf_counter()
                result = index.query(docs, add=True)
                elapsed = time.perf_counter() - t0
                add_s = result.stats["seconds"]["add"]
                for p in result.pairs:
                    found[(p.a, p.b)] = p.match
                seen.extend(docs)
                size = index.store.stats()["bytes_in_use"]
                daily.append(
                    {
                        "day": day,
                        "documents": len(docs),
                        "indexed": len(seen),
                        "query_s": round(elapsed - add_s, 4),
                        "add_s": round(add_s, 4),
                        "query_ms_per_doc": round(1000 * (elapsed - add_s) / len(docs), 3),
                        "loaded": result.stats["index"]["loaded"],
                        "pairs": len(result.pairs),
                        "bytes_in_use": size,
                    }
                )
                if marks and len(seen) >= marks[0]:
                    while marks and len(seen) >= marks[0]:
                        marks.pop(0)
                    checkpoints.append(checkpoint(index, probe_docs, seen, config, rescan))
                if bar:
                    bar.update(task, advance=1, description=f"{day}: {len(seen):,} indexed")
            stats = index.stats()
            problems = index.check()
        finally:
            index.close()
            if bar:
                bar.stop()
    scan_pairs = expected_pairs(seen, config)
    return {
        "documents": total,
        "days": len(days),
        "probes": len(probe_docs),
        "passages": passages,
        "daily": daily,
        "checkpoints": checkpoints,
        "index": {k: stats[k] for k in ("documents", "batches", "band_rows", "seed_rows", "text_bytes")},
        "bytes_per_document": round(checkpoints[-1]["bytes_in_use"] / total),
        "check": problems,
        "pairs_found": len(found),
        "pairs_expected": len(scan_pairs),
        "equal_to_scan": set(found) == set(scan_pairs),
    }


def checkpoint(
    index: Index, probes: list[Document], seen: list[Document], config: Config, rescan: bool
) -> dict:
    latencies = []
    for doc in probes:
        t0 = time.perf_counter()
        index.query([doc])
        latencies.append(time.perf_counter() - t0)
    row = {
        "indexed": len(seen),
        "probe_query_ms_median": round(1000 * statistics.median(latencies), 2),
        "probe_query_ms_p90": round(1000 * sorted(latencies)[int(0.9 * (len(latencies) - 1))], 2),
        "bytes_in_use": index.store.stats()["bytes_in_use"],
    }
    if rescan:
        t0 = time.perf_counter()
        Detector(config).run(seen)
        row["rescan_s"] = round(time.perf_counter() - t0, 3)
    return row


def expected_pairs(docs: list[Document], config: Config) -> dict[tuple[str, str], str]:
    """Pairs of one scan, extended through identical copies (an index query lists every copy)."""
    det = Detector(config)
    result = det.run(docs)
    fp = det.fingerprint(docs)
    same: dict[bytes, set[str]] = defaultdict(set)
    for doc_id, s in zip(fp.ids, fp.sets):
        if len(s):
            same[s.tobytes()].add(doc_id)
    cls = {i: g for g in same.values() for i in g}
    out = {}
    for p in result.pairs:
        for a in cls.get(p.a, {p.a}):
            for b in cls.get(p.b, {p.b}):
                if a != b:
                    out[(min(a, b), max(a, b))] = p.match
    return out


def print_report(r: dict) -> None:
    print(
        f"Reuters-21578 in {r['days']} daily batches: {r['documents']:,} stories, "
        f"passages {'on' if r['passages'] else 'off'}, {r['probes']} held-out probes"
    )
    print(f"\n{'indexed':>8} {'1-doc query ms (median)':>24} {'p90':>7} {'MB in use':>10} {'rescan s':>9}")
    for c in r["checkpoints"]:
        rescan = f"{c['rescan_s']:>9.2f}" if "rescan_s" in c else f"{'-':>9}"
        print(
            f"{c['indexed']:>8,} {c['probe_query_ms_median']:>24.2f} {c['probe_query_ms_p90']:>7.2f} "
            f"{c['bytes_in_use'] / 1e6:>10.1f} {rescan}"
        )
    first, last = r["checkpoints"][0], r["checkpoints"][-1]
    grow = last["indexed"] / first["indexed"]
    print(
        f"\nindex grew {grow:.1f}x; one-document query latency x{last['probe_query_ms_median'] / first['probe_query_ms_median']:.2f}"
        + (
            f"; re-scanning everything x{last['rescan_s'] / first['rescan_s']:.2f}"
            if "rescan_s" in last
            else ""
        )
    )
    daily = r["daily"]
    tenth = max(1, len(daily) // 10)
    print(f"\n{'days':>9} {'stories':>8} {'query ms/doc':>13} {'add ms/doc':>11} {'loaded/doc':>11}")
    for k in range(0, len(daily), tenth):
        part = daily[k : k + tenth]
        n = sum(d["documents"] for d in part)
        print(
            f"{k + 1:>4}-{k + len(part):<4} {n:>8,} {1000 * sum(d['query_s'] for d in part) / n:>13.2f} "
            f"{1000 * sum(d['add_s'] for d in part) / n:>11.2f} {sum(d['loaded'] for d in part) / n:>11.1f}"
        )
    idx = r["index"]
    print(
        f"\nindex: {idx['documents']:,} documents, {idx['batches']} batches, {idx['band_rows']:,} band rows, "
        f"{idx['seed_rows']:,} seed rows, {r['bytes_per_document']:,} bytes per document "
        f"(texts compressed: {idx['text_bytes'] / idx['documents']:.0f} bytes per document); check: "
        f"{'ok' if not r['check'] else r['check']}"
    )
    print(
        f"correctness: {r['pairs_found']:,} pairs found by the daily queries, {r['pairs_expected']:,} by one scan "
        f"of everything: {'EQUAL' if r['equal_to_scan'] else 'DIFFERENT'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N stories")
    ap.add_argument("--probes", type=int, default=40)
    ap.add_argument("--no-passages", action="store_true")
    ap.add_argument("--no-rescan", action="store_true", help="skip the re-scan baseline")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not reuters.available():
        sys.exit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    result = run(args.limit, args.probes, not args.no_passages, not args.no_rescan)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
        print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
