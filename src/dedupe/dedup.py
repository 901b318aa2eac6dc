"""Writing a deduplicated corpus: one representative per cluster, and the mapping of what was removed.

Only documents the run processed are written: a record its report lists as skipped (a duplicate
id, a blank text, a text over ``input.max_chars``, a malformed line) is not. The corpus format
follows the output path (:func:`corpus_format`): ``.jsonl``, ``.ndjson`` or ``.csv``, each maybe
compressed (``.gz``, ``.zst``, ``.bz2``, ``.xz``), or ``.parquet`` (each kept input record written
back whole, with all its fields; a document read from a text file becomes ``id``, ``text`` and
``date`` when known); a name without a suffix, or a directory, is a directory of text files (a
document whose id is a safe relative path keeps it, others are named after their id), built
beside it and moved into place whole. Any other suffix is refused. Every write is atomic.
The mapping has one record per removed document: ``removed``, ``kept`` (its cluster's
representative), ``cluster`` and the removed document's scores against the kept one; it is
JSON Lines, or CSV when its path ends in ``.csv``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ConfigError, InputError
from .interrupts import checkpoint
from .output import COMPRESSIONS, OUTPUT_ERRORS, _as_output_error, _umask, atomic_binary, atomic_write
from .records import Document
from .result import Result
from .sources import RECORD_FORMATS, _format_suffix

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
    "aligned_in_matched",
    "matched_aligned",
]


@dataclass(frozen=True)
class DedupSummary:
    kept: int
    removed: int
    output: str
    mapping: str


CORPUS_FORMATS = (".jsonl", ".ndjson", ".csv", ".parquet")
MARKER = ".dedupe-corpus"  # in a directory dedup wrote: the next run may replace it


def corpus_format(output: str) -> tuple[str, str | None]:
    """The format an output path asks for: ``(".jsonl" | ".ndjson" | ".csv" | ".parquet" | "dir",
    compression or None)``. A name ending in a compression suffix is compressed (``clean.jsonl.gz``,
    ``clean.csv.zst``); a directory, or a name without a suffix, is a directory of text files.
    Any other suffix is an error, never a guess."""
    p = Path(output)
    if output.endswith(("/", os.sep)) or p.is_dir():
        return "dir", None
    suffixes = [x.lower() for x in p.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes.pop()
    fmt = suffixes[-1] if suffixes else ""
    if fmt in CORPUS_FORMATS and not (fmt == ".parquet" and compression):
        return fmt, compression
    if not fmt and not compression:
        return "dir", None
    raise ConfigError(
        f"--output {output}: unknown format {''.join(p.suffixes)!r}; write .jsonl, .csv (either maybe "
        ".gz, .zst, .bz2 or .xz), .parquet, or a directory of text files (a name without a suffix, or "
        "one ending in /)"
    )


def default_mapping_path(output: str) -> str:
    p = Path(output)
    stem = str(p).rstrip("/" + os.sep)
    while Path(stem).suffix.lower() in (*CORPUS_FORMATS, *COMPRESSIONS):
        stem = stem[: -len(Path(stem).suffix)]
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
    fmt, compression = corpus_format(output)
    if fmt != "dir":
        _write_records(out, fmt, compression, kept_docs)
    else:
        _write_directory(out, output, kept_docs)
    mapping = mapping or default_mapping_path(output)
    write_mapping(result, mapping)
    return DedupSummary(kept=len(kept_docs), removed=len(removed), output=output, mapping=mapping)


def _json_default(value: object) -> object:
    """A value JSON has no type for, as Parquet columns hold them: dates and times in ISO 8601,
    bytes as base64, decimals and the rest as their text."""
    import base64
    import datetime as dt

    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, default=_json_default)


def _write_records(out: Path, fmt: str, compression: str | None, docs: list[Document]) -> None:
    """The documents' input records, whole, as JSON Lines or CSV (either maybe compressed) or Parquet."""
    if fmt in (".jsonl", ".ndjson"):
        with atomic_write(out, compression=compression) as fh:
            for d in docs:
                fh.write(_json(_record(d)) + "\n")
    elif fmt == ".csv":
        records = [_record(d) for d in docs]
        columns = list(dict.fromkeys(k for r in records for k in r)) or ["id", "text"]
        with atomic_write(out, newline="", compression=compression) as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in r.items()} for r in records)
    else:
        _write_parquet(out, [_record(d) for d in docs])


def _cell(value: object) -> object:
    """A record's value as a CSV cell: nested values as JSON, null as empty, other types as JSON
    writes them (:func:`_json_default`)."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return _json(value)  # type: ignore[arg-type]
    if isinstance(value, (str, int, float, bool)):
        return value
    return _json_default(value)


def _write_parquet(out: Path, records: list[dict]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(
            f"--output {out}: writing Parquet needs pyarrow: pip install 'dedupe-text[parquet]' (or, in a clone, pip install -e '.[parquet]')"
        ) from None
    # every field of every record (from_pylist reads the first record's keys only), null where absent
    columns = list(dict.fromkeys(k for r in records for k in r)) or ["id", "text"]
    try:
        table = pa.table(
            {k: pa.array([r.get(k) for r in records], None if records else pa.string()) for k in columns}
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as err:
        raise ConfigError(
            f"--output {out}: the records do not fit one Parquet schema ({err}); write .jsonl instead"
        ) from None
    try:
        with atomic_binary(out) as fh:
            pq.write_table(table, fh)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
        raise ConfigError(
            f"--output {out}: cannot write these records as Parquet ({err}); write .jsonl instead"
        ) from None


def _write_directory(out: Path, output: str, docs: list[Document]) -> None:
    """One text file a document (a document whose id is a safe relative path keeps it)."""

    def fill(tmp: Path) -> None:
        used: set[str] = set()
        for d in docs:
            rel = _safe_relpath(d.id)
            base, n = rel, 1
            while rel in used:
                n += 1
                root, ext = os.path.splitext(base)
                rel = f"{root}.{n}{ext}"
            used.add(rel)
            target = tmp / rel
            with _as_output_error(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(d.text, encoding="utf-8", errors=OUTPUT_ERRORS)

    _replace_directory(out, output, fill)


def shard_of(doc: Document) -> str:
    """The input file a document was read from: its source without the line or row number that
    follows a record file's name (``dump/a.jsonl:12`` -> ``dump/a.jsonl``), or its source."""
    head, _, tail = doc.source.rpartition(":")
    if head and tail.isdigit() and (head == "<stdin>" or _format_suffix(Path(head)) in RECORD_FORMATS):
        return head
    return doc.source


def write_shards(
    result: Result,
    documents: Iterable[Document],
    output: str,
    inputs: list[str],
    mapping: str | None = None,
    max_chars: int | None = None,
) -> DedupSummary:
    """The kept documents written as the input shards were laid out (``--shards``): each record
    into the file of the same relative path and format (compression included) under ``output``,
    in input order; a text file as a text file. ``inputs``: the paths the run read (a directory's
    shards keep their paths in it, a file its name)."""
    out = Path(output)
    removed = result.removed()
    known = {d.id for d in result.documents}
    kept = [d for d in processed(documents, max_chars) if d.id not in removed and d.id in known]
    roots = [os.path.normpath(p) for p in inputs if os.path.isdir(p)]
    by_shard: dict[str, list[Document]] = {}
    named: dict[str, str] = {}  # output path -> the shard it holds: two shards never share one
    for d in kept:
        shard = os.path.normpath(shard_of(d))
        rel = named.get(shard)
        if rel is None:
            rel = _unique(_relative(shard, roots), set(named.values()))
            named[shard] = rel
        by_shard.setdefault(rel, []).append(d)

    def fill(tmp: Path) -> None:
        for rel, docs in by_shard.items():
            target = tmp / rel
            with _as_output_error(target):
                target.parent.mkdir(parents=True, exist_ok=True)
            fmt = _format_suffix(target)
            compression = COMPRESSIONS.get(target.suffix.lower())
            if fmt in CORPUS_FORMATS:
                _write_records(target, fmt, compression, docs)
            else:  # a text file (maybe compressed): one document
                with atomic_write(target, compression=compression) as fh:
                    fh.write(docs[0].text)

    _replace_directory(out, output, fill)
    mapping = mapping or default_mapping_path(output)
    write_mapping(result, mapping)
    return DedupSummary(kept=len(kept), removed=len(removed), output=output, mapping=mapping)


def _relative(shard: str, roots: list[str]) -> str:
    """A shard's path under the output: its path in the input directory it was found in (the
    current directory, given as ``.``, included), else the path given, made relative
    (standard input: ``stdin.jsonl``)."""
    if shard == "<stdin>":
        return "stdin.jsonl"
    for root in roots:
        if root == "." and not os.path.isabs(shard) and not shard.startswith(".."):
            return shard
        if shard.startswith(root.rstrip(os.sep) + os.sep):
            return shard[len(root.rstrip(os.sep)) + 1 :]
    parts = [x for x in Path(shard).parts if x not in (os.sep, "..", ".") and not x.endswith(":")]
    return str(Path(*parts)) if parts else Path(shard).name


def _unique(rel: str, taken: set[str]) -> str:
    """``rel``, or ``name.2.ext``, ``name.3.ext``, ... when another shard has it already."""
    if rel not in taken:
        return rel
    root, ext = os.path.splitext(rel)
    n = 2
    while f"{root}.{n}{ext}" in taken:
        n += 1
    return f"{root}.{n}{ext}"


def _replace_directory(out: Path, output: str, fill: Callable[[Path], None]) -> None:
    """A directory output: ``fill(tmp)`` writes it in a new directory beside ``out``, moved into
    place when complete: an interrupted run leaves the old directory (or none), never half. A
    non-empty directory dedup did not write is refused (it would be replaced whole)."""
    if out.exists() and not out.is_dir():
        raise InputError(
            f"output {output} exists and is not a directory (use a .jsonl or .csv name for a file)"
        )
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(
            f"--output {output}: directory exists and is not an earlier dedup output: give a new or "
            "empty directory (it is replaced whole)"
        )
    parent = out.parent if str(out.parent) else Path(".")
    with _as_output_error(out):
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    try:
        fill(tmp)
        with _as_output_error(out):
            (tmp / MARKER).write_text("a corpus written by dedupe dedup; it replaces this directory whole\n")
        checkpoint()
        with _as_output_error(out):
            os.chmod(tmp, 0o777 & ~_umask())
            if out.exists():  # the old output steps aside only once the new one is complete
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=parent))
                try:
                    os.rename(out, old / "previous")
                    try:
                        os.rename(tmp, out)
                    except BaseException:
                        os.rename(old / "previous", out)  # put the old output back
                        raise
                finally:
                    shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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
                        "aligned_in_matched": round(s.aligned_in_matched, 6),
                        "matched_aligned": round(s.matched_aligned, 6),
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
