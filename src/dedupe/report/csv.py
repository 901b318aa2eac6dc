"""CSV: one row per (cluster, member): the document it was matched to, the rule that accepted the
pair and its scores against that document, and what it is to the cluster's source."""

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
    "matched_to",
    "match",
    "relation",
    "jaccard_estimate",
    "jaccard",
    "containment_in_matched",
    "matched_contained",
    "aligned_in_matched",
    "matched_aligned",
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
                    s.matched_to,
                    s.match or "",
                    s.relation,
                    f"{s.jaccard_estimate:.6f}",
                    f"{s.jaccard:.6f}",
                    f"{s.containment_in_matched:.6f}",
                    f"{s.matched_contained:.6f}",
                    f"{s.aligned_in_matched:.6f}",
                    f"{s.matched_aligned:.6f}",
                    f"{c.cohesion.min_jaccard:.6f}",
                    f"{c.cohesion.mean_jaccard:.6f}",
                ]
            )
