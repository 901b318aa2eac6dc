"""Writing a deduplicated corpus: one representative per cluster, and the mapping of what was removed.

Only documents the run processed are written: a record its report lists as skipped (a duplicate
id, a blank text, a text over ``input.max_chars``, a malformed line) is not. The corpus format
follows the output path: ``.jsonl`` or ``.csv`` (each kept JSONL or CSV input
record written back whole, with all its fields; a document read from a text file becomes
``id``, ``text`` and ``date`` when known), otherwise a directory of text files (a document whose
id is a safe relative path keeps it, others are named after their id).
The mapping has one record per removed document: ``removed``, ``kept`` (its cluster's
representative), ``cluster`` and the removed document's scores against the kept one; it is
JSON Lines, or CSV when its path ends in ``.csv``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import InputError
from .output import atomic_write
from .records import Document
from .result import Result

MAPPING_COLUMNS = [
    "removed",
    "kept",
    "cluster",
    "matched_to",
    "match",
    "relation",
    "jaccard",
    "jaccard_estimate",
    "containment_in_matched",
    "matched_contained",
]


@dataclass(frozen=True)
class DedupSummary:
    kept: int
    removed: int
    output: str
    mapping: str


def default_mapping_path(output: str) -> str:
    p = Path(output)
    stem = p.with_suffix("") if p.suffix.lower() in (".jsonl", ".csv", ".ndjson") else p
    return f"{stem}.mapping.jsonl"


def _safe_relpath(doc_id: str) -> str:
    """A relative path inside the output directory for a document id."""
    pure = PurePosixPath(doc_id)
    if doc_id and not pure.is_absolute() and ".." not in pure.parts and pure.suffix and "\\" not in doc_id:
        return str(pure)
    name = re.sub(r"[^\w.-]+", "_", doc_id).strip("._") or "document"
    return f"{name[:200]}.txt"


def _record(d: Document) -> dict:
    """The record to write back: the input record as read (all its fields), or id, text and date."""
    if isinstance(d.meta.get("record"), dict):
        return d.meta["record"]
    return {"id": d.id, "text": d.text, **({"date": d.meta["date"]} if "date" in d.meta else {})}


def processed(documents: Iterable[Document], max_chars: int | None) -> Iterator[Document]:
    """The documents the detector admitted, by the same rule (:class:`dedupe.pipeline.Intake`): the
    first one read with each id, unless its text is blank or too long. The others are listed in
    the report as skipped, and never written back."""
    from .pipeline import Intake

    taken = Intake(max_chars)
    for d in documents:
        if taken.admit(d.id, d.source, Intake.text_reason(d.text, max_chars)):
            yield d


def write_corpus(
    result: Result,
    documents: Iterable[Document],
    output: str,
    mapping: str | None = None,
    max_chars: int | None = None,
) -> DedupSummary:
    """Write the documents the result processed and kept (``documents``: the records read, in
    order; ``max_chars``: the intake's limit, ``input.max_chars``)."""
    removed = result.removed()
    known = {d.id for d in result.documents}
    kept_docs = [d for d in processed(documents, max_chars) if d.id not in removed and d.id in known]
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with atomic_write(out) as fh:
            for d in kept_docs:
                fh.write(json.dumps(_record(d), ensure_ascii=False) + "\n")
    elif suffix == ".csv":
        records = [_record(d) for d in kept_docs]
        columns = list(dict.fromkeys(k for r in records for k in r)) or ["id", "text"]
        with atomic_write(out, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
    else:
        if out.exists() and not out.is_dir():
            raise InputError(
                f"output {output} exists and is not a directory (use a .jsonl or .csv name for a file)"
            )
        used: set[str] = set()
        for d in kept_docs:
            rel = _safe_relpath(d.id)
            base, n = rel, 1
            while rel in used:
                n += 1
                root, ext = os.path.splitext(base)
                rel = f"{root}.{n}{ext}"
            used.add(rel)
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(target) as fh:
                fh.write(d.text)
    mapping = mapping or default_mapping_path(output)
    write_mapping(result, mapping)
    return DedupSummary(kept=len(kept_docs), removed=len(removed), output=output, mapping=mapping)


def mapping_rows(result: Result) -> list[dict]:
    """Each removed document, the one kept (its cluster's source), the document it was matched to
    and its scores against that one: scores that pass the rule ``match`` names."""
    rows = []
    for c in result.clusters:
        for s in c.scores:
            if s.id != c.representative:
                rows.append(
                    {
                        "removed": s.id,
                        "kept": c.representative,
                        "cluster": c.id,
                        "matched_to": s.matched_to,
                        "match": s.match,
                        "relation": s.relation,
                        "jaccard": round(s.jaccard, 6),
                        "jaccard_estimate": round(s.jaccard_estimate, 6),
                        "containment_in_matched": round(s.containment_in_matched, 6),
                        "matched_contained": round(s.matched_contained, 6),
                    }
                )
    rows.sort(key=lambda r: r["removed"])
    return rows


def write_mapping(result: Result, path: str) -> None:
    rows = mapping_rows(result)
    if path.lower().endswith(".csv"):
        with atomic_write(path, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=MAPPING_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    else:
        with atomic_write(path) as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
