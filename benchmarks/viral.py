"""Viral text: one passage printed in k documents among many others, lightly edited in each copy.

    python benchmarks/viral.py [--docs 10000] [--k 10,60,300,3000] [--workers 2] [--json out.json]

The Truth Social quotation of ``seeds/`` (its fullest printing, in 001_...) is planted into k
Reuters-21578 stories among ``--docs`` (read from ../shared/corpora at run time), each copy
introduced by one of a few phrases and lightly edited at random: straight or curly quotation
marks, one word dropped, one word misspelt. The default scan (passages on) runs on the corpus,
and the benchmark reports, for each k:

* the passage groups holding a planted copy, and the share of the copies the largest one holds
  (the target: one group holding at least 99% of them);
* whether every occurrence found for a copy (one covering at least 90% of the planted quotation)
  has exact offsets (``text[start:end]`` is its text), and the share of them that stay within a
  few words of the copy (an occurrence may rightly run on into text its document shares with
  another, such as a templated notice);
* the seed rows the stage made (linear in occurrences: about k rows per seed n-gram past
  ``passages.max_ngram_docs``), the passes, the stage's seconds and the scan's seconds.

Before the star pairing of widely shared seeds (seeds in more than 50 documents were dropped),
the quotation planted in 40 stories among 500 came out as one group of 40, in 60 stories as 6
groups of at most 4, in 200 as 17 groups of at most 5.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import reuters  # noqa: E402

from dedupe import Config, Detector, Document  # noqa: E402
from dedupe.engines import LocalEngine  # noqa: E402

SEED = HERE.parent / "seeds" / "001_5ac73234718de8f7.txt"
INTROS = [
    "Trump wrote on Truth Social:",
    "In a post on his social media platform, the president said:",
    "He later posted:",
    "The statement read:",
    "Trump said in a social media post on Friday:",
]


def quotation() -> str:
    text = SEED.read_text(encoding="utf-8")
    start = text.index("It was an extremely productive call")
    end = text.index("United States of America and Canada", start) + len(
        "United States of America and Canada"
    )
    return text[start:end]


def misspell(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    k = rng.randrange(1, len(word) - 2)
    return word[:k] + word[k + 1] + word[k] + word[k + 2 :]


def edited_copy(quote: str, rng: random.Random) -> str:
    """The quotation with light edits: quotation marks of one kind or the other, one word dropped,
    one word misspelt (each with probability 1/2)."""
    words = quote.split(" ")
    if rng.random() < 0.5:
        del words[rng.randrange(len(words))]
    if rng.random() < 0.5:
        k = rng.randrange(len(words))
        words[k] = misspell(words[k], rng)
    body = " ".join(words)
    if rng.random() < 0.5:
        body = body.replace("\u2019", "'")
        return f'"{body}."'
    return f"\u201c{body}.\u201d"


def plant(text: str, copy: str, rng: random.Random) -> tuple[str, int, int]:
    """``text`` with ``copy`` inserted after a sentence, introduced; the copy's span in the result."""
    cuts = [m.end() for m in re.finditer(r"[.!?]\s+", text)] or [len(text)]
    at = rng.choice(cuts)
    before = text[:at].rstrip() + " " + rng.choice(INTROS) + " "
    return before + copy + " " + text[at:].lstrip(), len(before), len(before) + len(copy)


def run(stories: list[dict], k: int, workers: int, seed: int) -> dict:
    rng = random.Random(seed * 1000 + k)
    quote = quotation()
    docs = [Document(s["id"], s["text"]) for s in stories]
    planted: dict[str, tuple[int, int]] = {}
    for i in rng.sample(range(len(docs)), k):
        text, start, end = plant(docs[i].text, edited_copy(quote, rng), rng)
        docs[i] = Document(docs[i].id, text)
        planted[docs[i].id] = (start, end)
    text_of = {d.id: d.text for d in docs}
    cfg = Config().replace({"run.workers": workers})
    t0 = time.perf_counter()
    result = Detector(cfg, LocalEngine(workers)).run(docs)
    seconds = time.perf_counter() - t0
    holding: dict[str, set[str]] = {}  # group id -> planted documents it holds
    exact = tight = found_copies = 0
    for g in result.passages:
        for o in g.occurrences:
            span = planted.get(o.doc)
            if span is None:
                continue
            s, e = span
            overlap = max(0, min(e, o.end) - max(s, o.start))
            if overlap < 0.9 * (e - s):
                continue
            holding.setdefault(g.id, set()).add(o.doc)
            found_copies += 1
            exact += text_of[o.doc][o.start : o.end] == o.text
            tight += s - 80 <= o.start and o.end <= e + 80
    largest = max((len(v) for v in holding.values()), default=0)
    stats = result.stats
    return {
        "k": k,
        "documents": len(docs),
        "groups_holding_copies": len(holding),
        "largest_group_share": largest / k,
        "copies_found": len({d for v in holding.values() for d in v}) / k,
        "occurrences_exact": exact / found_copies if found_copies else 1.0,
        "occurrences_on_the_copy": tight / found_copies if found_copies else 1.0,
        "seed_pairs": stats.get("seed_pairs"),
        "passage_passes": stats.get("passage_passes"),
        "passages_seconds": stats["seconds"].get("passages"),
        "scan_seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--k", default="10,60,300,3000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not reuters.available():
        raise SystemExit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    stories = list(reuters.stories(limit=args.docs))
    rows = []
    print(f"A quotation planted in k of {len(stories):,} Reuters stories, lightly edited in each copy")
    print(
        f"{'k':>6}{'groups':>8}{'largest':>9}{'found':>8}{'exact':>8}{'on copy':>9}{'seed rows':>12}{'passes':>8}{'stage s':>9}{'scan s':>8}"
    )
    for k in (int(x) for x in args.k.split(",")):
        r = run(stories, min(k, len(stories)), args.workers, args.seed)
        rows.append(r)
        print(
            f"{r['k']:>6}{r['groups_holding_copies']:>8}{r['largest_group_share']:>9.3f}{r['copies_found']:>8.3f}"
            f"{r['occurrences_exact']:>8.3f}{r['occurrences_on_the_copy']:>9.3f}{r['seed_pairs'] or 0:>12,}{r['passage_passes'] or 0:>8}"
            f"{r['passages_seconds'] or 0:>9.2f}{r['scan_seconds']:>8.2f}"
        )
    print("groups: passage groups holding a copy; largest: share of the copies in the largest of them;")
    print("found: share of copies in any group; exact: occurrences whose offsets give their text;")
    print("on copy: occurrences within 80 characters of the planted copy")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "viral", "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
