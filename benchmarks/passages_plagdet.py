"""Passage detection measured PAN-style: passages from Reuters-21578 stories, edited, planted in others.

Each case takes a run of words from a *source* story, edits it (none, light or heavy), and
inserts it at a word boundary into a *host* story, giving a *suspicious* document. Hosts and
sources are drawn (seeded) from stories that share no word 8-gram with any other story before
planting (stock phrases aside; a criterion independent of dedupe, so every version is measured on
the same cases), so every detection between a suspicious document and a source is judged against known truth.
Unused stories are mixed in as distractors.

Scores follow the PAN text-alignment measures (Potthast et al., 2010), at the character level:

* precision: per detection, the share of its characters (in both documents) that lie in a
  case it detects, averaged over detections;
* recall: per case, the share of its characters covered by detections, averaged over cases;
* granularity: detections per detected case (1 is ideal);
* plagdet = F1 / log2(1 + granularity).

A detection is a pair of occurrences of one passage group, one in a suspicious document and
one in that document's source. Run::

    python benchmarks/passages_plagdet.py [--cases 600] [--seed 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reuters  # noqa: E402

from dedupe import Config, Detector, Document  # noqa: E402

LEVELS = {"none": 0.0, "light": 0.05, "heavy": 0.15}
FILLER = "however reportedly meanwhile officials analysts separately also further".split()


@dataclass
class Case:
    susp: str
    src: str
    susp_span: tuple[int, int]
    src_span: tuple[int, int]
    level: str
    words: int


def word_spans(text: str) -> list[tuple[int, int]]:
    spans, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        j = i
        while j < n and not text[j].isspace():
            j += 1
        if j > i:
            spans.append((i, j))
        i = j
    return spans


def obfuscate(words: list[str], rate: float, rng: random.Random) -> list[str]:
    """Substitute, drop or insert words (and retype quotes) in about ``rate`` of the words."""
    out: list[str] = []
    for w in words:
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(FILLER))
        elif r < 2 * rate / 3:
            continue
        elif r < rate:
            out.extend([w, rng.choice(FILLER)])
        else:
            out.append(w.replace('"', "\u201c") if rate else w)
    return out or words[:1]


def build(stories: list[dict], n_cases: int, seed: int) -> tuple[list[Document], list[Case]]:
    rng = random.Random(seed)
    pool = [s for s in stories if len(s["text"].split()) >= 120]
    # keep only stories that share no word 8-gram with another (stock phrases aside), so that truth
    # is known: a criterion independent of dedupe, so that every version is measured on the same cases
    busy = reuters.busy_ids(pool)
    pool = [s for s in pool if s["id"] not in busy]
    rng.shuffle(pool)
    need = 2 * n_cases
    if len(pool) < need + 10:
        raise SystemExit(f"only {len(pool)} clean stories for {n_cases} cases")
    sources, hosts, distractors = pool[:n_cases], pool[n_cases:need], pool[need : need + n_cases // 2]
    docs, cases = [], []
    for k, (src, host) in enumerate(zip(sources, hosts)):
        level = list(LEVELS)[k % len(LEVELS)]
        src_spans = word_spans(src["text"])
        length = rng.randint(15, min(90, len(src_spans) - 1))
        start = rng.randint(0, len(src_spans) - length)
        a, b = src_spans[start][0], src_spans[start + length - 1][1]
        planted = " ".join(obfuscate(src["text"][a:b].split(), LEVELS[level], rng))
        host_spans = word_spans(host["text"])
        cut = rng.randint(1, len(host_spans) - 1)
        pos = host_spans[cut][0]
        text = host["text"][:pos] + planted + " " + host["text"][pos:]
        susp_id = f"susp-{k:04d}"
        docs.append(Document(susp_id, text))
        cases.append(Case(susp_id, src["id"], (pos, pos + len(planted)), (a, b), level, length))
    docs.extend(Document(s["id"], s["text"]) for s in sources)
    docs.extend(Document(s["id"], s["text"]) for s in distractors)
    return docs, cases


def detections(result, roles: dict[str, str]) -> list[tuple[str, str, tuple[int, int], tuple[int, int]]]:
    out = []
    for g in result.passages:
        for x in g.occurrences:
            for y in g.occurrences:
                if roles.get(x.doc) == y.doc:  # x is a suspicious document, y its source
                    out.append((x.doc, y.doc, (x.start, x.end), (y.start, y.end)))
    return out


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def covered(span: tuple[int, int], others: list[tuple[int, int]]) -> int:
    """Characters of ``span`` inside the union of ``others``."""
    pts = sorted((max(span[0], o[0]), min(span[1], o[1])) for o in others if overlap(span, o))
    total, end = 0, span[0]
    for lo, hi in pts:
        lo = max(lo, end)
        if hi > lo:
            total += hi - lo
            end = hi
    return total


def plagdet(cases: list[Case], dets: list) -> dict:
    by_pair = defaultdict(list)
    for d in dets:
        by_pair[(d[0], d[1])].append(d)
    detects = {}
    for i, c in enumerate(cases):
        detects[i] = [
            d for d in by_pair[(c.susp, c.src)] if overlap(d[2], c.susp_span) and overlap(d[3], c.src_span)
        ]
    rec = []
    for i, c in enumerate(cases):
        ds = detects[i]
        size = (c.susp_span[1] - c.susp_span[0]) + (c.src_span[1] - c.src_span[0])
        got = covered(c.susp_span, [d[2] for d in ds]) + covered(c.src_span, [d[3] for d in ds])
        rec.append(got / size)
    prec = []
    case_of_pair = defaultdict(list)
    for c in cases:
        case_of_pair[(c.susp, c.src)].append(c)
    for d in dets:
        size = (d[2][1] - d[2][0]) + (d[3][1] - d[3][0])
        cs = case_of_pair[(d[0], d[1])]
        got = covered(d[2], [c.susp_span for c in cs]) + covered(d[3], [c.src_span for c in cs])
        prec.append(got / size if size else 0.0)
    detected = [len(detects[i]) for i in detects if detects[i]]
    p = sum(prec) / len(prec) if prec else 0.0
    r = sum(rec) / len(rec) if rec else 0.0
    gran = sum(detected) / len(detected) if detected else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "cases": len(cases),
        "detections": len(dets),
        "precision": p,
        "recall": r,
        "granularity": gran,
        "f1": f1,
        "plagdet": f1 / math.log2(1 + gran),
        "cases_detected": len(detected) / len(cases),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--stories", type=int, default=None, help="Reuters stories to draw from (default: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not reuters.available():
        raise SystemExit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    t0 = time.perf_counter()
    docs, cases = build(list(reuters.stories(limit=args.stories)), args.cases, args.seed)
    t1 = time.perf_counter()
    result = Detector(Config()).run(docs)
    t2 = time.perf_counter()
    roles = {c.susp: c.src for c in cases}
    dets = detections(result, roles)
    rows = {"all": plagdet(cases, dets)}
    for level in LEVELS:
        subset = [c for c in cases if c.level == level]
        keep = {(c.susp, c.src) for c in subset}
        rows[level] = plagdet(subset, [d for d in dets if (d[0], d[1]) in keep])
    print(
        f"{len(docs)} documents, {len(cases)} planted cases; built in {t1 - t0:.1f}s, detected in {t2 - t1:.1f}s"
    )
    print(f"{'edits':<8}{'cases':>6}{'found':>8}{'precision':>11}{'recall':>8}{'gran.':>7}{'plagdet':>9}")
    for name, m in rows.items():
        print(
            f"{name:<8}{m['cases']:>6}{m['cases_detected']:>8.3f}{m['precision']:>11.3f}{m['recall']:>8.3f}"
            f"{m['granularity']:>7.3f}{m['plagdet']:>9.3f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"seed": args.seed, "documents": len(docs), "seconds": t2 - t1, "results": rows}, indent=2
            )
        )


if __name__ == "__main__":
    main()
