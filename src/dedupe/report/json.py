"""JSON (one document) and JSON Lines (one record per line, tagged with ``kind``)."""

from __future__ import annotations

import json
from typing import IO

from ..result import SCHEMA_VERSION, Result


def write_json(result: Result, stream: IO[str]) -> None:
    json.dump(result.to_dict(), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def write_jsonl(result: Result, stream: IO[str]) -> None:
    """Records in this order: header (schema_version, params), document, skipped, cluster, pair,
    passage, reuse_cluster, summary. Every record has a ``kind``."""
    data = result.to_dict()

    def emit(kind: str, record: dict) -> None:
        stream.write(json.dumps({"kind": kind, **record}, ensure_ascii=False))
        stream.write("\n")

    emit("header", {"schema_version": SCHEMA_VERSION, "params": data["params"]})
    for key, kind in (
        ("documents", "document"),
        ("skipped", "skipped"),
        ("clusters", "cluster"),
        ("pairs", "pair"),
        ("passages", "passage"),
        ("reuse_clusters", "reuse_cluster"),
    ):
        for record in data[key]:
            emit(kind, record)
    emit("summary", {**data["summary"], "stats": data["stats"]})
