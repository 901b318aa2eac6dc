"""Short texts copied into long ones: pair recall by length and length ratio, and false pairs.

    python benchmarks/short_in_long.py [--cases 300] [--seed 5] [--json out.json]

Each case takes a Reuters-21578 story of 50 to 500 words (the short text), edits it lightly
(about 3% of its words changed, dropped or added, straight quotes made curly) and plants it
whole, at a paragraph boundary, into a long document made of other stories, 2 to 20 times the
short text's length. Stories are drawn from those that share no word 8-gram with any other
(``reuters.busy_ids``), so the only text two documents share is what was planted: every accepted
pair other than (short text, its host) is a false pair. As many unrelated short texts and hosts
are mixed in.

Reported, for dedupe's defaults (shared passages on: passage candidates and the aligned rule)
and ``--no-passages`` (LSH candidates and the set rules alone): the share of cases whose short
text and host become an accepted pair, swept by the short text's length and by the length
ratio, and the false pairs. Reuters is read from ../shared/corpora at run time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import reuters  # noqa: E402

from dedupe import Config, Detector, Document  # noqa: E402

WORD_BINS = [(50, 150), (150, 300), (300, 501)]
RATIO_BINS = [(2, 5), (5, 10), (10, 10**9)]
FILLER = "however reportedly meanwhile officials analysts separately also further".split()


def light_edit(text: str, rng: random.Random) -> str:
    words = []
    for w in text.split(" "):
        r = rng.random()
        if r < 0.01:
            continue
        if r < 0.02:
            words.append(rng.choice(FILLER))
        elif r < 0.03:
            words.extend([w, rng.choice(FILLER)])
        else:
            words.append(w)
    return " ".join(words).replace('"', "\u201c")


def build(
    stories: list[dict], cases: int, seed: int
) -> tuple[list[Document], list[tuple[str, str, int, float]]]:
    """The documents and the planted cases ``(short id, host id, short words, ratio)``."""
    rng = random.Random(seed)
    busy = reuters.busy_ids(stories)
    clean = [s for s in stories if s["id"] not in busy]
    rng.shuffle(clean)
    shorts = [s for s in clean if 50 <= len(s["text"].split()) <= 500]
    filler = [s for s in clean if s not in shorts[: 2 * cases]]
    docs, planted = [], []
    take = iter(filler * 50)
    for k in range(2 * cases):
        short = shorts[k]
        words = len(short["text"].split())
        ratio = rng.uniform(2, 20)
        parts: list[str] = []
        while sum(len(p.split()) for p in parts) < (ratio - 1) * words:
            parts.append(next(take)["text"])
        host_id, short_id = f"host-{k:04d}", f"short-{k:04d}"
        if k < cases:  # planted; the other half are unrelated short texts and hosts
            parts.insert(rng.randint(0, len(parts)), light_edit(short["text"], rng))
            total = sum(len(p.split()) for p in parts)
            planted.append((short_id, host_id, words, total / words))
        docs.append(Document(short_id, short["text"]))
        docs.append(Document(host_id, "\n\n".join(parts)))
    return docs, planted


def _ratio_bin(a: int, b: int) -> str:
    return f"{a}x+" if b > 100 else f"{a}-{b}x"


def measure(docs: list[Document], planted: list[tuple[str, str, int, float]], cfg: Config) -> dict:
    t0 = time.perf_counter()
    result = Detector(cfg).run(docs)
    seconds = time.perf_counter() - t0
    accepted = {(p.a, p.b): p.match for p in result.pairs}
    truth = {tuple(sorted((s, h))) for s, h, _, _ in planted}
    # hosts share filler stories with each other, by construction: only pairs holding a short
    # text are judged (a short text shares text with its own host and nothing else)
    false = [pair for pair in accepted if pair not in truth and any(x.startswith("short-") for x in pair)]
    by_words, by_ratio = defaultdict(list), defaultdict(list)
    found = []
    for s, h, words, ratio in planted:
        ok = tuple(sorted((s, h))) in accepted
        found.append(ok)
        by_words[next(f"{a}-{b - 1}" for a, b in WORD_BINS if a <= words < b)].append(ok)
        by_ratio[next(_ratio_bin(a, b) for a, b in RATIO_BINS if a <= ratio < b)].append(ok)
    rules = defaultdict(int)
    for pair in truth & accepted.keys():
        rules[accepted[pair]] += 1
    return {
        "cases": len(planted),
        "pair_recall": sum(found) / len(found),
        "recall_by_short_words": {k: sum(v) / len(v) for k, v in sorted(by_words.items())},
        "recall_by_length_ratio": {k: sum(v) / len(v) for k, v in sorted(by_ratio.items())},
        "false_pairs": len(false),
        "false_examples": false[:5],
        "found_by_rule": dict(rules),
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--stories", type=int, default=None, help="Reuters stories to read (default: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not reuters.available():
        raise SystemExit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    docs, planted = build(list(reuters.stories(limit=args.stories)), args.cases, args.seed)
    configs = {
        "dedupe (defaults)": Config(),
        "dedupe --no-passages": Config().replace({"passages.enabled": False}),
    }
    rows = {name: measure(docs, planted, cfg) for name, cfg in configs.items()}
    print(
        f"Short texts (50-500 words) planted in documents 2-20x longer: {len(planted)} cases, {len(docs)} documents"
    )
    bins = [f"{a}-{b - 1}" for a, b in WORD_BINS] + [_ratio_bin(a, b) for a, b in RATIO_BINS]
    print(f"{'method':<24}{'recall':>8}" + "".join(f"{b:>10}" for b in bins) + f"{'false':>7}{'sec':>7}")
    for name, r in rows.items():
        cells = {**r["recall_by_short_words"], **r["recall_by_length_ratio"]}
        print(
            f"{name:<24}{r['pair_recall']:>8.3f}"
            + "".join(f"{cells.get(b, float('nan')):>10.3f}" for b in bins)
            + f"{r['false_pairs']:>7}{r['seconds']:>7.1f}"
        )
    print("recall: share of cases whose short text and host are an accepted pair, by the short text's")
    print("words and by the length ratio; false: accepted pairs holding a short text that are not cases")
    out = {"benchmark": "short_in_long", "seed": args.seed, "results": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
