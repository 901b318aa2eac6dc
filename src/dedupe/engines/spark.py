"""The Spark engine: dedupe's pipeline on Apache Spark, with the local engine's results.

::

    read         JSONL / Parquet / text directories on any path Spark reads  ->  records
    fingerprint  (map, mapInArrow) the records of each Arrow batch parsed by the same functions
                 as the local readers, then the local map stage (pipeline.ItemMapper): shingle
                 sets, signatures, set digests, figures (hashed), plus band keys; no text leaves it
    intake       (group-by id) the first document read with an id is kept, later ones skipped
    identical    (group-by set digest) one leader per identical set; the others pair with it
    lsh          (group-by band key) buckets -> candidate pairs, oversized buckets as star + chain;
                 passages off: also (group-by MinHash value) texts of skewed sizes sharing
                 enough values -> containment candidates (lsh.containment_candidates)
    verify       (join, map) pairs + both documents' sets and signatures -> score_pair
    components   (iterated joins) large-star / small-star: component = its smallest id
    cluster      (group-by component) the local build_clusters over each component
    write        documents, skipped, clusters, pairs by Spark (JSON Lines or Parquet) + summary.json,
                 or collected into a Result for the local reports

With the passage stage on, the cluster stage above is replaced by the local engine's own
``Detector.conclude`` on the driver, over the kept documents' texts and fingerprints collected
from the cluster and the pairs Spark accepted: shared passages, the verdicts they inform (pairs
accepted on aligned passages, template pairs rejected) and explained clusters, the local result
to the record; Spark then also writes passages and reuse_clusters.

Every per-document and per-pair computation is the local engine's own function (sources'
record parsers, ItemMapper, band_keys, group_pairs, score_pair, build_clusters), so the
results are the same: the same documents and skipped records, the same clusters with the same
ids and the same scores. What Spark adds is where the data lives: only ids, shingle sets and
signatures are shuffled, never texts, and (passages off) nothing but the summary is collected
to the driver. With passages on, the driver holds every text and fingerprint, as one local run
does: the passage stage is not distributed yet.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from ..config import Config
from ..errors import ConfigError, DedupeError, EngineError, InputError, NoDocumentsError
from ..records import Cluster, Cohesion, DocumentInfo, MemberScore, PairScore, Skipped
from ..result import SCHEMA_VERSION, Result, cluster_dict, pair_dict, summary, summary_line
from ..sources import _COMPRESSION_SUFFIXES, RECORD_FORMATS, _format_suffix

# the record every reader yields: where it was read (pos: the input path's position; file, line:
# its place there), then the document or why it was skipped, and the map stage's fingerprints
_FINGERPRINT = "fingerprint"
_PAIR = "pair"
_PAIR_OUT = "pair_out"
_CLUSTER = "cluster"
_AB = "ab"
_VALUES = "values"
_SKEWED = "skewed"


@functools.cache
def _arrow_schema(name: str) -> Any:
    """The Arrow schema of this module's tables (built without Spark: workers use them too)."""
    import pyarrow as pa

    s, b, i64, f64 = pa.string(), pa.binary(), pa.int64(), pa.float64()
    pair = [
        ("a", s), ("b", s), ("jaccard_estimate", f64), ("jaccard", f64), ("containment_a_in_b", f64),
        ("containment_b_in_a", f64), ("shared_shingles", i64), ("match", s), ("aligned_a", f64),
        ("aligned_b", f64), ("template", pa.bool_()),
    ]  # fmt: skip
    difference = pa.struct([("kind", s), ("start", i64), ("end", i64)])
    member = pa.struct(
        [
            ("id", s), ("jaccard_estimate", f64), ("jaccard", f64),
            ("containment_in_matched", f64), ("matched_contained", f64), ("aligned_in_matched", f64),
            ("matched_aligned", f64), ("matched_to", s),
            ("match", s), ("relation", s), ("kept", f64), ("added_chars", i64), ("changed_words", i64),
            ("differences", pa.list_(difference)),
        ]
    )  # fmt: skip
    schemas = {
        _FINGERPRINT: [
            ("pos", pa.int32()), ("file", s), ("line", i64), ("id", s), ("source", s), ("reason", s),
            ("intake", s), ("date", s), ("notes", pa.list_(s)), ("chars", i64), ("shingles", i64),
            ("set", b), ("sig", b), ("digest", b), ("bands", pa.list_(i64)), ("figures", b), ("text", s),
        ],
        _PAIR: [*pair, ("lsh", pa.bool_())],
        _PAIR_OUT: pair,
        _CLUSTER: [
            ("id", s), ("size", i64), ("members", pa.list_(s)), ("representative", s),
            ("cohesion", pa.struct([("min_jaccard", f64), ("mean_jaccard", f64), ("exact", pa.bool_())])),
            ("scores", pa.list_(member)),
        ],
        _AB: [("a", s), ("b", s)],
        _VALUES: [("perm", pa.int32()), ("value", i64), ("id", s), ("shingles", i64)],
        _SKEWED: [("a", s), ("b", s), ("small", i64), ("large", i64)],
    }  # fmt: skip
    return pa.schema(schemas[name])


def _spark_schema(name: str) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(_arrow_schema(name))


def _field_names(name: str) -> list[str]:
    return list(_arrow_schema(name).names)


def _pyspark() -> Any:
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import functions
    except ImportError:
        raise EngineError(
            "the spark engine needs pyspark: pip install 'dedupe-text[spark]' (or, in a clone, pip install -e '.[spark]')"
        ) from None
    return functions


def spark_session(config: Config, quiet: bool = True) -> Any:
    """The active SparkSession, or a new one from the config's ``spark`` section.

    Run by ``spark-submit``, the session is the one spark-submit configured (its master, its
    executors' Python); run as a plain Python program, the session starts its own local JVM, and
    its Python workers run this interpreter.
    """
    _pyspark()
    from pyspark.sql import SparkSession

    cfg = config.spark
    launched = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this driver
    if not launched and (cfg.master is None or cfg.master.startswith("local")):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(cfg.app_name)
    if cfg.master is not None:
        builder = builder.master(cfg.master)
    if cfg.partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(cfg.partitions)).config(
            "spark.default.parallelism", str(cfg.partitions)
        )
    if cfg.driver_memory is not None:
        builder = builder.config("spark.driver.memory", cfg.driver_memory)
    progress = not quiet and sys.stderr.isatty()
    builder = builder.config("spark.ui.showConsoleProgress", "true" if progress else "false")
    if not launched:
        # a scan runs dozens of SQL queries (the components' rounds), each kept by the UI with
        # its plan: Spark's default of 1,000 fills a small driver heap over a session of scans
        builder = builder.config("spark.sql.ui.retainedExecutions", "100")
    try:
        spark = builder.getOrCreate()
    except Exception as err:  # Java missing, a bad master URL: py4j and Spark raise many types
        raise EngineError(f"spark: cannot start a session: {_first_line(err)}") from None
    spark.sparkContext.setLogLevel("ERROR")
    if cfg.partitions is None and "spark.sql.shuffle.partitions" not in _explicit_conf(spark):
        # Spark's 200 shuffle partitions cost minutes on a small corpus: two per core instead
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2 * spark.sparkContext.defaultParallelism, 4)))
    return spark


def _explicit_conf(spark: Any) -> set[str]:
    """The configuration keys set for this application (spark-submit --conf, spark-defaults.conf)."""
    return {k for k, _ in spark.sparkContext.getConf().getAll()}


@contextlib.contextmanager
def spark_errors() -> Iterator[None]:
    """A failed Spark job as one EngineError line (the Java stack trace stays in Spark's log)."""
    try:
        yield
    except DedupeError:
        raise
    except Exception as err:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        if isinstance(err, (Py4JError, PySparkException)):
            raise EngineError(f"spark job failed: {_first_line(err)}") from err
        raise


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# ---------------------------------------------------------------------------------------------
# read + fingerprint: one map over each input, parsing with the local readers' functions


@dataclass(frozen=True)
class _Input:
    """One input path as the driver resolved it."""

    pos: int
    given: str  # as the user wrote it (names sources, as the local readers do)
    uri: str  # as Hadoop qualifies it
    kind: str  # jsonl, parquet, text-dir, text-file, packed (a compressed file, read whole)
    is_dir: bool
    # a shard found in a directory: its path there, which names a record without an id and orders
    # the shard among the directory's files (as the local reader does)
    base: str | None = None


def resolve_inputs(spark: Any, paths: list[str], extensions: Sequence[str] = (".txt", ".md")) -> list[_Input]:
    """Each path (a glob matches several) with the reader it takes, checked on the driver: a path
    that does not exist, stdin and CSV are one-line errors."""
    jvm = spark.sparkContext._jvm
    hconf = spark.sparkContext._jsc.hadoopConfiguration()
    found: list[_Input] = []
    for given in paths:
        if given == "-":
            raise InputError("the spark engine reads paths, not standard input (-)")
        hpath = jvm.org.apache.hadoop.fs.Path(given)
        try:
            fs = hpath.getFileSystem(hconf)
            statuses = fs.globStatus(hpath)
        except Exception as err:
            raise InputError(f"cannot read {given}: {_first_line(err)}") from None
        if not statuses:
            raise InputError(f"path not found: {given}")
        for st in sorted(statuses, key=lambda s: s.getPath().toString()):
            uri = st.getPath().toString()
            name = given if len(statuses) == 1 else uri
            is_dir = st.isDirectory()
            suffix = _format_suffix(PurePosixPath(uri))  # .jsonl for x.jsonl.gz
            packed = PurePosixPath(uri).suffix.lower() in _COMPRESSION_SUFFIXES
            if not is_dir and packed and suffix != ".csv":
                kind = "packed"  # read whole and decompressed by its bytes, as locally
            elif suffix in (".jsonl", ".ndjson"):
                kind = "jsonl"
            elif suffix == ".parquet":
                kind = "parquet"
            elif suffix == ".csv":
                raise InputError(
                    f"{given}: the spark engine reads JSON Lines, Parquet and text files, not CSV"
                )
            else:
                kind = "text-dir" if is_dir else "text-file"
            pos = len(found)
            found.append(_Input(pos, name, uri, kind, is_dir))
            if kind == "text-dir":  # not a Parquet dataset's directory
                found.extend(_directory_shards(fs, st.getPath(), name, uri, pos, extensions))
    return found


def _directory_shards(
    fs: Any, hpath: Any, given: str, uri: str, pos: int, extensions: Sequence[str]
) -> list[_Input]:
    """The shards of records (and the compressed files) under a directory, each an input of its
    own at the directory's position, named as the local reader names them: its path in the
    directory orders it among the directory's files and names its records without an id."""
    root = uri.rstrip("/") + "/"
    out = []
    listing = fs.listFiles(hpath, True)
    while listing.hasNext():
        file_uri = listing.next().getPath().toString()
        rel = file_uri[len(root) :] if file_uri.startswith(root) else PurePosixPath(file_uri).name
        path = PurePosixPath(rel)
        fmt = _format_suffix(path)
        packed = path.suffix.lower() in _COMPRESSION_SUFFIXES
        if fmt == ".csv":
            raise InputError(
                f"{given}: holds CSV shards ({rel}): the spark engine reads JSON Lines, Parquet and text files"
            )
        texts = tuple(e.lower() for e in extensions)
        if fmt in (".jsonl", ".ndjson", ".parquet") or (packed and fmt in texts):
            kind = "packed" if packed else "parquet" if fmt == ".parquet" else "jsonl"
            source = (
                given.rstrip("/") + "/" + rel
                if "://" in given or given.startswith("file:")
                else str(PurePosixPath(given) / rel)
            )
            out.append(_Input(pos, source, file_uri, kind, False, rel))
    return out


class _Fingerprint:
    """The map stage over parsed records: what each record becomes (a document's fingerprints, or
    a skipped record), as one Arrow batch. Picklable: only the config travels."""

    def __init__(self, config: Config, bands: int, rows: int, keep_texts: bool = False) -> None:
        self.config, self.bands, self.rows, self.keep_texts = config, bands, rows, keep_texts

    def batch(self, items: list[tuple[tuple[int, str, int], Any]]) -> Any:
        import pyarrow as pa

        from ..lsh import band_keys
        from ..pipeline import ItemMapper, too_short_note
        from ..records import Document

        cfg = self.config
        docs = [k for k, (_, rec) in enumerate(items) if isinstance(rec, Document)]
        mb = ItemMapper(cfg, keep_texts=False)([items[k][1] for k in docs])
        sets, figures = mb.sets(), mb.figure_sets()
        keys = band_keys(mb.signatures, self.bands, self.rows)
        too_short = too_short_note(cfg)
        cols: dict[str, list] = {name: [] for name in _field_names(_FINGERPRINT)}
        doc_of = {k: n for n, k in enumerate(docs)}
        row = 0
        for k, ((pos, file, line), rec) in enumerate(items):
            cols["pos"].append(pos)
            cols["file"].append(file)
            cols["line"].append(line)
            cols["id"].append(rec.id)
            cols["source"].append(rec.source)
            n = doc_of.get(k)
            if n is None:  # a record the reader skipped
                cols["reason"].append(rec.reason)
                for name in ("intake", "date", "chars"):
                    cols[name].append(None)
            else:
                cols["reason"].append(None)
                cols["intake"].append(mb.reasons[n])
                cols["date"].append(mb.dates[n])
                cols["chars"].append(mb.chars[n])
            if n is None or mb.reasons[n] is not None:
                for name in ("notes", "shingles", "set", "sig", "digest", "bands", "figures", "text"):
                    cols[name].append(None)
                continue
            cols["text"].append(rec.text if self.keep_texts else None)  # for the passage stage
            s = sets[row]
            notes = list(mb.notes[n]) if len(s) else [*mb.notes[n], too_short]
            cols["notes"].append(notes or None)
            cols["shingles"].append(len(s))
            cols["set"].append(s.tobytes())
            cols["sig"].append(mb.signatures[row].tobytes())
            cols["digest"].append(mb.digests[row] or None)
            # uint64 keys as Spark's long: equality is all the group-by needs
            cols["bands"].append(keys[row].view(np.int64).tolist() if len(s) else None)
            cols["figures"].append(None if figures is None else figures[row].tobytes())
            row += 1
        return pa.RecordBatch.from_pydict(cols, schema=_arrow_schema(_FINGERPRINT))


def _jsonl_map(
    fp: _Fingerprint, inp: _Input, bases: dict[tuple[str, int], int], batches: Iterator[Any]
) -> Iterator[Any]:
    """JSON Lines: each line numbered within its file (the lines before its split, counted on the
    driver, plus its place in the split) and parsed as the local reader parses it."""
    from ..sources import jsonl_record

    seen: dict[tuple[str, int], int] = {}
    for batch in batches:
        items = []
        for raw, file, block in zip(*(batch.column(i).to_pylist() for i in range(3))):
            key = (file, block)
            k = seen.get(key, 0)
            seen[key] = k + 1
            lineno = bases[key] + k + 1
            name = inp.given if not inp.is_dir else file
            rec = jsonl_record(raw, lineno, name, inp.base or PurePosixPath(name).name, fp.config.input)
            if rec is not None:
                items.append(((inp.pos, inp.base or file, lineno), rec))
        yield fp.batch(items)


def _text_map(fp: _Fingerprint, inp: _Input, batches: Iterator[Any]) -> Iterator[Any]:
    """Text files: id = path below the directory given (or the path given), decoded as the local
    reader decodes them."""
    from ..sources import text_record

    root = inp.uri.rstrip("/") + "/"
    for batch in batches:
        items = []
        for path, content in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            doc_id, source = _text_names(inp, root, path)
            items.append(
                ((inp.pos, doc_id, 0), text_record(content, doc_id, source, fp.config.input.max_chars))
            )
        yield fp.batch(items)


def _text_names(inp: _Input, root: str, path: str) -> tuple[str, str]:
    """(id, source) of a text file, as the local reader names them."""
    if not inp.is_dir:
        return inp.given, inp.given
    rel = path[len(root) :] if path.startswith(root) else path
    if "://" in inp.given or inp.given.startswith("file:"):
        return rel, inp.given.rstrip("/") + "/" + rel
    return rel, str(PurePosixPath(inp.given) / rel)


def _parquet_map(fp: _Fingerprint, inp: _Input, columns: list[str], batches: Iterator[Any]) -> Iterator[Any]:
    from ..sources import parquet_record

    for batch in batches:
        items = []
        for row in batch.to_pylist():
            file, row_no = row.pop("_file"), row.pop("_row") + 1
            name = inp.given if not inp.is_dir else file
            rec = parquet_record(row, row_no, name, inp.base or PurePosixPath(name).name, fp.config.input)
            items.append(((inp.pos, inp.base or file, row_no), rec))
        yield fp.batch(items)


def _skipped_rows(spark: Any, rows: list[tuple[_Input, str]]) -> Any:
    """Fingerprint-stage rows for inputs skipped whole on the driver (a Parquet file without its
    text column, text files too large to read)."""
    blank = (None,) * (len(_field_names(_FINGERPRINT)) - 6)  # no document: no fingerprints
    data = [(inp.pos, source, 0, doc_id, source, reason, *blank) for inp, source, doc_id, reason in rows]
    return spark.createDataFrame(data, _spark_schema(_FINGERPRINT))


def _shard_or_packed(path: str) -> bool:
    """Whether a file in a directory is read as an input of its own (:func:`_directory_shards`)."""
    p = PurePosixPath(path)
    return _format_suffix(p) in RECORD_FORMATS or p.suffix.lower() in _COMPRESSION_SUFFIXES


def _empty_files(spark: Any, inp: _Input, extensions: list[str]) -> list[str]:
    """Zero-length text files, which Spark's file sources never read (so they would go unreported):
    listed through Hadoop's FileSystem, skipping names Spark ignores (starting with _ or .)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(inp.uri)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    exts = tuple(e.lower() for e in extensions)
    found = []
    listing = fs.listFiles(hpath, True)
    root = inp.uri.rstrip("/") + "/"
    while listing.hasNext():
        st = listing.next()
        path = st.getPath().toString()
        if inp.is_dir and _shard_or_packed(path):
            continue  # read as an input of its own
        if st.getLen() != 0:
            continue
        rel = path[len(root) :] if inp.is_dir and path.startswith(root) else PurePosixPath(path).name
        if inp.is_dir and not rel.lower().endswith(exts):
            continue
        if any(part.startswith(("_", ".")) for part in rel.split("/")):
            continue
        found.append(path)
    return found


def read_and_fingerprint(spark: Any, inputs: list[_Input], fp: _Fingerprint) -> Any:
    """One DataFrame of every input record after the map stage (schema ``_FINGERPRINT``)."""
    readers = {
        "jsonl": _read_jsonl,
        "parquet": _read_parquet,
        "text-dir": _read_text,
        "text-file": _read_text,
        "packed": _read_packed,
    }
    parts = [part for inp in inputs for part in readers[inp.kind](spark, inp, fp)]
    return functools.reduce(lambda a, b: a.unionByName(b), parts)


def _read_jsonl(spark: Any, inp: _Input, fp: _Fingerprint) -> list[Any]:
    """Lines split on \\n only (as the local reader's readline), as bytes (decoded in Python, as
    locally); a first job counts each split's lines, so every line gets its number in its file."""
    F = _pyspark()
    lines = spark.read.option("lineSep", "\n").text(inp.uri)
    lines = lines.select(
        F.col("value").cast("binary").alias("raw"),
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.file_block_start").alias("block"),
    )
    counts = lines.groupBy("file", "block").count().collect()  # one row per input split
    bases: dict[tuple[str, int], int] = {}
    running: dict[str, int] = {}
    for row in sorted(counts, key=lambda r: (r["file"], r["block"])):
        bases[(row["file"], row["block"])] = running.get(row["file"], 0)
        running[row["file"]] = running.get(row["file"], 0) + row["count"]
    return [lines.mapInArrow(functools.partial(_jsonl_map, fp, inp, bases), _spark_schema(_FINGERPRINT))]


def _read_packed(spark: Any, inp: _Input, fp: _Fingerprint) -> list[Any]:
    """A compressed file (gzip, bzip2, xz, zstd: by its first bytes, as locally), read whole by one
    task and decompressed as it is parsed: JSON Lines when its name says so under the compression
    suffix, else one text."""
    files = spark.read.format("binaryFile").load(inp.uri).select("path", "content")
    return [files.mapInArrow(functools.partial(_packed_map, fp, inp), _spark_schema(_FINGERPRINT))]


def _packed_map(fp: _Fingerprint, inp: _Input, batches: Iterator[Any]) -> Iterator[Any]:
    import io

    from ..sources import (
        _bounded_lines,
        _corrupt_errors,
        _open_compressed,
        compression,
        jsonl_limit,
        jsonl_record,
        stream_text,
    )

    cfg = fp.config.input
    base = inp.base or PurePosixPath(inp.given).name
    doc_id = inp.base or inp.given  # a text file's id: its path in the directory, or as given
    for batch in batches:
        for content in batch.column(1).to_pylist():
            kind = compression(content[:8])
            stream = _open_compressed(io.BytesIO(content), kind) if kind else io.BytesIO(content)
            items: list[Any] = []
            order = (inp.pos, inp.base or inp.given)
            try:
                if _format_suffix(PurePosixPath(inp.given)) in (".jsonl", ".ndjson"):
                    for lineno, raw in _bounded_lines(stream, jsonl_limit(cfg)):
                        rec = jsonl_record(raw, lineno, inp.given, base, cfg)
                        if rec is not None:
                            items.append(((*order, lineno), rec))
                        if len(items) >= 10_000:
                            yield fp.batch(items)
                            items = []
                else:
                    items.append(((*order, 0), stream_text(stream, doc_id, inp.given, cfg.max_chars)))
            except _corrupt_errors() as err:
                items.append(
                    ((*order, 1 << 40), Skipped(source=inp.given, reason=f"damaged {kind} data: {err}"))
                )
            if items:
                yield fp.batch(items)


def _read_parquet(spark: Any, inp: _Input, fp: _Fingerprint) -> list[Any]:
    F = _pyspark()
    cfg = fp.config.input
    table = spark.read.parquet(inp.uri)
    from ..sources import _top

    names = set(table.columns)
    if _top(cfg.text_field, names) is None:
        reason = f"Parquet file has no '{cfg.text_field}' column"
        return [_skipped_rows(spark, [(inp, inp.given, None, reason)])]
    # a nested field (meta.text) is read with its top-level column, as locally
    fields = (cfg.id_field, cfg.text_field, cfg.date_field)
    columns = list(dict.fromkeys(c for f in fields if (c := _top(f, names))))
    table = table.select(
        *columns,
        F.col("_metadata.file_path").alias("_file"),
        F.col("_metadata.row_index").alias("_row"),
    )
    return [table.mapInArrow(functools.partial(_parquet_map, fp, inp, columns), _spark_schema(_FINGERPRINT))]


def _read_text(spark: Any, inp: _Input, fp: _Fingerprint) -> list[Any]:
    """Text files by Spark's binaryFile source; those too large (by their length, unread) and the
    empty ones (which Spark never reads) are skipped records made on the driver."""
    from ..pipeline import Intake
    from ..sources import too_large_file

    F = _pyspark()
    cfg = fp.config.input
    files = spark.read.format("binaryFile")
    if inp.is_dir:
        files = files.option("recursiveFileLookup", "true")
    files = files.load(inp.uri)
    if inp.is_dir:
        lower = F.lower(F.col("path"))
        files = files.where(
            functools.reduce(lambda a, b: a | b, [lower.endswith(e.lower()) for e in cfg.extensions])
        )
        # shards of records and compressed files are inputs of their own
        shard = functools.reduce(
            lambda a, b: a | b,
            [lower.endswith(x) for x in (*RECORD_FORMATS, *_COMPRESSION_SUFFIXES)]
            + [lower.contains(f"{x}.") for x in RECORD_FORMATS],
        )
        files = files.where(~shard)
    limit = 4 * cfg.max_chars
    root = inp.uri.rstrip("/") + "/"
    rows = []
    for r in files.where(F.col("length") > limit).select("path", "length").collect():
        doc_id, source = _text_names(inp, root, r["path"])
        rows.append((inp, source, doc_id, too_large_file(r["length"], cfg.max_chars)))
    for path in _empty_files(spark, inp, cfg.extensions):
        doc_id, source = _text_names(inp, root, path)
        rows.append((inp, source, doc_id, Intake.text_reason("", None)))
    parts = [_skipped_rows(spark, rows)] if rows else []
    small = files.where(F.col("length") <= limit).select("path", "content")
    return [*parts, small.mapInArrow(functools.partial(_text_map, fp, inp), _spark_schema(_FINGERPRINT))]


# ---------------------------------------------------------------------------------------------
# group-by stages


def _before(a: Any, b: Any) -> Any:
    """Column: ordinal ``a`` (pos, file, line struct) comes before ordinal ``b``."""
    return (a.pos < b.pos) | (
        (a.pos == b.pos) & ((a.file < b.file) | ((a.file == b.file) & (a.line < b.line)))
    )


_BROADCAST_IDS = 200_000  # repeated ids up to this many are broadcast to the intake join


def intake(records: Any) -> tuple[Any, Any]:
    """(kept documents, skipped records) with the local Intake's rule: the first document read
    with an id (by input position, file, line) is kept; a later one is skipped naming the first
    one's source; an empty or too large one is skipped for that."""
    F = _pyspark()
    skipped = records.where(F.col("reason").isNotNull()).select("source", "reason", "id")
    docs = records.where(F.col("reason").isNull()).withColumn("ord", F.struct("pos", "file", "line"))
    # only ids read more than once need the rule; finding them shuffles ids alone, and when they
    # are few (the usual case) the documents are joined to them by broadcast, without a shuffle
    light = docs.select("id", "pos", "file", "line", "source", "intake")
    repeated = light.groupBy("id").count().where(F.col("count") > 1).select("id")
    first = (
        light.join(repeated, "id")
        .where(F.col("intake").isNull())
        .groupBy("id")
        .agg(F.min(F.struct("pos", "file", "line", "source")).alias("first"))
    )
    if repeated.count() <= _BROADCAST_IDS:
        first = F.broadcast(first)
    docs = docs.join(first, "id", "left")
    earlier = F.col("first").isNotNull() & _before(F.col("first"), F.col("ord"))
    # the one shuffle of the shingle sets: documents hash-partitioned by id, which both joins of
    # the verify stage (pair ends a and b) then reuse
    kept = docs.where(F.col("intake").isNull() & ~earlier).drop("ord", "first").repartition("id")
    dup = docs.where(earlier).select(
        "source",
        F.concat(F.lit("duplicate id (first read from "), F.col("first.source"), F.lit(")")).alias("reason"),
        "id",
    )
    bad = docs.where(F.col("intake").isNotNull() & ~earlier).select(
        "source", F.col("intake").alias("reason"), "id"
    )
    return kept, skipped.unionByName(dup).unionByName(bad)


def _bucket_pairs(max_group: int, batches: Iterator[Any]) -> Iterator[Any]:
    """Each bucket's members (sorted ids) -> the pairs the local rule lists for it."""
    import pyarrow as pa

    from ..grouping import group_pairs

    for batch in batches:
        a, b = [], []
        for members in batch.column(0).to_pylist():
            for i, j in group_pairs(len(members), max_group).tolist():
                a.append(members[i])
                b.append(members[j])
        yield pa.RecordBatch.from_pydict({"a": a, "b": b}, schema=_arrow_schema(_AB))


def _signature_values(sig_dtype: str, batches: Iterator[Any]) -> Iterator[Any]:
    """(id, shingles, sig) -> one row per MinHash value: (perm, value, id, shingles)."""
    import pyarrow as pa

    for batch in batches:
        ids, sizes, sigs = (batch.column(c).to_pylist() for c in ("id", "shingles", "sig"))
        if not ids:
            continue
        values = np.stack([np.frombuffer(x, dtype=sig_dtype) for x in sigs]).astype(np.uint64).view(np.int64)
        perms = values.shape[1]
        cols = {
            "perm": np.tile(np.arange(perms, dtype=np.int32), len(ids)),
            "value": values.reshape(-1),
            "id": np.repeat(np.array(ids, dtype=object), perms),
            "shingles": np.repeat(np.array(sizes, dtype=np.int64), perms),
        }
        yield pa.RecordBatch.from_pydict(cols, schema=_arrow_schema(_VALUES))


def _skewed_group_pairs(min_ratio: float, batches: Iterator[Any]) -> Iterator[Any]:
    """The members (id, shingles) of each group of texts sharing one MinHash value -> the pairs of
    skewed sizes in it, by the local engine's kernel (:func:`dedupe.kernels.skewed_pairs`)."""
    import pyarrow as pa

    from ..kernels import skewed_pairs

    for batch in batches:
        ids: list[str] = []
        sizes: list[int] = []
        keys: list[int] = []
        for g, members in enumerate(batch.column(0).to_pylist()):
            for m in sorted(members, key=lambda m: (m["shingles"], m["id"])):
                ids.append(m["id"])
                sizes.append(m["shingles"])
                keys.append(g)
        n = len(ids)
        size = np.array(sizes, dtype=np.int64)
        codes, _ = skewed_pairs(
            np.array(keys, np.int64), np.arange(n, dtype=np.int64), size, min_ratio, n + 1, n
        )
        x, y = np.divmod(codes, max(n, 1))
        a = [min(ids[i], ids[j]) for i, j in zip(x.tolist(), y.tolist())]
        b = [max(ids[i], ids[j]) for i, j in zip(x.tolist(), y.tolist())]
        small, large = np.minimum(size[x], size[y]), np.maximum(size[x], size[y])
        yield pa.RecordBatch.from_pydict(
            {"a": a, "b": b, "small": small, "large": large}, schema=_arrow_schema(_SKEWED)
        )


def _enough_shared_values(containment: float, perms: int, batches: Iterator[Any]) -> Iterator[Any]:
    """(a, b, small, large, shared) -> the pairs the containment count test keeps, as (a, b)."""
    import pyarrow as pa

    from ..lsh import containment_threshold_count

    for batch in batches:
        cols = batch.to_pydict()
        need = containment_threshold_count(
            np.array(cols["small"]), np.array(cols["large"]), containment, perms
        )
        keep = np.flatnonzero(np.array(cols["shared"], dtype=np.int64) >= need).tolist()
        yield pa.RecordBatch.from_pydict(
            {"a": [cols["a"][k] for k in keep], "b": [cols["b"][k] for k in keep]}, schema=_arrow_schema(_AB)
        )


def _score_pairs(config: Config, set_dtype: str, sig_dtype: str, batches: Iterator[Any]) -> Iterator[Any]:
    """Candidate pairs with both documents' sets, signatures and figures -> score_pair."""
    import pyarrow as pa

    from ..verify import score_pair

    names = _field_names(_PAIR)
    for batch in batches:
        cols: dict[str, list] = {n: [] for n in names}
        rows = batch.to_pydict()
        for k in range(batch.num_rows):
            fa, fb = rows["figures_a"][k], rows["figures_b"][k]
            s = score_pair(
                rows["a"][k],
                rows["b"][k],
                np.frombuffer(rows["set_a"][k], dtype=set_dtype),
                np.frombuffer(rows["set_b"][k], dtype=set_dtype),
                np.frombuffer(rows["sig_a"][k], dtype=sig_dtype),
                np.frombuffer(rows["sig_b"][k], dtype=sig_dtype),
                config.verify,
                lambda fa=fa, fb=fb: (
                    None if fa is None else np.frombuffer(fa, dtype=np.uint64),
                    None if fb is None else np.frombuffer(fb, dtype=np.uint64),
                ),
            )
            for n in names[:-1]:
                cols[n].append(getattr(s, n))
            cols["lsh"].append(rows["lsh"][k])
        yield pa.RecordBatch.from_pydict(cols, schema=_arrow_schema(_PAIR))


def connected_components(edges: Any) -> Any:
    """(id, comp) for every node of the undirected graph ``edges`` (columns a, b), comp being the
    smallest id of its component: alternating large-star and small-star steps (Kiveris et al.,
    "Connected Components in MapReduce and Beyond", 2014), O(log^2 n) rounds, all joins and
    group-bys: no node's neighbourhood is ever collected anywhere."""
    F = _pyspark()
    # edges as (u, v) with u > v: the larger end first
    e = edges.select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v")).distinct()
    e = e.localCheckpoint()
    for _ in range(64):
        # large-star: every neighbour of u larger than u links to the smallest of u's neighbourhood
        both = e.unionByName(e.select(F.col("v").alias("u"), F.col("u").alias("v")))
        low = both.groupBy("u").agg(F.least(F.min("v"), F.first("u")).alias("m"))
        e = (
            both.join(low, "u")
            .where(F.col("v") > F.col("u"))
            .select(F.col("v").alias("u"), F.col("m").alias("v"))
            .distinct()
        )
        # small-star: u and its smaller neighbours all link to the smallest of them
        low = e.groupBy("u").agg(F.min("v").alias("m"))
        e = (
            e.join(low, "u")
            .select(F.col("v").alias("x"), "m")
            .unionByName(low.select(F.col("u").alias("x"), "m"))
            .where(F.col("x") != F.col("m"))
            .select(F.col("x").alias("u"), F.col("m").alias("v"))
            .distinct()
            .localCheckpoint()
        )
        # done when the graph is a forest of stars around each component's smallest node: no
        # node has two smaller neighbours, and no centre is another node's leaf
        several = e.groupBy("u").count().where(F.col("count") > 1).limit(1).count()
        if not several and not e.join(e.select(F.col("u").alias("v")).distinct(), "v").limit(1).count():
            break
    else:  # pragma: no cover - the algorithm converges in O(log^2 n) rounds
        raise EngineError("connected components did not converge in 64 rounds")
    return (
        e.select(F.col("u").alias("id"), F.col("v").alias("comp"))
        .unionByName(e.select(F.col("v").alias("id"), F.col("v").alias("comp")))
        .distinct()
    )


def _cluster_components(
    config: Config, set_dtype: str, sig_dtype: str, batches: Iterator[Any]
) -> Iterator[Any]:
    """Each component (its members and accepted pairs) -> the local build_clusters over it."""
    import pyarrow as pa

    from ..cluster import build_clusters
    from ..verify import Verifier

    for batch in batches:
        out: list[dict[str, Any]] = []
        for members, edges in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            members.sort(key=lambda m: m["id"])
            ids = [m["id"] for m in members]
            index = {d: i for i, d in enumerate(ids)}
            sets = [np.frombuffer(m["set"], dtype=set_dtype) for m in members]
            sigs = np.stack([np.frombuffer(m["sig"], dtype=sig_dtype) for m in members])
            figs = None
            if config.verify.distinct_figures:
                figs = [np.frombuffer(m["figures"], dtype=np.uint64) for m in members]
            verifier = Verifier(ids, sets, sigs, config.verify, figs)
            accepted = [(index[e["a"]], index[e["b"]]) for e in edges]
            cc = config.cluster
            for c in build_clusters(
                len(ids),
                accepted,
                ids,
                [m["chars"] for m in members],
                [m["date"] for m in members],
                cc.representative,
                functools.partial(verifier.member_score, shingle_size=config.shingle.size),
                verifier.jaccard,
                sigs,
                verifier.passes if cc.split_chains else None,
            ):
                out.append(cluster_dict(c, rounded=False))  # full precision; rounded when written
        yield pa.RecordBatch.from_pylist(out, schema=_arrow_schema(_CLUSTER))


def cluster_from_row(row: dict[str, Any]) -> Cluster:
    coh = row["cohesion"]
    return Cluster(
        id=row["id"],
        members=tuple(row["members"]),
        representative=row["representative"],
        scores=tuple(member_from_row(s) for s in row["scores"]),
        cohesion=Cohesion(coh["min_jaccard"], coh["mean_jaccard"], coh["exact"]),
    )


def member_from_row(row: dict[str, Any]) -> MemberScore:
    diffs = tuple((d["kind"], d["start"], d["end"]) for d in row.get("differences") or ())
    return MemberScore(**{**row, "differences": diffs})


def pair_from_row(row: dict[str, Any]) -> PairScore:
    return PairScore(**{k: row[k] for k in PairScore.__slots__})


# ---------------------------------------------------------------------------------------------
# the job


@dataclass
class SparkScan:
    """A scan's outputs as Spark DataFrames (documents, skipped, clusters, pairs), with the
    summary figures and per-stage timings computed on the way. :meth:`result` collects it into
    the local engine's :class:`Result`; :meth:`write` has Spark write it.

    The tables are cached in the session until :meth:`release` (or the end of a ``with`` block):
    a notebook that runs scan after scan in one session releases each one it is done with."""

    params: dict[str, Any]
    documents: Any
    skipped: Any
    clusters: Any
    pairs: Any
    stats: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    local: Result | None = None  # with passages: the driver's result, clusters and pairs included
    cached: list[Any] = field(default_factory=list)  # the persisted frames the tables read

    def release(self) -> None:
        """Drop the scan's cached tables from the session (the DataFrames are unusable after)."""
        for frame in self.cached:
            frame.unpersist()
        self.cached = []

    def __enter__(self) -> SparkScan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def summary(self) -> dict[str, int]:
        if self.local is not None:
            return self.local.summary()
        c = self.counts
        return summary(c["documents"], c["skipped"], c["clustered"], c["clusters"], c["pairs"], 0, 0)

    def summary_line(self) -> str:
        if self.local is not None:
            return self.local.summary_line()
        return summary_line(self.summary(), passages_searched=False)

    def result(self) -> Result:
        """Everything collected to the driver, as the local engine returns it: for runs whose
        documents fit in the driver's memory (the tests, a terminal report)."""
        if self.local is not None:
            return self.local
        with spark_errors():
            return self._result()

    def _result(self) -> Result:
        docs = [
            DocumentInfo(r["id"], r["source"], r["chars"], r["shingles"], tuple(r["notes"] or ()))
            for r in self.documents.collect()
        ]
        skipped = [Skipped(r["source"], r["reason"], r["id"]) for r in self.skipped.collect()]
        clusters = [cluster_from_row(r.asDict(recursive=True)) for r in self.clusters.collect()]
        pairs = [pair_from_row(r.asDict()) for r in self.pairs.collect()]
        return Result(
            params=self.params,
            documents=sorted(docs, key=lambda d: d.id),
            skipped=sorted(skipped, key=lambda s: (s.source, s.id or "")),
            clusters=sorted(clusters, key=lambda c: c.id),
            pairs=sorted(pairs, key=lambda p: (p.a, p.b)),
            stats=self.stats,
        )

    def write(self, path: str, fmt: str) -> dict[str, Any]:
        """Spark writes ``path``/documents, skipped, clusters and pairs as JSON Lines (``json``,
        ``jsonl``) or Parquet part files, with the local JSON's records (scores rounded alike);
        the driver writes ``path``/summary.json (schema_version, params, summary, stats).
        Returns the summary."""
        with spark_errors():
            return self._write(path, fmt)

    def _write(self, path: str, fmt: str) -> dict[str, Any]:
        F = _pyspark()
        writer_fmt = {"json": "json", "jsonl": "json", "parquet": "parquet"}.get(fmt)
        if writer_fmt is None:
            raise ConfigError(f"--format {fmt}: with the spark engine, --output takes jsonl, json or parquet")
        spark = self.documents.sparkSession
        tables = {
            "documents": self.documents.select("id", "source", "chars", "shingles", "notes"),
            "skipped": self.skipped.select("source", "id", "reason"),
        }
        if self.local is None:
            tables["clusters"] = self.clusters.mapInArrow(_rounded_clusters, _spark_schema(_CLUSTER))
            tables["pairs"] = self.pairs.mapInArrow(_rounded_pairs, _spark_schema(_PAIR_OUT))
        else:  # the driver holds them: Spark writes them beside the others, as the local JSON has them
            local = self.local
            tables["clusters"] = _frame(spark, [cluster_dict(c) for c in local.clusters], _CLUSTER)
            tables["pairs"] = _frame(spark, [pair_dict(p) for p in local.pairs], _PAIR_OUT)
            tables["passages"] = _json_frame(spark, [g.to_json() for g in local.passages])
            tables["reuse_clusters"] = _json_frame(spark, [c.to_json() for c in local.reuse_clusters])
        spark.sparkContext.setJobDescription("dedupe: write")
        _check_output_dir(spark, path)
        for name, df in tables.items():
            if name not in ("passages", "reuse_clusters"):  # those keep the driver's order (by rank)
                order = {"skipped": ["source", "id"], "pairs": ["a", "b"]}.get(name, ["id"])
                df = df.sort(*[F.col(c).asc_nulls_first() for c in order])
            writer = df.write.mode("overwrite")
            if name in ("skipped", "clusters"):  # the local JSON has "id": null for a record read
                # without one, and "match": null for a cluster's source
                writer = writer.option("ignoreNullFields", "false")
            writer.format(writer_fmt).save(f"{path.rstrip('/')}/{name}")
        summary = {
            "schema_version": SCHEMA_VERSION,
            "params": self.params,
            "summary": self.summary(),
            "stats": self.stats,
            "format": "jsonl" if writer_fmt == "json" else "parquet",
        }
        _write_text(
            self.documents.sparkSession, f"{path.rstrip('/')}/summary.json", json.dumps(summary, indent=2)
        )
        return summary


def _frame(spark: Any, rows: list[dict[str, Any]], name: str) -> Any:
    """A DataFrame of records the driver holds, in this module's schema ``name`` (through Arrow)."""
    import pyarrow as pa

    table = pa.Table.from_pylist(rows, schema=_arrow_schema(name))
    if not rows:
        return spark.createDataFrame([], _spark_schema(name))
    return spark.createDataFrame(table.to_pandas(), _spark_schema(name))


def _json_frame(spark: Any, lines: list[str]) -> Any:
    """A DataFrame of JSON records the driver holds (passage groups, reuse clusters), its schema
    read from them."""
    if not lines:
        return spark.createDataFrame([], "id string")
    return spark.read.json(spark.sparkContext.parallelize(lines, max(1, len(lines) // 50_000)))


def _conclude_on_driver(
    detector: Any, kept: Any, skipped: Any, accepted: Any, stats: dict[str, Any], timings: dict[str, float]
) -> Result:
    """The passage stage, the verdicts it informs and the clusters, run on the driver by the
    local engine's own :meth:`~dedupe.pipeline.Detector.conclude`, over the documents' fingerprints
    and texts collected from ``kept`` and the pairs Spark's verify stage ``accepted``: the local
    result, to the record. The driver holds every kept text and fingerprint (as the local engine
    does); the map, LSH and verify stages before it ran on the cluster."""
    from ..passages import PassageStore
    from ..passages import fingerprints as passage_fingerprints
    from ..pipeline import Fingerprints, too_short_note
    from ..shingle import Shingler, ShingleSets

    cfg = detector.config
    t0 = time.perf_counter()
    set_dtype, sig_dtype = _dtypes(cfg.replace({"passages.enabled": False}))
    columns = ("id", "source", "chars", "date", "notes", "set", "sig", "digest", "figures", "text")
    rows = sorted(kept.select(*columns).toLocalIterator(), key=lambda r: r["id"])
    ids = [r["id"] for r in rows]
    short = too_short_note(cfg)
    notes = [tuple(n for n in (r["notes"] or ()) if not (n == short and not r["set"])) for r in rows]
    texts = [r["text"] for r in rows]
    shingler, pcfg, size = Shingler(cfg), cfg.passages, cfg.run.batch_size
    parts = [
        (passage_fingerprints(texts[lo : lo + size], shingler, pcfg), range(min(size, len(texts) - lo)))
        for lo in range(0, len(texts), size)
    ]
    fp = Fingerprints(
        ids,
        [r["source"] for r in rows],
        [r["chars"] for r in rows],
        [r["date"] for r in rows],
        notes,
        ShingleSets.of([np.frombuffer(r["set"], dtype=set_dtype) for r in rows], set_dtype),
        np.stack([np.frombuffer(r["sig"], dtype=sig_dtype) for r in rows]),
        [r["digest"] or b"" for r in rows],
        ShingleSets.of([np.frombuffer(r["figures"], dtype=np.uint64) for r in rows], np.uint64)
        if cfg.verify.distinct_figures
        else None,
        PassageStore.build(parts, pcfg.ngram),
        texts,
        [Skipped(r["source"], r["reason"], r["id"]) for r in skipped.collect()],
    )
    fp.skipped.sort(key=lambda s: (s.source, s.id or ""))
    del rows
    index = {doc_id: k for k, doc_id in enumerate(ids)}
    verifier = detector.verifier(fp)
    pairs = [(index[r["a"]], index[r["b"]]) for r in accepted.select("a", "b").toLocalIterator()]
    timings["collect"] = time.perf_counter() - t0
    fp.seconds = timings
    return detector.conclude(fp, verifier, pairs, stats)


def _containment_candidates(leaders: Any, cfg: Config, sig_dtype: str) -> Any:
    """The containment candidates (a, b) among the leaders (id, sig, shingles), as
    :func:`dedupe.lsh.containment_pairs` finds them locally: the texts that can pair (enough
    shingles, a partner ``min_ratio`` times longer or shorter somewhere), one row per MinHash
    value, grouped by value; groups of 2 to max_bucket_size texts give their pairs of skewed
    sizes, and the pairs sharing enough values are kept."""
    F = _pyspark()
    from ..lsh import CONTAINMENT_MIN_RATIO

    ratio = CONTAINMENT_MIN_RATIO
    usable = leaders.where(F.col("shingles") >= max(cfg.verify.min_containment_shingles, 1))
    bounds = usable.agg(F.min("shingles").alias("lo"), F.max("shingles").alias("hi")).first()
    if bounds["lo"] is None:
        return leaders.sparkSession.createDataFrame([], _spark_schema(_AB))
    eligible = usable.where(
        (F.col("shingles") * ratio <= bounds["hi"]) | (F.col("shingles") >= ratio * bounds["lo"])
    ).select("id", "shingles", "sig")
    values = eligible.mapInArrow(functools.partial(_signature_values, sig_dtype), _spark_schema(_VALUES))
    groups = (
        values.groupBy("perm", "value")
        .agg(F.count("*").alias("n"), F.collect_list(F.struct("id", "shingles")).alias("members"))
        .where((F.col("n") > 1) & (F.col("n") <= cfg.lsh.max_bucket_size))
        .select("members")
    )
    pairs = groups.mapInArrow(functools.partial(_skewed_group_pairs, ratio), _spark_schema(_SKEWED))
    shared = pairs.groupBy("a", "b").agg(
        F.count("*").alias("shared"), F.first("small").alias("small"), F.first("large").alias("large")
    )
    return shared.select("a", "b", "small", "large", "shared").mapInArrow(
        functools.partial(_enough_shared_values, cfg.verify.containment_threshold, cfg.minhash.num_perm),
        _spark_schema(_AB),
    )


def _rounded_clusters(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    for batch in batches:
        rows = [cluster_dict(cluster_from_row(r)) for r in batch.to_pylist()]
        yield pa.RecordBatch.from_pylist(rows, schema=_arrow_schema(_CLUSTER))


def _rounded_pairs(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    for batch in batches:
        rows = [pair_dict(pair_from_row(r)) for r in batch.to_pylist()]
        yield pa.RecordBatch.from_pylist(rows, schema=_arrow_schema(_PAIR_OUT))


def _check_output_dir(spark: Any, path: str) -> None:
    """Refuse to write into a directory that holds anything but an earlier output (Spark's
    overwrite would delete it)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        return
    if not fs.getFileStatus(hpath).isDirectory():
        raise ConfigError(f"--output {path}: exists and is a file; the spark engine writes a directory")
    empty = len(fs.listStatus(hpath)) == 0
    if not empty and not fs.exists(jvm.org.apache.hadoop.fs.Path(f"{path.rstrip('/')}/summary.json")):
        raise ConfigError(
            f"--output {path}: directory exists and is not an earlier dedupe output (no summary.json); "
            "give a new or empty directory"
        )


def _write_text(spark: Any, path: str, text: str) -> None:
    """A small file written through Hadoop's FileSystem, so it lands wherever the tables do."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


class SparkEngine:
    """Runs a scan on Spark. ``SparkEngine(config).scan(paths)`` -> :class:`SparkScan`."""

    def __init__(self, config: Config, spark: Any = None, quiet: bool = True) -> None:
        from ..pipeline import Detector

        self.config = config
        self.detector = Detector(config)  # bands x rows and the params record, as the local engine has them
        self.spark = spark or spark_session(config, quiet)

    def scan(self, paths: list[str]) -> SparkScan:
        with spark_errors():
            return self._scan(paths)

    def _scan(self, paths: list[str]) -> SparkScan:
        F = _pyspark()
        from pyspark import StorageLevel

        spark, cfg = self.spark, self.config
        timings: dict[str, float] = {}
        level = StorageLevel.MEMORY_AND_DISK
        mapped_cfg = cfg.replace({"passages.enabled": False})
        fp = _Fingerprint(mapped_cfg, self.detector.bands, self.detector.rows, cfg.passages.enabled)
        set_dtype, sig_dtype = _dtypes(mapped_cfg)

        describe = spark.sparkContext.setJobDescription  # names each stage's jobs in the Spark UI
        t0 = time.perf_counter()
        describe("dedupe: read+fingerprint")
        inputs = resolve_inputs(spark, paths, cfg.input.extensions)
        records = read_and_fingerprint(spark, inputs, fp).persist(level)
        n_records = records.count()
        timings["read+fingerprint"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        describe("dedupe: intake")
        kept, skipped = intake(records)
        kept = kept.persist(level)
        skipped = skipped.persist(level)
        n_docs, n_skipped = kept.count(), skipped.count()
        records.unpersist()
        if not n_docs:
            first = skipped.orderBy("source", F.col("id").asc_nulls_first()).first()  # as the local run sorts
            tail = f", first: {first['source']}: {first['reason']})" if first else ")"
            raise NoDocumentsError(f"no documents to process ({n_skipped} inputs skipped{tail}")
        timings["intake"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        describe("dedupe: identical")
        nonempty = kept.where(F.col("digest").isNotNull())
        groups = nonempty.groupBy("digest").agg(F.min("id").alias("leader"), F.count("*").alias("n"))
        groups = groups.persist(level)
        identical_groups = groups.where(F.col("n") > 1).count()
        with_leader = nonempty.join(groups, "digest")
        identical = with_leader.where(F.col("id") != F.col("leader")).select(
            F.col("leader").alias("a"), F.col("id").alias("b"), F.lit(False).alias("lsh")
        )
        leaders = with_leader.where(F.col("id") == F.col("leader")).select("id", "bands", "sig", "shingles")
        timings["identical"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        describe("dedupe: lsh")
        rows = leaders.select("id", F.posexplode("bands").alias("band", "key"))
        buckets = (
            rows.groupBy("band", "key")
            .agg(F.count("*").alias("n"), F.sort_array(F.collect_list("id")).alias("ids"))
            .where(F.col("n") > 1)
            .persist(level)
        )
        max_bucket = cfg.lsh.max_bucket_size
        b = buckets.agg(
            F.count("*").alias("buckets"),
            F.max("n").alias("largest"),
            F.sum((F.col("n") > max_bucket).cast("long")).alias("oversized"),
        ).first()
        candidates = (
            buckets.select("ids")
            .mapInArrow(functools.partial(_bucket_pairs, max_bucket), _spark_schema(_AB))
            .distinct()
            .persist(level)
        )
        n_candidates = candidates.count()
        buckets.unpersist()
        timings["lsh"] = time.perf_counter() - t0
        containment_stats: dict[str, int] = {}
        if self.detector.containment_candidates:
            t0 = time.perf_counter()
            describe("dedupe: containment candidates")
            skewed = _containment_candidates(leaders, cfg, sig_dtype).persist(level)
            containment_stats["containment_candidate_pairs"] = skewed.count()
            joined = candidates.unionByName(skewed).distinct().persist(level)
            joined.count()
            candidates.unpersist()
            skewed.unpersist()
            candidates = joined
            timings["containment_lsh"] = time.perf_counter() - t0
        persisted = candidates  # unpersisted once verified
        candidates = candidates.withColumn("lsh", F.lit(True))

        t0 = time.perf_counter()
        describe("dedupe: verify")
        feat = kept.select("id", "set", "sig", "figures")
        side_a = feat.select(*[F.col(c).alias(f"{c}_a") for c in feat.columns])
        side_b = feat.select(*[F.col(c).alias(f"{c}_b") for c in feat.columns])
        pairs = (
            candidates.unionByName(identical)
            .join(side_a, F.col("a") == F.col("id_a"))
            .join(side_b, F.col("b") == F.col("id_b"))
            .select("a", "b", "lsh", "set_a", "set_b", "sig_a", "sig_b", "figures_a", "figures_b")
        )
        scored = pairs.mapInArrow(
            functools.partial(_score_pairs, mapped_cfg, set_dtype, sig_dtype), _spark_schema(_PAIR)
        )
        scored = scored.persist(level)
        rejected = scored.where(F.col("lsh") & F.col("match").isNull()).count()
        accepted = scored.where(F.col("match").isNotNull()).persist(level)
        n_accepted = accepted.count()
        scored.unpersist()
        persisted.unpersist()
        groups.unpersist()
        timings["verify"] = time.perf_counter() - t0

        stats: dict[str, Any] = {
            "lsh_s_curve": self.detector.s_curve(),
            "identical_groups": identical_groups,
            "lsh_buckets": b["buckets"],
            "largest_bucket": b["largest"] or 0,
            "oversized_buckets": b["oversized"] or 0,
            "candidate_pairs": n_candidates,
            **containment_stats,
            "rejected_pairs": rejected,
        }
        engine = {
            "name": "spark",
            "master": spark.sparkContext.master,
            "default_parallelism": spark.sparkContext.defaultParallelism,
            "records": n_records,
        }
        if cfg.passages.enabled:
            describe("dedupe: passages, verdicts and clusters (driver)")
            result = _conclude_on_driver(self.detector, kept, skipped, accepted, stats, timings)
            result.stats["engine"] = engine
            accepted.unpersist()
            return SparkScan(
                params=self.detector.params(),
                documents=kept.select("id", "source", "chars", "shingles", "notes"),
                skipped=skipped,
                clusters=None,
                pairs=None,
                stats=result.stats,
                local=result,
                cached=[kept, skipped],
            )

        t0 = time.perf_counter()
        describe("dedupe: cluster")
        comp = connected_components(accepted.select("a", "b")).persist(level)
        members = (
            kept.join(comp, "id")
            .groupBy("comp")
            .agg(F.collect_list(F.struct("id", "set", "sig", "figures", "chars", "date")).alias("members"))
        )
        edges = (
            accepted.join(comp.select(F.col("id").alias("a"), "comp"), "a")
            .groupBy("comp")
            .agg(F.collect_list(F.struct("a", "b")).alias("edges"))
        )
        clusters = (
            members.join(edges, "comp")
            .select("members", "edges")
            .mapInArrow(
                functools.partial(_cluster_components, mapped_cfg, set_dtype, sig_dtype),
                _spark_schema(_CLUSTER),
            )
            .persist(level)
        )
        cl = clusters.agg(F.count("*").alias("n"), F.sum("size").alias("members")).first()
        comp.unpersist()
        timings["cluster"] = time.perf_counter() - t0

        describe("dedupe: summary")
        too_short = kept.where(F.col("shingles") == 0).count()
        stats = {"too_short": too_short, **stats, "engine": engine}
        stats["seconds"] = {k: round(v, 4) for k, v in timings.items()}
        documents = kept.select("id", "source", "chars", "shingles", "notes")
        return SparkScan(
            params=self.detector.params(),
            documents=documents,
            skipped=skipped,
            clusters=clusters,
            pairs=accepted.drop("lsh"),
            stats=stats,
            counts={
                "documents": n_docs,
                "skipped": n_skipped,
                "clusters": cl["n"],
                "clustered": cl["members"] or 0,
                "pairs": n_accepted,
            },
            cached=[kept, skipped, accepted, clusters],
        )


def _dtypes(config: Config) -> tuple[str, str]:
    """The dtypes of shingle sets and signatures under this config (as the map stage makes them)."""
    from ..minhash import MinHasher
    from ..shingle import Shingler

    mh = config.minhash
    set_dtype = "uint32" if Shingler(config).width == 32 else "uint64"
    return set_dtype, np.dtype(MinHasher(mh.num_perm, mh.seed, mh.scheme).dtype).name
