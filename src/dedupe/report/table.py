"""The human-readable report: a summary, then each cluster with its members' scores."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table

from ..config import PROFILES
from ..records import MemberScore
from ..result import Result

MAX_CLUSTERS = 50
MAX_PASSAGES = 20
MAX_REUSE = 20
MAX_ROWS = 20  # rows of one cluster's, passage's or reuse cluster's table; the rest is counted


@dataclass(frozen=True)
class Limits:
    """How much of each section the table shows; the rest is counted ("... and 12 more")."""

    clusters: int = MAX_CLUSTERS
    passages: int = MAX_PASSAGES
    reuse: int = MAX_REUSE
    rows: int = MAX_ROWS
    skipped: int = 20

    @classmethod
    def of(cls, limit: int | None) -> Limits:
        """The defaults (None), the same cap for every section (``--limit N``), or none (0)."""
        if limit is None:
            return cls()
        n = limit if limit > 0 else sys.maxsize
        return cls(n, n, n, n, n)


def _table(*columns: str) -> Table:
    """A borderless table; a column named with a leading ">" is right-aligned (numbers)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in columns:
        if name.startswith(">"):
            table.add_column(name[1:], justify="right")
        else:
            table.add_column(name, overflow="fold")
    return table


def _broken_pipe() -> None:
    raise BrokenPipeError


def _pct(x: float) -> str:
    return f"{x:.2f}"


def write(
    result: Result,
    stream: IO[str],
    *,
    color: bool = False,
    width: int | None = None,
    limit: int | None = None,
) -> None:
    """The report for people; ``limit``: items shown per section (None: 50 clusters, 20 of the rest; 0: all)."""
    lim = Limits.of(limit)
    console = Console(
        file=stream,
        force_terminal=color,
        no_color=not color,
        width=width or 100,
        highlight=False,
        soft_wrap=False,
    )
    # rich answers a closed pipe by exiting 1 itself; let the caller decide instead
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    p = result.params
    console.print(
        f"[bold]dedupe[/] {p['shingle']['kind']} {p['shingle']['size']}-grams, {p['minhash']['num_perm']} permutations, "
        f"LSH {p['lsh']['bands']}x{p['lsh']['rows']}; {_rules(p)}",
        markup=True,
    )
    console.print("\n[bold underline]Near-duplicate clusters[/]")
    clusters = sorted(result.clusters, key=lambda c: (-len(c.members), c.id))
    if not clusters:
        console.print("\nNo near-duplicate clusters.")
    for c in clusters[: lim.clusters]:
        console.print(
            f"\n[bold]Cluster {c.id}[/]: {len(c.members)} documents, cohesion min {_pct(c.cohesion.min_jaccard)} "
            f"mean {_pct(c.cohesion.mean_jaccard)}{'' if c.cohesion.exact else ' (estimated)'}"
        )
        table = _table(
            "document", "matched to", "rule", ">Jaccard", ">in matched", ">matched in", "to the source"
        )
        for s in _source_first(c.scores, c.representative)[: lim.rows]:
            if s.id == c.representative:
                table.add_row(f"{s.id} (source)", "", "", "", "", "", "")
            else:
                table.add_row(
                    s.id,
                    "the source" if s.matched_to == c.representative else s.matched_to,
                    s.match or "",
                    _pct(s.jaccard),
                    _pct(s.containment_in_matched),
                    _pct(s.matched_contained),
                    _relation(s),
                )
        console.print(table)
        _more(console, len(c.scores), "members", lim.rows)
    if len(clusters) > lim.clusters:
        console.print(f"\n... and {len(clusters) - lim.clusters} more clusters ({MORE}).")
    if p["passages"]["enabled"]:
        _passages(console, result, lim)
        _reuse(console, result, lim)
    if result.skipped:
        console.print(f"\n[bold]Skipped[/] ({len(result.skipped)}):")
        for s in result.skipped[: lim.skipped]:
            console.print(f"  {s.source}: {s.reason}", markup=False)
        if len(result.skipped) > lim.skipped:
            console.print(f"  ... and {len(result.skipped) - lim.skipped} more ({MORE}).")
    console.print(f"\n{result.summary_line()}.")


def _source_first(scores: tuple[MemberScore, ...], source: str) -> list[MemberScore]:
    """A cluster's members, its source first, then by id."""
    return sorted(scores, key=lambda s: (s.id != source, s.id))


MORE = "--limit N shows more, --limit 0 all; --format json has everything"


def _more(console: Console, count: int, noun: str, shown: int) -> None:
    """The line that counts the rows a table left out (it shows ``shown``)."""
    if count > shown:
        console.print(f"... and {count - shown} more {noun} ({MORE}).")


def _rules(p: dict) -> str:
    """The rules that accept a pair, as the run's parameters hold them."""
    v = p["verify"]
    words = {
        "identical": "identical sets",
        "jaccard": f"Jaccard >= {v['jaccard_threshold']}",
        "containment": f"containment >= {v['containment_threshold']}",
        "aligned": f"aligned passages >= {v['aligned_threshold']} of the shorter text",
    }
    rules = PROFILES.get(v.get("profile", "syndication"), ())
    if not p["passages"]["enabled"]:
        rules = tuple(r for r in rules if r != "aligned")
    return "pairs are accepted by " + ", ".join(words[r] for r in rules)


def _relation(s: MemberScore) -> str:
    """What a member is to its cluster's source, in a few words."""
    if s.relation == "trimmed":
        return f"trimmed, keeps {_pct(s.kept)}"
    if s.relation == "extended":
        return f"extended, +{s.added_chars} chars" if s.added_chars else "extended"
    if s.relation == "edited":
        if not s.changed_words:
            return "edited"
        return f"edited, {s.changed_words} word{'s' if s.changed_words > 1 else ''} changed"
    return s.relation


def _snippet(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _passages(console: Console, result: Result, lim: Limits) -> None:
    console.print("\n[bold underline]Shared passages[/]")
    if not result.passages:
        console.print("No shared passages.")
        return
    for g in result.passages[: lim.passages]:
        kind = {"template": "template passage", "boilerplate": "boilerplate"}.get(
            g.category, "quotation" if g.quotation else "passage"
        )
        console.print(
            f"\n[bold]{kind.capitalize()} in {g.documents} documents[/]: \u201c{_snippet(g.text, 240)}\u201d",
            highlight=False,
        )
        table = _table("document", ">chars", ">sim.", "quoted", "text as printed")
        for o in g.occurrences[: lim.rows]:
            table.add_row(
                o.doc,
                f"{o.start}-{o.end}",
                _pct(o.similarity),
                "yes" if o.quoted else "",
                _snippet(o.text, 90),
            )
        console.print(table)
        _more(console, len(g.occurrences), "occurrences", lim.rows)
    if len(result.passages) > lim.passages:
        console.print(f"... and {len(result.passages) - lim.passages} more shared passages ({MORE}).")


def _reuse(console: Console, result: Result, lim: Limits) -> None:
    console.print("\n[bold underline]Reuse clusters[/] (documents sharing passages)")
    if not result.reuse_clusters:
        console.print("No reuse clusters.")
        return
    for c in sorted(result.reuse_clusters, key=lambda c: (-len(c.members), c.id))[: lim.reuse]:
        console.print(f"\n[bold]Reuse cluster {c.id}[/]: {len(c.members)} documents")
        table = _table("document a", "document b", ">shared chars", ">of a", ">of b")
        for pr in sorted(c.pairs, key=lambda p: -min(p.shared_chars_a, p.shared_chars_b))[: lim.rows]:
            table.add_row(
                pr.a,
                pr.b,
                f"{pr.shared_chars_a}/{pr.shared_chars_b}",
                f"{pr.fraction_a:.0%}",
                f"{pr.fraction_b:.0%}",
            )
        console.print(table)
        _more(console, len(c.pairs), "pairs", lim.rows)
    if len(result.reuse_clusters) > lim.reuse:
        console.print(f"... and {len(result.reuse_clusters) - lim.reuse} more reuse clusters ({MORE}).")
