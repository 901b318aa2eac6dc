"""JSON (one document) and JSON Lines (one record per line, tagged with ``kind``)."""

from __future__ import annotations

import json
from typing import IO

from ..result import SCHEMA_VERSION, Result, cluster_json, documents_json, pair_json


def write_json(result: Result, stream: IO[str]) -> None:
    """One JSON document, laid out for reading: one line per top-level key, and one line per item
    of each list. Each line is written by json's C encoder (``indent`` would switch to its
    pure-Python one, several times slower on large results)."""
    data = result.to_dict(records=False)
    encoded = {  # the long lists, each record encoded by its own writer
        "documents": documents_json(result.documents),
        "clusters": [cluster_json(c) for c in result.clusters],
        "pairs": [pair_json(p) for p in result.pairs],
        "passages": [p.to_json() for p in result.passages],
        "reuse_clusters": [c.to_json() for c in result.reuse_clusters],
    }
    data.update(encoded)
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder (json.dumps makes one a call)
    stream.write("{\n")
    for k, (key, value) in enumerate(data.items()):
        stream.write(f"  {json.dumps(key)}: ")
        if key in encoded and value:
            stream.write("[\n    ")
            stream.write(",\n    ".join(value))
            stream.write("\n  ]")
        elif isinstance(value, list) and value:
            stream.write("[\n    ")
            stream.write(",\n    ".join(map(encode, value)))
            stream.write("\n  ]")
        else:
            stream.write(encode(value))
        stream.write(",\n" if k < len(data) - 1 else "\n")
    stream.write("}\n")


def write_jsonl(result: Result, stream: IO[str]) -> None:
    """Records in this order: header (schema_version, params), document, skipped, cluster, pair,
    passage, reuse_cluster, summary. Every record has a ``kind``."""
    data = result.to_dict(records=False)
    encode = json.JSONEncoder(ensure_ascii=False).encode

    def emit(kind: str, record: dict) -> None:
        stream.write(encode({"kind": kind, **record}))
        stream.write("\n")

    emit("header", {"schema_version": SCHEMA_VERSION, "params": data["params"]})
    for line in documents_json(result.documents):
        stream.write(f'{{"kind": "document", {line[1:]}\n')
    for record in data["skipped"]:
        emit("skipped", record)
    for kind, lines in (
        ("cluster", map(cluster_json, result.clusters)),
        ("pair", map(pair_json, result.pairs)),
        ("passage", (p.to_json() for p in result.passages)),
        ("reuse_cluster", (c.to_json() for c in result.reuse_clusters)),
    ):
        for line in lines:
            stream.write(f'{{"kind": "{kind}", {line[1:]}\n')
    emit("summary", {**data["summary"], "stats": data["stats"]})
