"""The HTML report: one self-contained file (inline CSS and JS, no network) to look at matches.

* a summary (documents read and skipped, clusters, passage groups, parameters);
* near-duplicate clusters, sortable by size and cohesion, each with its members' scores against
  the representative;
* shared passages, each occurrence shown in its sentence with the passage marked;
* reuse clusters;
* a side-by-side view of any two documents, opened from a cluster or a reuse pair, with the
  passages they share highlighted in the same colour, and numbered, in both texts.

Safety: the data travels as JSON inside ``<script type="application/json">`` (every ``<`` escaped), and
every piece of document text is put on the page with ``textContent``, never parsed as HTML, so a
document holding ``<script>`` or markup shows it as text. Scale: the largest ``MAX_CLUSTERS``
clusters, ``MAX_PASSAGES`` passage groups and ``MAX_REUSE`` reuse clusters are included (the
report says how many were left out), lists render 50 rows at a time, and document texts are
embedded only for documents that can be compared, each cut at ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from typing import IO, Any

from ..result import Result

MAX_CLUSTERS = 1000
MAX_PASSAGES = 1000
MAX_REUSE = 300
MAX_PAIRS = 100  # pairs shown per reuse cluster, most shared text first
MAX_OCCURRENCES = 50  # occurrences shown per passage group
MAX_TEXT = 20000
CONTEXT = 160


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    """The rest of the sentence before and after ``text[start:end]`` (up to CONTEXT characters)."""
    before = text[max(0, start - CONTEXT) : start]
    cut = max(before.rfind(". "), before.rfind("\n"), before.rfind("? "), before.rfind("! "))
    if cut >= 0:
        before = before[cut + 1 :].lstrip()
    after = text[end : end + CONTEXT]
    stops = [i for i in (after.find(". "), after.find("\n"), after.find("? "), after.find("! ")) if i >= 0]
    if stops:
        after = after[: min(stops) + 1]
    return before, after


def _first_words(text: str, limit: int = 90) -> str:
    """The start of a text, cut at a word boundary with an ellipsis: what a cluster is about."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > 0 else limit] + "\u2026"


def build_data(result: Result, texts: Mapping[str, str]) -> dict[str, Any]:
    clusters = sorted(result.clusters, key=lambda c: (-len(c.members), c.id))
    passages = result.passages  # already most widely reused first
    reuse = sorted(result.reuse_clusters, key=lambda c: (-len(c.members), c.id))
    shown_clusters, shown_passages, shown_reuse = (
        clusters[:MAX_CLUSTERS],
        passages[:MAX_PASSAGES],
        reuse[:MAX_REUSE],
    )
    reuse_pairs = {
        c.id: sorted(c.pairs, key=lambda p: (-min(p.shared_chars_a, p.shared_chars_b), p.a, p.b))[:MAX_PAIRS]
        for c in shown_reuse
    }
    comparable: set[str] = {m for c in shown_clusters for m in c.members}
    comparable |= {d for pairs in reuse_pairs.values() for p in pairs for d in (p.a, p.b)}
    spans: dict[str, list[list[int]]] = defaultdict(list)
    for gi, g in enumerate(passages):
        for o in g.occurrences:
            if o.doc in comparable and o.start < MAX_TEXT:
                spans[o.doc].append([o.start, min(o.end, MAX_TEXT), gi])
    data = {
        "summary": {
            "documents_read": result.documents_read,
            "documents": len(result.documents),
            "skipped": len(result.skipped),
            "clusters": len(result.clusters),
            "clustered": result.clustered,
            "passage_groups": len(result.passages),
            "reuse_clusters": len(result.reuse_clusters),
        },
        "params": result.params,
        "skipped": [{"source": s.source, "reason": s.reason} for s in result.skipped[:200]],
        "omitted": {
            "clusters": len(clusters) - len(shown_clusters),
            "passages": len(passages) - len(shown_passages),
            "reuse": len(reuse) - len(shown_reuse),
            "skipped": max(0, len(result.skipped) - 200),
        },
        "clusters": [
            {
                "id": c.id,
                "rep": c.representative,
                "title": _first_words(texts.get(c.representative, "")),
                "min": round(c.cohesion.min_jaccard, 4),
                "mean": round(c.cohesion.mean_jaccard, 4),
                "exact": c.cohesion.exact,
                "members": [
                    [
                        s.id,
                        round(s.jaccard, 4),
                        round(s.jaccard_estimate, 4),
                        round(s.containment_in_matched, 4),
                        round(s.matched_contained, 4),
                        s.matched_to,
                        s.match,
                        s.relation,
                        [[k, a, b] for k, a, b in s.differences if a < MAX_TEXT],
                    ]
                    for s in c.scores
                ],
            }
            for c in shown_clusters
        ],
        "passages": [],
        "reuse": [
            {
                "id": c.id,
                "members": list(c.members),
                "pairs": [
                    [
                        p.a,
                        p.b,
                        p.shared_chars_a,
                        p.shared_chars_b,
                        round(p.fraction_a, 4),
                        round(p.fraction_b, 4),
                    ]
                    for p in reuse_pairs[c.id]
                ],
                "more_pairs": len(c.pairs) - len(reuse_pairs[c.id]),
            }
            for c in shown_reuse
        ],
        "docs": {d: texts.get(d, "")[:MAX_TEXT] for d in sorted(comparable)},
        "truncated": sorted(d for d in comparable if len(texts.get(d, "")) > MAX_TEXT),
        "spans": {d: sorted(v) for d, v in spans.items()},
    }
    for g in shown_passages:
        occ = []
        for o in g.occurrences[:MAX_OCCURRENCES]:
            before, after = _context(texts.get(o.doc, ""), o.start, o.end)
            occ.append([o.doc, o.start, o.end, round(o.similarity, 4), o.quoted, before, o.text, after])
        data["passages"].append(
            {
                "id": g.id,
                "text": g.text,
                "quotation": g.quotation,
                "documents": g.documents,
                "occ": occ,
                "more": len(g.occurrences) - len(occ),
            }
        )
    return data


def write(result: Result, stream: IO[str], texts: Mapping[str, str] | None = None) -> None:
    data = json.dumps(build_data(result, texts or {}), ensure_ascii=False, separators=(",", ":"))
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" or "<!--" can end the block
    data = data.replace("<", "\\u003c")
    stream.write(PAGE.replace("__DATA__", data))


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>dedupe report</title>
<style>
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --accent:#0550ae; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 1px solid var(--line); padding-top: .5rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
nav a { margin-right: 1rem; color: var(--accent); }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: .5rem; }
dl.stats div { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .6rem; }
dl.stats dt { color: var(--muted); font-size: .85rem; } dl.stats dd { margin: 0; font-size: 1.2rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; background: none; border: 0; cursor: pointer; padding: 0; color: var(--fg); }
button { font: inherit; cursor: pointer; }
button.link { background: none; border: 1px solid var(--line); border-radius: 4px; padding: .1rem .5rem; color: var(--accent); }
button:focus-visible, a:focus-visible, summary:focus-visible { outline: 3px solid #fb8500; outline-offset: 2px; }
.muted { color: var(--muted); }
blockquote { margin: .3rem 0; padding: .3rem .8rem; border-left: 4px solid var(--accent); background: #f6f8fa; }
article.group { border: 1px solid var(--line); border-radius: 8px; padding: .5rem .8rem; margin: .8rem 0; }
.tag { display: inline-block; font-size: .75rem; border: 1px solid currentColor; border-radius: 10px; padding: 0 .4rem; margin-left: .3rem; }
mark { background: #fff3b0; border-bottom: 2px solid #9a6700; padding: 0 1px; }
mark[data-n]::before { content: "[" attr(data-n) "] "; font-size: .7em; font-weight: 700; vertical-align: super; }
.c0 { background:#ffe8a3; border-bottom:2px solid #9a6700; } .c1 { background:#c8e6ff; border-bottom:2px dashed #0550ae; }
.c2 { background:#d3f5d3; border-bottom:2px dotted #1a7f37; } .c3 { background:#ffd6e8; border-bottom:2px double #bf3989; }
.c4 { background:#e6dcff; border-bottom:2px solid #6639ba; } .c5 { background:#ffe0cc; border-bottom:2px dashed #bc4c00; }
.c6 { background:#d0f4f0; border-bottom:2px dotted #0f766e; } .c7 { background:#eeeeee; border-bottom:2px double #444; }
#compare { border: 2px solid var(--accent); border-radius: 8px; padding: .5rem 1rem; margin: 1rem 0; }
#compare[hidden] { display: none; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
pre.doc { white-space: pre-wrap; word-wrap: break-word; font: inherit; max-height: 70vh; overflow: auto; border: 1px solid var(--line); padding: .5rem; margin: 0; }
del.diff { background: #ffd7d5; color: inherit; text-decoration: line-through; }
ins.diff { background: #d2f4d3; text-decoration: underline; }
ins.diff.changed { background: #ffe8b3; }
@media (max-width: 800px) { .sides { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
<h1>dedupe report</h1>
<p id="headline" class="muted"></p>
<nav aria-label="Sections"><a href="#summary">Summary</a><a href="#clusters">Near-duplicate clusters</a><a href="#passages">Shared passages</a><a href="#reuse">Reuse clusters</a></nav>
</header>
<main>
<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2><dl class="stats" id="stats"></dl>
<details><summary>Parameters</summary><pre id="params"></pre></details>
<details id="skipped-box"><summary>Skipped inputs</summary><ul id="skipped"></ul></details>
</section>
<section id="compare" hidden aria-live="polite" aria-labelledby="h-compare" tabindex="-1">
<h2 id="h-compare">Side by side</h2>
<p id="compare-legend" class="muted"></p>
<div class="sides"><article aria-labelledby="ca"><h3 id="ca"></h3><pre class="doc" id="da"></pre></article>
<article aria-labelledby="cb"><h3 id="cb"></h3><pre class="doc" id="db"></pre></article></div>
<p><button type="button" class="link" id="close-compare">Close</button></p>
</section>
<section id="clusters" aria-labelledby="h-clusters"><h2 id="h-clusters">Near-duplicate clusters</h2>
<p class="muted" id="clusters-note"></p>
<table id="cluster-table"><caption class="muted">Each member is scored against the document it matched, by the rule named; its relation is to the cluster's source. Sort by a column header.</caption>
<thead><tr><th scope="col">cluster</th><th scope="col" class="num" aria-sort="descending"><button type="button" data-sort="size">size</button></th>
<th scope="col">source</th><th scope="col" class="num" aria-sort="none"><button type="button" data-sort="min">min Jaccard</button></th>
<th scope="col" class="num" aria-sort="none"><button type="button" data-sort="mean">mean Jaccard</button></th><th scope="col">members</th></tr></thead>
<tbody></tbody></table>
<p><button type="button" class="link" id="more-clusters">Show more clusters</button></p>
</section>
<section id="passages" aria-labelledby="h-passages"><h2 id="h-passages">Shared passages</h2>
<p class="muted" id="passages-note"></p><div id="passage-list"></div>
<p><button type="button" class="link" id="more-passages">Show more passages</button></p>
</section>
<section id="reuse" aria-labelledby="h-reuse"><h2 id="h-reuse">Reuse clusters</h2>
<p class="muted" id="reuse-note"></p><div id="reuse-list"></div>
<p><button type="button" class="link" id="more-reuse">Show more reuse clusters</button></p>
</section>
</main>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const PAGE = 50;
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) { if (k === "text") e.textContent = v; else e.setAttribute(k, v); }
  for (const k of kids) e.append(k);
  return e;
}
const fmt = (x) => Number(x).toFixed(2);
const pct = (x) => Math.round(100 * x) + "%";

function summary() {
  const s = D.summary;
  const n = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;  // as Result.summary_line
  document.getElementById("headline").textContent =
    `${n(s.documents_read, "document")} read (${s.documents} processed, ${s.skipped} skipped); ` +
    `${n(s.clusters, "near-duplicate cluster")} holding ${n(s.clustered, "document")}; ` +
    `${n(s.passage_groups, "shared passage")}; ${n(s.reuse_clusters, "reuse cluster")}.`;
  const labels = [["documents_read", "documents read"], ["documents", "processed"], ["skipped", "skipped"],
    ["clusters", "near-duplicate clusters"], ["clustered", "documents clustered"], ["passage_groups", "shared passages"],
    ["reuse_clusters", "reuse clusters"]];
  const dl = document.getElementById("stats");
  for (const [k, label] of labels) dl.append(el("div", {}, el("dt", {text: label}), el("dd", {text: String(s[k])})));
  const p = D.params;
  document.getElementById("params").textContent = JSON.stringify(p, null, 2);
  const ul = document.getElementById("skipped");
  for (const sk of D.skipped) ul.append(el("li", {text: `${sk.source}: ${sk.reason}`}));
  if (!D.skipped.length) document.getElementById("skipped-box").hidden = true;
  if (D.omitted.skipped) ul.append(el("li", {text: `... and ${D.omitted.skipped} more (see the JSON report)`}));
}

// ---- side by side ----
function shared(a, b) {
  const groupsB = new Set((D.spans[b] || []).map((x) => x[2]));
  const groupsA = new Set((D.spans[a] || []).map((x) => x[2]));
  const common = [...groupsA].filter((g) => groupsB.has(g)).sort((x, y) => x - y);
  const number = new Map(common.map((g, i) => [g, i]));
  return number;
}
function outside(start, end, cuts) {
  // the parts of [start, end) that no cut [a, b) covers (cuts sorted by start)
  const out = [];
  let at = start;
  for (const [a, b] of cuts) {
    if (b <= at || a >= end) continue;
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
  }
  if (at < end) out.push([at, end]);
  return out;
}
const DIFF_TITLE = {dropped: "dropped from the source", added: "added by this member", changed: "changed from the source"};
function paint(pre, doc, number, diffs) {
  // what differs (diffs: [kind, start, end]) over the shared passages, which fill the rest
  pre.textContent = "";
  const text = D.docs[doc] || "";
  const marks = (diffs || []).map(([k, s, e]) => [s, e, k]).sort((x, y) => x[0] - y[0]);
  for (const [start, end, g] of (D.spans[doc] || []).filter((s) => number.has(s[2]))) {
    for (const [s, e] of outside(start, end, marks)) marks.push([s, e, g]);
  }
  marks.sort((x, y) => x[0] - y[0]);
  const numbered = new Set();  // a passage cut by differences is numbered at its first piece
  let at = 0;
  for (const [start, end, g] of marks) {
    if (start < at) continue;
    pre.append(document.createTextNode(text.slice(at, start)));
    const piece = text.slice(start, end);
    if (typeof g === "string") {
      pre.append(g === "dropped" ? el("del", {class: "diff", title: DIFF_TITLE[g], text: piece})
        : el("ins", {class: "diff" + (g === "changed" ? " changed" : ""), title: DIFF_TITLE[g], text: piece}));
    } else {
      const n = number.get(g);
      const attrs = {class: "c" + (n % 8), title: "shared passage " + (n + 1), text: piece};
      if (!numbered.has(g)) attrs["data-n"] = String(n + 1);
      numbered.add(g);
      pre.append(el("mark", attrs));
    }
    at = end;
  }
  pre.append(document.createTextNode(text.slice(at)));
  if (D.truncated.includes(doc)) pre.append(el("em", {text: "\\n[text cut for the report]"}));
}
function compare(a, b, member) {
  // member: a cluster member compared with its source a (b is the member): what differs is shown
  const box = document.getElementById("compare");
  const number = shared(a, b);
  const diffs = member ? member[8] : [];
  document.getElementById("ca").textContent = a;
  document.getElementById("cb").textContent = b;
  paint(document.getElementById("da"), a, number, diffs.filter((d) => d[0] === "dropped"));
  paint(document.getElementById("db"), b, number, diffs.filter((d) => d[0] !== "dropped"));
  const parts = [];
  if (member) parts.push(`${b} is ${member[7]} against the source ${a}` + (diffs.length
    ? ": text dropped from the source is struck through, text added by the member underlined in green, changed words underlined in orange."
    : "."));
  parts.push(number.size
    ? (number.size === 1 ? "One shared passage, numbered and coloured alike in both texts."
      : `${number.size} shared passages, numbered and coloured alike in both texts.`)
    : "No shared passage was found between these two documents (passage detection may be off).");
  document.getElementById("compare-legend").textContent = parts.join(" ");
  box.hidden = false;
  box.focus();
  box.scrollIntoView({block: "start"});
}
document.getElementById("close-compare").addEventListener("click", () => { document.getElementById("compare").hidden = true; });

// ---- clusters ----
let clusterOrder = D.clusters.map((c, i) => i), shownClusters = 0;
function clusterRow(c) {
  const tr = el("tr", {});
  const source = el("td", {}, el("div", {text: c.rep}));
  if (c.title) source.append(el("div", {class: "muted", text: c.title}));
  tr.append(el("td", {text: c.id}), el("td", {class: "num", text: String(c.members.length)}), source,
    el("td", {class: "num", text: fmt(c.min) + (c.exact ? "" : "*")}), el("td", {class: "num", text: fmt(c.mean)}));
  const cell = el("td", {});
  const details = el("details", {});
  details.append(el("summary", {text: "members and scores"}));
  const t = el("table", {});
  t.append(el("thead", {}, el("tr", {}, el("th", {scope: "col", text: "document"}), el("th", {scope: "col", text: "matched to"}),
    el("th", {scope: "col", text: "rule"}), el("th", {scope: "col", class: "num", text: "Jaccard"}),
    el("th", {scope: "col", class: "num", text: "in matched"}), el("th", {scope: "col", class: "num", text: "matched in"}),
    el("th", {scope: "col", text: "to the source"}), el("th", {scope: "col", text: ""}))));
  const body = el("tbody", {});
  for (const m of c.members) {
    const [id, j, est, cin, rin, matched, rule, relation] = m;
    const isRep = id === c.rep;
    const btn = isRep ? el("span", {class: "muted", text: "source"})
      : el("button", {type: "button", class: "link", text: "compare with representative"});
    if (!isRep) btn.addEventListener("click", () => compare(c.rep, id, m));
    body.append(el("tr", {}, el("td", {text: id}), el("td", {text: isRep ? "" : (matched === c.rep ? "the source" : matched)}),
      el("td", {text: isRep ? "" : (rule || "")}), el("td", {class: "num", text: isRep ? "" : fmt(j)}),
      el("td", {class: "num", text: isRep ? "" : fmt(cin)}), el("td", {class: "num", text: isRep ? "" : fmt(rin)}),
      el("td", {text: isRep ? "" : relation}), el("td", {}, btn)));
  }
  t.append(body);
  details.append(t);
  if (c.members.length > 2) {
    const pick = el("p", {});
    const sa = el("select", {"aria-label": "first document"}), sb = el("select", {"aria-label": "second document"});
    for (const [id] of c.members) { sa.append(el("option", {value: id, text: id})); sb.append(el("option", {value: id, text: id})); }
    sb.selectedIndex = 1;
    const go = el("button", {type: "button", class: "link", text: "compare these two"});
    go.addEventListener("click", () => compare(sa.value, sb.value));
    pick.append("Compare any two: ", sa, " ", sb, " ", go);
    details.append(pick);
  }
  cell.append(details);
  tr.append(cell);
  return tr;
}
function renderClusters(reset) {
  const tbody = document.querySelector("#cluster-table tbody");
  if (reset) { tbody.textContent = ""; shownClusters = 0; }
  const end = Math.min(clusterOrder.length, shownClusters + PAGE);
  for (let i = shownClusters; i < end; i++) tbody.append(clusterRow(D.clusters[clusterOrder[i]]));
  shownClusters = end;
  document.getElementById("more-clusters").hidden = shownClusters >= clusterOrder.length;
  document.getElementById("cluster-table").hidden = !D.clusters.length;
  document.getElementById("clusters-note").textContent = D.clusters.length
    ? `Showing ${shownClusters} of ${D.clusters.length} clusters` + (D.omitted.clusters ? ` (${D.omitted.clusters} smaller clusters are only in the JSON report).` : ".") +
      " * marks cohesion estimated from signatures."
    : "No near-duplicate clusters.";
}
document.getElementById("more-clusters").addEventListener("click", () => renderClusters(false));
for (const b of document.querySelectorAll("#cluster-table th button")) {
  b.addEventListener("click", () => {
    const key = b.dataset.sort, th = b.parentElement;
    const desc = th.getAttribute("aria-sort") !== "descending";
    for (const other of document.querySelectorAll("#cluster-table th[aria-sort]")) other.setAttribute("aria-sort", "none");
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    const v = (c) => key === "size" ? c.members.length : c[key];
    clusterOrder.sort((x, y) => (desc ? -1 : 1) * (v(D.clusters[x]) - v(D.clusters[y])) || D.clusters[x].id.localeCompare(D.clusters[y].id));
    renderClusters(true);
  });
}

// ---- passages ----
let shownPassages = 0;
function passageBlock(g, gi) {
  const art = el("article", {class: "group", "aria-labelledby": "pg" + gi});
  const h = el("h3", {id: "pg" + gi, text: `${g.quotation ? "Quotation" : "Passage"} in ${g.documents} documents`});
  if (g.quotation) h.append(el("span", {class: "tag", text: "quoted"}));
  art.append(h, el("blockquote", {text: g.text}));
  const t = el("table", {});
  t.append(el("thead", {}, el("tr", {}, el("th", {scope: "col", text: "document"}), el("th", {scope: "col", class: "num", text: "characters"}),
    el("th", {scope: "col", class: "num", text: "similarity"}), el("th", {scope: "col", text: "quoted"}), el("th", {scope: "col", text: "in context"}))));
  const body = el("tbody", {});
  for (const [doc, start, end, sim, quoted, before, text, after] of g.occ) {
    const ctx = el("td", {class: "context"}, document.createTextNode(before), el("mark", {text: text}), document.createTextNode(after));
    body.append(el("tr", {}, el("td", {text: doc}), el("td", {class: "num", text: `${start}-${end}`}),
      el("td", {class: "num", text: fmt(sim)}), el("td", {text: quoted ? "yes" : "no"}), ctx));
  }
  t.append(body);
  art.append(t);
  if (g.more) art.append(el("p", {class: "muted", text: `... and ${g.more} more occurrences in the JSON report.`}));
  return art;
}
function renderPassages() {
  const list = document.getElementById("passage-list");
  const end = Math.min(D.passages.length, shownPassages + PAGE);
  for (let i = shownPassages; i < end; i++) list.append(passageBlock(D.passages[i], i));
  shownPassages = end;
  document.getElementById("more-passages").hidden = shownPassages >= D.passages.length;
  document.getElementById("passages-note").textContent = D.passages.length
    ? `Showing ${shownPassages} of ${D.passages.length} passage groups, most widely reused first` + (D.omitted.passages ? ` (${D.omitted.passages} more in the JSON report).` : ".")
    : "No shared passages.";
}
document.getElementById("more-passages").addEventListener("click", renderPassages);

// ---- reuse clusters ----
let shownReuse = 0;
function reuseBlock(c) {
  const art = el("article", {class: "group"});
  art.append(el("h3", {text: `Reuse cluster ${c.id}: ${c.members.length} documents`}));
  const t = el("table", {});
  t.append(el("thead", {}, el("tr", {}, el("th", {scope: "col", text: "document a"}), el("th", {scope: "col", text: "document b"}),
    el("th", {scope: "col", class: "num", text: "shared characters"}), el("th", {scope: "col", class: "num", text: "of a"}),
    el("th", {scope: "col", class: "num", text: "of b"}), el("th", {scope: "col", text: ""}))));
  const body = el("tbody", {});
  for (const [a, b, sa, sb, fa, fb] of c.pairs) {
    const btn = el("button", {type: "button", class: "link", text: "compare side by side"});
    btn.addEventListener("click", () => compare(a, b));
    body.append(el("tr", {}, el("td", {text: a}), el("td", {text: b}), el("td", {class: "num", text: `${sa}/${sb}`}),
      el("td", {class: "num", text: pct(fa)}), el("td", {class: "num", text: pct(fb)}), el("td", {}, btn)));
  }
  t.append(body);
  art.append(t);
  if (c.more_pairs) art.append(el("p", {class: "muted", text: `... and ${c.more_pairs} more pairs in the JSON report.`}));
  return art;
}
function renderReuse() {
  const list = document.getElementById("reuse-list");
  const end = Math.min(D.reuse.length, shownReuse + PAGE);
  for (let i = shownReuse; i < end; i++) list.append(reuseBlock(D.reuse[i]));
  shownReuse = end;
  document.getElementById("more-reuse").hidden = shownReuse >= D.reuse.length;
  document.getElementById("reuse-note").textContent = D.reuse.length
    ? `Showing ${shownReuse} of ${D.reuse.length} reuse clusters` + (D.omitted.reuse ? ` (${D.omitted.reuse} more in the JSON report).` : ".")
    : "No reuse clusters.";
}
document.getElementById("more-reuse").addEventListener("click", renderReuse);

summary();
renderClusters(true);
renderPassages();
renderReuse();
</script>
</body>
</html>
"""
