"""The human-readable report: a summary, then each cluster with its members' scores."""

from __future__ import annotations

from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table

from ..result import Result

MAX_CLUSTERS = 50


def _pct(x: float) -> str:
    return f"{x:.2f}"


def write(result: Result, stream: IO[str], *, color: bool = False, width: int | None = None) -> None:
    console = Console(
        file=stream,
        force_terminal=color,
        no_color=not color,
        width=width or 100,
        highlight=False,
        soft_wrap=False,
    )
    p = result.params
    console.print(
        f"[bold]dedupe[/] {p['shingle']['kind']} {p['shingle']['size']}-grams, num_perm {p['minhash']['num_perm']}, "
        f"LSH {p['lsh']['bands']}x{p['lsh']['rows']} (threshold {p['lsh']['threshold']}), accept Jaccard >= "
        f"{p['verify']['jaccard_threshold']} or containment >= {p['verify']['containment_threshold']}"
    )
    clusters = sorted(result.clusters, key=lambda c: (-len(c.members), c.id))
    if not clusters:
        console.print("\nNo near-duplicate clusters.")
    for c in clusters[:MAX_CLUSTERS]:
        console.print(
            f"\n[bold]Cluster {c.id}[/]: {len(c.members)} documents, cohesion min {_pct(c.cohesion.min_jaccard)} "
            f"mean {_pct(c.cohesion.mean_jaccard)}{'' if c.cohesion.exact else ' (estimated)'}"
        )
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("document", overflow="fold")
        table.add_column("Jaccard", justify="right")
        table.add_column("est.", justify="right")
        table.add_column("in rep.", justify="right")
        table.add_column("rep. in it", justify="right")
        for s in c.scores:
            name = f"{s.id} (representative)" if s.id == c.representative else s.id
            if s.id == c.representative:
                table.add_row(name, "", "", "", "")
            else:
                table.add_row(
                    name,
                    _pct(s.jaccard),
                    _pct(s.jaccard_estimate),
                    _pct(s.containment_in_representative),
                    _pct(s.representative_contained),
                )
        console.print(table)
    if len(clusters) > MAX_CLUSTERS:
        console.print(f"\n... and {len(clusters) - MAX_CLUSTERS} more clusters (use --format json for all).")
    if result.skipped:
        console.print(f"\n[bold]Skipped[/] ({len(result.skipped)}):")
        for s in result.skipped[:20]:
            console.print(f"  {s.source}: {s.reason}", markup=False)
        if len(result.skipped) > 20:
            console.print(f"  ... and {len(result.skipped) - 20} more (use --format json for all).")
    console.print(f"\n{result.summary_line()}.")
