"""Accuracy, measured: exact truth on Reuters-21578, a syndication benchmark, and the peers' recipe.

    python benchmarks/accuracy.py [--json results.json] [--bases 1500] [--seed 11]

A. **Exact truth on real text.** Every Reuters story is shingled exactly as dedupe shingles it
   (word 5-grams); a sparse incidence matrix times its transpose gives, for every pair of stories
   sharing any shingle, the exact intersection, hence the exact Jaccard and both containments.
   A pair is *true* when it passes dedupe's own rule (Jaccard >= verify.jaccard_threshold, or
   containment >= verify.containment_threshold on a side with at least
   verify.min_containment_shingles shingles). Reported: the recall of dedupe's clusters on true
   pairs, by score band; the precision of the pairs dedupe's clusters assert; and chained
   clusters, which hold two members far below threshold (Jaccard < 0.2 and containment < 0.3).
B. **Syndication benchmark with known truth.** Base stories that share no text with any other
   story (by the exact scores of part A) get 1 to 6 reprints each, made the way newspapers
   reprint wire copy: random combinations of trimming from the bottom, a new headline, byline
   or dateline, an outlet footer, copy-edited words, an inserted local paragraph, swapped
   paragraphs, typographic quotes, re-wrapped lines and OCR errors. Other clean stories are
   mixed in as distractors. Reported: adjusted Rand index, pairwise precision, recall and F1,
   and recall by edit severity.
C. **The peers' recipe** on the same documents in the same run: text-dedup's published MinHash
   configuration for news (lowercase, split on non-alphanumerics, word 2-grams, 256
   permutations, LSH threshold 0.45, union-find over LSH candidates, no verification), built on
   datasketch.

Prints tables and writes JSON. Reuters is read from ../shared/corpora at run time.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reuters  # noqa: E402

from dedupe import Config, Detector, Document  # noqa: E402
from dedupe.cluster import UnionFind  # noqa: E402
from dedupe.shingle import Shingler  # noqa: E402
from dedupe.verify import different_figures, figure_hashes  # noqa: E402

# ---------------------------------------------------------------------------------------------
# A. exact truth


def exact_pairs(sets: list[np.ndarray], min_j: float = 0.1, min_c: float = 0.2, block: int = 1500) -> dict:
    """Exact scores of every pair sharing a shingle whose Jaccard >= min_j or containment >= min_c.

    Returns arrays i, j (i < j), inter, jaccard, c_ij (i in j), c_ji, and the sizes.
    """
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    allh = np.concatenate(sets)
    _, cols = np.unique(allh, return_inverse=True)
    rows = np.repeat(np.arange(len(sets)), sizes)
    m = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.int32), (rows, cols)), shape=(len(sets), cols.max() + 1)
    )
    mt = m.T.tocsc()
    out = defaultdict(list)
    for start in range(0, len(sets), block):
        prod = (m[start : start + block] @ mt).tocoo()
        i = prod.row.astype(np.int64) + start
        j = prod.col.astype(np.int64)
        keep = i < j
        i, j, inter = i[keep], j[keep], prod.data[keep].astype(np.int64)
        jac = inter / (sizes[i] + sizes[j] - inter)
        cij, cji = inter / sizes[i], inter / sizes[j]
        keep = (jac >= min_j) | (np.maximum(cij, cji) >= min_c)
        for name, arr in (
            ("i", i),
            ("j", j),
            ("inter", inter),
            ("jaccard", jac),
            ("c_ij", cij),
            ("c_ji", cji),
        ):
            out[name].append(arr[keep])
    res = {k: np.concatenate(v) for k, v in out.items()}
    res["sizes"] = sizes
    return res


def passes(ex: dict, cfg: Config) -> np.ndarray:
    v = cfg.verify
    sizes = ex["sizes"]
    return (ex["jaccard"] >= v.jaccard_threshold) | (
        ((ex["c_ij"] >= v.containment_threshold) & (sizes[ex["i"]] >= v.min_containment_shingles))
        | ((ex["c_ji"] >= v.containment_threshold) & (sizes[ex["j"]] >= v.min_containment_shingles))
    )


def part_a(stories: list[dict], cfg: Config) -> tuple[dict, dict]:
    """Recall against word 5-gram truth (fixed), precision and chains under the config's own rule."""
    t0 = time.perf_counter()
    ids = sorted(s["id"] for s in stories)
    text = {s["id"]: s["text"] for s in stories}
    five = cfg.replace({"shingle.kind": "word", "shingle.size": 5})
    ex5 = exact_pairs([Shingler(five).hashes(text[i]) for i in ids])
    same_shingling = (cfg.shingle.kind, cfg.shingle.size) == ("word", 5)
    ex = ex5 if same_shingling else exact_pairs([Shingler(cfg).hashes(text[i]) for i in ids])
    t1 = time.perf_counter()
    result = Detector(cfg.replace({"passages.enabled": False})).run([Document(i, text[i]) for i in ids])
    t2 = time.perf_counter()
    index = {d: k for k, d in enumerate(ids)}
    cluster = np.full(len(ids), -1)
    for ci, c in enumerate(result.clusters):
        for mbr in c.members:
            cluster[index[mbr]] = ci

    def together(e: dict) -> np.ndarray:
        return (cluster[e["i"]] == cluster[e["j"]]) & (cluster[e["i"]] >= 0)

    same5 = together(ex5)
    j5 = ex5["jaccard"]
    bands = [
        ("J5 >= 0.9", j5 >= 0.9),
        ("0.8 <= J5 < 0.9", (j5 >= 0.8) & (j5 < 0.9)),
        ("0.7 <= J5 < 0.8", (j5 >= 0.7) & (j5 < 0.8)),
        ("0.5 <= J5 < 0.7", (j5 >= 0.5) & (j5 < 0.7)),
        ("J5 < 0.5, contained", (j5 < 0.5) & (np.maximum(ex5["c_ij"], ex5["c_ji"]) >= 0.8)),
    ]
    rows = [
        {"band": name, "pairs": int(m.sum()), "recall": float(same5[m].mean()) if m.any() else 1.0}
        for name, m in bands
    ]
    # the config's own rule: which pairs pass textually, and which of those state different figures
    true = passes(ex, cfg)
    figs = figure_hashes([text[i] for i in ids])
    template = np.array([different_figures(figs[a], figs[b]) for a, b in zip(ex["i"], ex["j"])], dtype=bool)
    same = together(ex)
    pair_score = {
        (int(a), int(b)): (float(jj), float(x), float(y))
        for a, b, jj, x, y in zip(ex["i"], ex["j"], ex["jaccard"], ex["c_ij"], ex["c_ji"])
    }
    true_set = {(int(a), int(b)) for a, b in zip(ex["i"][true], ex["j"][true])}
    asserted = correct = 0
    chained = []
    for c in result.clusters:
        mem = sorted(index[m] for m in c.members)
        far = 0
        for x in range(len(mem)):
            for y in range(x + 1, len(mem)):
                asserted += 1
                key = (mem[x], mem[y])
                correct += key in true_set
                jj, cx, cy = pair_score.get(key, (0.0, 0.0, 0.0))
                far += jj < 0.2 and max(cx, cy) < 0.3
        if far:
            chained.append(
                {
                    "cluster": c.id,
                    "size": len(mem),
                    "far_pairs": far,
                    "cohesion_min_jaccard": round(c.cohesion.min_jaccard, 3),
                }
            )
    reprints = true & ~template
    stats = {
        "stories": len(ids),
        "pairs_scored_5gram": int(len(ex5["i"])),
        "clusters": len(result.clusters),
        "clustered": result.clustered,
        "bands_5gram": rows,
        "recall_jaccard5_ge_0_8": float(same5[j5 >= 0.8].mean()),
        "pairs_jaccard5_ge_0_8": int((j5 >= 0.8).sum()),
        "rule_true_pairs": int(true.sum()),
        "rule_template_pairs": int((true & template).sum()),
        "rule_recall_reprints": float(same[reprints].mean()) if reprints.any() else 1.0,
        "rule_recall_templates": float(same[true & template].mean()) if (true & template).any() else 1.0,
        "asserted_pairs": asserted,
        "precision_asserted_pairs": correct / asserted if asserted else 1.0,
        "chained_clusters": len(chained),
        "chained": chained[:10],
        "seconds_exact": t1 - t0,
        "seconds_dedupe": t2 - t1,
    }
    stats["missed_examples"] = [
        (ids[int(a)], ids[int(b)], round(float(jj), 3))
        for a, b, jj, ok, s_ in zip(ex5["i"], ex5["j"], j5, j5 >= 0.8, same5)
        if ok and not s_
    ][:10]
    return stats, {"ids": ids, "ex": ex5}


# ---------------------------------------------------------------------------------------------
# B. syndication generator

OUTLETS = [
    "The Daily Courier",
    "Evening Gazette",
    "Morning Herald",
    "The Valley Tribune",
    "Harbor Times",
    "The Northern Star",
    "Lakeside Ledger",
    "County Chronicle",
]
NAMES = ["Ann Walsh", "Peter Lind", "Maria Costa", "John Okafor", "Li Wen", "Sara Berg", "Tom Reyes"]
CITIES = ["SPRINGFIELD", "RIVERTON", "FAIRVIEW", "GREENVILLE", "MADISON", "CLINTON"]
COPYEDIT = {
    "pct": "percent",
    "mln": "million",
    "dlrs": "dollars",
    "said": "stated",
    "billion": "bln",
    "company": "firm",
    "shares": "stock",
    "year": "yr",
    "The": "This",
    "would": "will",
}
LOCAL_WORDS = (
    "council residents meeting downtown mayor school board parking festival library bridge road "
    "county fair volunteers weekend park museum neighborhood project funding committee local "
    "merchants harbor ferry winter schedule"
).split()
OCR = {"rn": "m", "l": "1", "e": "c", "O": "0", "i": "l", "h": "b", "S": "5"}


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s{2,}|\n\n", text) if p.strip()]


def make_copy(base: dict, rng: random.Random) -> tuple[str, list[str], str]:
    """A reprint of ``base``: (text, edits applied, severity)."""
    paras = paragraphs(base["text"])
    head, body = paras[0].split("\n", 1) if "\n" in paras[0] else (paras[0], "")
    paras = ([body] if body else []) + paras[1:]
    edits: list[str] = []
    weight = 0.0
    ops = rng.sample(
        ["trim", "headline", "footer", "copyedit", "local", "swap", "quotes", "rewrap", "ocr"],
        k=rng.randint(1, 6),
    )
    if "trim" in ops and len(paras) > 2:
        keep = max(1, round(len(paras) * rng.uniform(0.45, 0.9)))
        weight += 2.0 * (1 - keep / len(paras))
        paras = paras[:keep]
        edits.append("trim")
    if "swap" in ops and len(paras) > 2:
        a, b = rng.sample(range(1, len(paras)), 2) if len(paras) > 3 else (0, 1)
        paras[a], paras[b] = paras[b], paras[a]
        weight += 0.3
        edits.append("swap")
    if "copyedit" in ops:
        rate = rng.uniform(0.03, 0.12)
        new = []
        for p in paras:
            words = p.split(" ")
            words = [COPYEDIT.get(w, w) if rng.random() < 0.7 else w for w in words]
            words = [rng.choice(LOCAL_WORDS) if rng.random() < rate / 3 else w for w in words]
            new.append(" ".join(words))
        paras = new
        weight += rate * 4
        edits.append("copyedit")
    if "local" in ops:
        local = " ".join(rng.choice(LOCAL_WORDS) for _ in range(rng.randint(25, 60))).capitalize() + "."
        paras.insert(rng.randint(1, len(paras)), local)
        weight += 0.4
        edits.append("local")
    if "headline" in ops:
        head = rng.choice(["Local impact expected as ", "Update: ", "Analysis: "]) + head.title()
        byline = f"By {rng.choice(NAMES)}, {rng.choice(OUTLETS)}"
        paras[0] = f"{rng.choice(CITIES)} (AP) - " + re.sub(r"^[A-Z ,.]+, \w+ \d+ - ", "", paras[0])
        head = head + "\n" + byline
        weight += 0.2
        edits.append("headline")
    text = head + "\n" + "\n\n".join(paras)
    if "footer" in ops:
        outlet = rng.choice(OUTLETS)
        text += f"\n\nCopyright 1987 {outlet}. All rights reserved. Subscribe to {outlet} for local news."
        weight += 0.2
        edits.append("footer")
    if "quotes" in ops:
        text = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text).replace("'", "\u2019")
        edits.append("quotes")
    if "rewrap" in ops:
        width = rng.randint(35, 90)
        lines, line = [], ""
        for w in text.split():
            if len(line) + len(w) + 1 > width:
                lines.append(line)
                line = w
            else:
                line = f"{line} {w}".strip()
        lines.append(line)
        text = "\n".join(lines)
        edits.append("rewrap")
    if "ocr" in ops:
        rate = rng.uniform(0.005, 0.03)
        chars = list(text)
        for k, ch in enumerate(chars):
            if rng.random() < rate:
                chars[k] = OCR.get(ch, ch)
        text = "".join(chars)
        weight += rate * 25
        edits.append("ocr")
    severity = "light" if weight < 0.5 else "medium" if weight < 1.0 else "heavy"
    return text, edits, severity


def clean_ids(stories: list[dict], truth: dict, min_words: int) -> list[str]:
    ex, ids = truth["ex"], truth["ids"]
    busy = set(ex["i"][(ex["jaccard"] >= 0.05) | (np.maximum(ex["c_ij"], ex["c_ji"]) >= 0.1)].tolist())
    busy |= set(ex["j"][(ex["jaccard"] >= 0.05) | (np.maximum(ex["c_ij"], ex["c_ji"]) >= 0.1)].tolist())
    words = {s["id"]: len(s["text"].split()) for s in stories}
    return [d for k, d in enumerate(ids) if k not in busy and words[d] >= min_words]


def build_syndication(stories: list[dict], truth: dict, n_bases: int, seed: int):
    rng = random.Random(seed)
    by_id = {s["id"]: s for s in stories}
    pool = clean_ids(stories, truth, 80)
    rng.shuffle(pool)
    bases, distractors = pool[:n_bases], pool[n_bases : n_bases + n_bases // 2]
    docs, label, severity = [], {}, {}
    for b in bases:
        docs.append(Document(b, by_id[b]["text"]))
        label[b] = b
        for k in range(rng.choice([1, 1, 2, 2, 3, 4, 6])):
            text, _, sev = make_copy(by_id[b], rng)
            cid = f"{b}-copy{k}"
            docs.append(Document(cid, text))
            label[cid], severity[cid] = b, sev
    for d in distractors:
        docs.append(Document(d, by_id[d]["text"]))
        label[d] = d
    rng.shuffle(docs)
    return docs, label, severity


# ---------------------------------------------------------------------------------------------
# C. the peers' recipe (text-dedup's MinHash for news, on datasketch)

NON_ALPHA = re.compile("[^A-Za-z_0-9]")


def peers_clusters(docs: list[Document]) -> dict[str, int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.45, num_perm=256)
    sigs = {}
    for d in docs:
        tokens = NON_ALPHA.split(d.text.lower())
        grams = (
            {" ".join(tokens[k : k + 2]).encode() for k in range(max(1, len(tokens) - 1))}
            if len(tokens) >= 5
            else set()
        )
        m = MinHash(num_perm=256)
        if grams:
            m.update_batch(list(grams))
        sigs[d.id] = m
        lsh.insert(d.id, m)
    ids = [d.id for d in docs]
    index = {d: k for k, d in enumerate(ids)}
    uf = UnionFind(len(ids))
    for d in ids:
        for other in lsh.query(sigs[d]):
            uf.union(index[d], index[other])
    return {d: uf.find(index[d]) for d in ids}


def dedupe_clusters(docs: list[Document], cfg: Config) -> dict[str, str]:
    result = Detector(cfg.replace({"passages.enabled": False})).run(docs)
    of = result.cluster_of()
    return {d.id: of.get(d.id, d.id) for d in docs}


# ---------------------------------------------------------------------------------------------
# scoring


def ari(labels_true: list, labels_pred: list) -> float:
    cont = Counter(zip(labels_true, labels_pred))
    a = Counter(labels_true)
    b = Counter(labels_pred)
    n = len(labels_true)
    index = sum(comb(v, 2) for v in cont.values())
    sa, sb = sum(comb(v, 2) for v in a.values()), sum(comb(v, 2) for v in b.values())
    expected = sa * sb / comb(n, 2)
    maximum = (sa + sb) / 2
    return (index - expected) / (maximum - expected) if maximum != expected else 1.0


def pairwise(labels_true: dict, labels_pred: dict) -> dict:
    def pairs(labels: dict) -> set:
        groups = defaultdict(list)
        for k, v in labels.items():
            groups[v].append(k)
        return {(x, y) for g in groups.values() for i, x in enumerate(sorted(g)) for y in sorted(g)[i + 1 :]}

    t, p = pairs(labels_true), pairs(labels_pred)
    tp = len(t & p)
    prec = tp / len(p) if p else 1.0
    rec = tp / len(t) if t else 1.0
    return {
        "precision": prec,
        "recall": rec,
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "true_pairs": len(t),
        "predicted_pairs": len(p),
    }


def evaluate(name: str, pred: dict, label: dict, severity: dict) -> dict:
    ids = sorted(label)
    out = {
        "method": name,
        "ari": ari([label[i] for i in ids], [pred[i] for i in ids]),
        **pairwise(label, pred),
    }
    by = defaultdict(list)
    for cid, sev in severity.items():
        by[sev].append(pred[cid] == pred[label[cid]])
    out["recall_by_severity"] = {
        s: {"copies": len(v), "joined_to_base": sum(v) / len(v)} for s, v in sorted(by.items())
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bases", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not reuters.available():
        raise SystemExit(f"Reuters-21578 not found at {reuters.DEFAULT_DIR}")
    cfg = Config()
    stories = list(reuters.stories())
    a_stats, truth = part_a(stories, cfg)
    print(
        f"A. Reuters-21578, exact truth: {a_stats['stories']} stories, {a_stats['pairs_scored_5gram']:,} pairs sharing "
        f"text scored exactly in {a_stats['seconds_exact']:.1f}s; dedupe {a_stats['seconds_dedupe']:.1f}s, "
        f"{a_stats['clusters']} clusters holding {a_stats['clustered']} stories"
    )
    print(f"   {'word 5-gram band':<22}{'pairs':>8}{'recall':>9}")
    for r in a_stats["bands_5gram"]:
        print(f"   {r['band']:<22}{r['pairs']:>8}{r['recall']:>9.4f}")
    print(
        f"   recall on pairs with exact word 5-gram Jaccard >= 0.8: {a_stats['recall_jaccard5_ge_0_8']:.4f} "
        f"({a_stats['pairs_jaccard5_ge_0_8']} pairs)"
    )
    print(
        f"   under the config's own rule: {a_stats['rule_true_pairs']} pairs pass, {a_stats['rule_template_pairs']} of "
        f"them templates (different figures); recall {a_stats['rule_recall_reprints']:.4f} on the others, "
        f"{a_stats['rule_recall_templates']:.4f} on templates"
    )
    print(
        f"   precision of the pairs clusters assert: {a_stats['precision_asserted_pairs']:.4f} "
        f"({a_stats['asserted_pairs']} pairs); clusters holding a pair with J < 0.2 and C < 0.3: "
        f"{a_stats['chained_clusters']} (each member matches its center)"
    )

    docs, label, severity = build_syndication(stories, truth, args.bases, args.seed)
    t0 = time.perf_counter()
    ours = evaluate("dedupe (defaults)", dedupe_clusters(docs, cfg), label, severity)
    t1 = time.perf_counter()
    peers = evaluate("text-dedup recipe (datasketch)", peers_clusters(docs), label, severity)
    t2 = time.perf_counter()
    ours["seconds"], peers["seconds"] = t1 - t0, t2 - t1
    n_copies = len(severity)
    print(
        f"\nB/C. Syndication benchmark: {len(docs)} documents ({args.bases} bases, {n_copies} reprints, "
        f"{len(docs) - args.bases - n_copies} distractors), seed {args.seed}"
    )
    print(
        f"   {'method':<32}{'ARI':>7}{'prec.':>8}{'recall':>8}{'F1':>8}{'light':>8}{'medium':>8}{'heavy':>8}{'sec':>7}"
    )
    for r in (ours, peers):
        sev = r["recall_by_severity"]
        print(
            f"   {r['method']:<32}{r['ari']:>7.4f}{r['precision']:>8.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}"
            + "".join(
                f"{sev.get(s, {}).get('joined_to_base', float('nan')):>8.4f}"
                for s in ("light", "medium", "heavy")
            )
            + f"{r['seconds']:>7.1f}"
        )
    print("   (light/medium/heavy: share of reprints of that severity put in their base story's cluster)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"reuters": a_stats, "syndication": [ours, peers], "seed": args.seed, "bases": args.bases},
                indent=2,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
