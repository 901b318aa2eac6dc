"""CSV: one row per (cluster, member), with the member's scores against the representative."""

from __future__ import annotations

import csv
from typing import IO

from ..result import Result

COLUMNS = [
    "cluster_id",
    "cluster_size",
    "document_id",
    "is_representative",
    "representative",
    "jaccard_estimate",
    "jaccard",
    "containment_in_matched",
    "matched_contained",
    "cohesion_min_jaccard",
    "cohesion_mean_jaccard",
]


def write(result: Result, stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in result.clusters:
        for s in c.scores:
            writer.writerow(
                [
                    c.id,
                    len(c.members),
                    s.id,
                    int(s.id == c.representative),
                    c.representative,
                    f"{s.jaccard_estimate:.6f}",
                    f"{s.jaccard:.6f}",
                    f"{s.containment_in_matched:.6f}",
                    f"{s.matched_contained:.6f}",
                    f"{c.cohesion.min_jaccard:.6f}",
                    f"{c.cohesion.mean_jaccard:.6f}",
                ]
            )
