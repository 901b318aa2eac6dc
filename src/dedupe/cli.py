"""The command line: parse, call the Python API, render, map errors to exit codes.

Exit codes: 0 success; 1 internal error; 2 bad usage or configuration; 3 an input path that
does not exist or cannot be read; 4 no document could be processed; 5 an index that cannot be used;
6 an engine that cannot run; 7 an output that cannot be written (or another refusal of the
operating system); 8 out of memory; 128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from . import interrupts
from .config import Config, dump_yaml, explicit_keys, load_config
from .dedup import corpus_format, write_corpus, write_shards
from .engines.local import keep_freed_memory
from .errors import ConfigError, DedupeError, IndexStoreError, InputError, NoDocumentsError, OutputError
from .output import OUTPUT_ERRORS, atomic_write
from .pipeline import Detector
from .records import Document
from .report import write_report
from .result import Result
from .sources import Pending, Record, check_paths, expand, read_sources

if TYPE_CHECKING:  # the index (SQLite and its store) is imported by the index commands only
    from .index import Index

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "dedupe-text[spark]" is not a markup tag
    help="Find near-duplicate and syndicated texts, with the scores and passages that explain each match.",
)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"dedupe {__version__} (distribution dedupe-text)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Find near-duplicate and syndicated texts, with the scores and passages that explain each match."""


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    html = "html"


class ScanFormat(str, Enum):
    """scan's formats: the reports, and Parquet (the spark engine writes it)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    html = "html"
    parquet = "parquet"


class Engine(str, Enum):
    local = "local"
    spark = "spark"


class ShingleKind(str, Enum):
    word = "word"
    char = "char"


class Representative(str, Enum):
    longest = "longest"
    earliest = "earliest"


ConfigOpt = Annotated[
    str | None, typer.Option("--config", "-c", help="YAML config file.", show_default=False)
]


class Profile(str, Enum):
    exact = "exact"
    near = "near"
    syndication = "syndication"


ProfileOpt = Annotated[
    Profile | None,
    typer.Option(
        help="verify.profile: which rules accept a pair. exact: identical shingle sets; near: also Jaccard; "
        "syndication (default): also containment and aligned passages.",
        show_default=False,
    ),
]
JaccardOpt = Annotated[
    float | None,
    typer.Option(
        help="verify.jaccard_threshold: accept pairs with Jaccard >= this (default 0.5; under the syndication "
        "profile containment and aligned passages accept pairs too: --profile near for Jaccard alone).",
        show_default=False,
    ),
]
ContainOpt = Annotated[
    float | None,
    typer.Option(
        help="verify.containment_threshold: accept pairs where one text is this much contained in the other "
        "(default 0.5).",
        show_default=False,
    ),
]
LshOpt = Annotated[
    float | None,
    typer.Option(
        help="lsh.threshold: Jaccard level LSH candidates are tuned for (default 0.25).", show_default=False
    ),
]
SizeOpt = Annotated[
    int | None, typer.Option(help="shingle.size: words (or characters) per shingle.", show_default=False)
]
KindOpt = Annotated[
    ShingleKind | None, typer.Option(help="shingle.kind: word or char n-grams.", show_default=False)
]
PermOpt = Annotated[int | None, typer.Option(help="minhash.num_perm: signature length.", show_default=False)]
SeedOpt = Annotated[int | None, typer.Option(help="minhash.seed.", show_default=False)]
RepOpt = Annotated[
    Representative | None,
    typer.Option(help="cluster.representative: longest or earliest.", show_default=False),
]
WorkersOpt = Annotated[
    int | None, typer.Option(help="run.workers: processes for the per-document stages.", show_default=False)
]
EngineOpt = Annotated[
    Engine | None,
    typer.Option(
        help="run.engine: local (this machine) or spark (Apache Spark; extra dedupe-text[spark]).",
        show_default=False,
    ),
]
IdOpt = Annotated[str | None, typer.Option(help="input.id_field for JSONL/CSV/Parquet.", show_default=False)]
TextOpt = Annotated[
    str | None, typer.Option(help="input.text_field for JSONL/CSV/Parquet.", show_default=False)
]
PassagesOpt = Annotated[
    bool | None,
    typer.Option(
        "--passages/--no-passages",
        help="passages.enabled: find shared passages and reuse clusters.",
        show_default=False,
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="Output file (default: stdout).", show_default=False)
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=0,
        help="Table format: items shown per section (clusters, members, passages, occurrences, reuse "
        "pairs); 0 shows all. Default: 50 clusters, 20 of the rest.",
        show_default=False,
    ),
]
PathsArg = Annotated[
    list[str],
    typer.Argument(
        help="Directories, files (.txt .md .jsonl .csv .parquet) or - for JSONL on stdin.", show_default=False
    ),
]


FLAG_KEYS = {
    "profile": "verify.profile",
    "jaccard_threshold": "verify.jaccard_threshold",
    "containment_threshold": "verify.containment_threshold",
    "lsh_threshold": "lsh.threshold",
    "shingle_size": "shingle.size",
    "shingle_kind": "shingle.kind",
    "num_perm": "minhash.num_perm",
    "seed": "minhash.seed",
    "representative": "cluster.representative",
    "workers": "run.workers",
    "engine": "run.engine",
    "id_field": "input.id_field",
    "text_field": "input.text_field",
    "passages": "passages.enabled",
}


def _flags(params: dict[str, Any]) -> dict[str, Any]:
    """The config keys of the flags the user gave."""
    return {
        key: (params[name].value if isinstance(params[name], Enum) else params[name])
        for name, key in FLAG_KEYS.items()
        if params.get(name) is not None
    }


def _config(config_path: str | None, params: dict[str, Any]) -> Config:
    """The config file with the command's threshold flags (those the user gave) applied on top.
    A Jaccard threshold asked for under a profile whose other rules also accept pairs gets a note
    saying so: a user asking for Jaccard 0.8 is told why pairs below it may still be accepted."""
    flags = _flags(params)
    config = load_config(config_path, flags)
    asked = explicit_keys(config_path, flags)
    if "verify.jaccard_threshold" in asked and "verify.profile" not in asked and not params.get("quiet"):
        rules = rules_text(config)
        if "containment" in config.verify.rules:
            _note(
                False,
                f"dedupe: note: pairs are accepted by {rules}; --profile near accepts by Jaccard alone",
            )
    return config


def rules_text(config: Config) -> str:
    """The rules that accept a pair under the config, in words."""
    v = config.verify
    words = {
        "identical": "identical shingle sets",
        "jaccard": f"Jaccard >= {v.jaccard_threshold:g}",
        "containment": f"containment >= {v.containment_threshold:g} (of a text of {v.min_containment_shingles}+ "
        "shingles"
        + (
            ""
            if config.passages.enabled
            else "; texts 2x apart in length: found by "
            + ("shared MinHash values" if config.lsh.containment_candidates else "the bands alone")
        )
        + ")",
        "aligned": f"aligned passages reproducing >= {v.aligned_threshold:g} of the shorter text"
        + ("" if config.passages.enabled else " (off: passages are not searched)"),
    }
    return ", or ".join(words[r] for r in v.rules)


def _input_bytes(paths: list[str], config: Config) -> int | None:
    """The bytes of the inputs, when all are local, uncompressed files or directories (a
    compressed, remote or standard input has no size to count against: no total then)."""
    from .sources import RECORD_FORMATS, _format_suffix, compression, expand, is_remote

    total = 0
    exts = tuple(e.lower() for e in config.input.extensions)
    try:
        for p in expand(paths):
            if p == "-" or is_remote(p):
                return None
            files = (
                [p]
                if not os.path.isdir(p)
                else [
                    os.path.join(d, f)
                    for d, _, names in os.walk(p)
                    for f in names
                    if f.lower().endswith(exts) or _format_suffix(Path(f)) in RECORD_FORMATS
                ]
            )
            for f in files:
                if not stat.S_ISREG(os.stat(f).st_mode):  # a FIFO is never opened here: it would block
                    continue
                with open(f, "rb") as fh:
                    if compression(fh.read(8)):
                        return None
                total += os.path.getsize(f)
    except OSError:
        return None
    return total or None


class _Progress:
    """A rich progress bar on stderr, only when stderr is a terminal: one line a stage, with its
    count (of a total when known), elapsed time and, with a total, the time left. A stage is
    finished, its clock stopped, when it reaches its total or the next stage starts."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        self.tasks: dict[str, Any] = {}
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        size = total or None  # 0: not known yet (documents are still being read)
        if stage.endswith("(MB)"):  # counted in characters of the inputs' bytes
            count = f"{done / 1e6:,.1f}/{total / 1e6:,.1f}" if total else f"{done / 1e6:,.1f}"
        else:
            count = f"{done:,}/{total:,}" if total else f"{done:,}"
        if stage not in self.tasks:
            for other in self.tasks.values():  # the stages before this one are over
                self._finish(other)
            self.tasks[stage] = self.bar.add_task(stage, total=size, count=count)
        task = self.tasks[stage]
        self.bar.update(task, completed=done, total=size, count=count)
        if total and done >= total:
            self._finish(task)

    def _finish(self, task: Any) -> None:
        assert self.bar is not None
        state = self.bar.tasks[[t.id for t in self.bar.tasks].index(task)]
        if not state.finished or state.stop_time is None:
            if state.total is None:
                self.bar.update(task, total=state.completed)
            self.bar.stop_task(task)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """Standard output (``None`` or ``-``) or a file written atomically."""
    if path is None or path == "-":
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            # the reader went away (`dedupe scan ... | head`): stop quietly, and keep Python from
            # complaining again when it flushes stdout at exit
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
    else:
        with atomic_write(path, newline="" if path.lower().endswith(".csv") else None) as fh:
            yield fh


def _file_format(output: str) -> bool:
    """Whether an output name asks for a file format (clean.jsonl, clean.parquet), not a directory."""
    try:
        return corpus_format(output)[0] != "dir"
    except ConfigError:  # an unknown suffix (out.v2): a directory's name is free
        return False


def _not_an_input(paths: list[str], *outputs: str | None) -> None:
    """Refuse (exit 2) an output that is one of the inputs (the run would replace the corpus it
    reads with its report) or empty; refuse (exit 7) one whose directory is missing or not
    writable, before the run rather than after it."""
    for out in outputs:
        if out == "":
            raise ConfigError("output path is empty: give a file name, or - for standard output")
        if out is not None and out != "-":  # before the run, not after it: the directory must take the file
            parent = os.path.dirname(os.path.abspath(out))
            if not os.path.isdir(parent):
                raise OutputError(f"cannot write {out}: directory {parent} does not exist")
            if not os.access(parent, os.W_OK | os.X_OK) and not os.path.exists(out):
                raise OutputError(f"cannot write {out}: directory {parent} is not writable")
        if out in (None, "-") or not os.path.exists(out):
            continue
        for p in expand(paths):
            if p != "-" and os.path.exists(p) and os.path.samefile(out, p):
                raise ConfigError(f"output {out} is an input of this run: write it elsewhere")


def _note(quiet: bool, message: str) -> None:
    if not quiet:
        typer.echo(message, err=True)


def _announce_compiling(quiet: bool) -> None:
    """Before the first run after install: say so, and compile every kernel a scan may use (about
    20 s, once), so that no later run compiles more unannounced (a first scan of small texts
    would leave the kernels of larger corpora to a later one)."""
    from .kernels import compiled

    if not compiled():
        _note(
            quiet,
            "dedupe: compiling its kernels once, about 20 s (later runs start at once; `dedupe warmup` does it ahead)",
        )
        _warm_kernels()


def _warm_kernels() -> None:
    """Run the pipeline over a few texts that take every compiled path: ASCII and not, quoted
    passages, identical copies, a text shorter than a shingle."""
    from .pipeline import Detector

    words = "the quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun".split()
    texts = [" ".join(words[k:] + words[:k]) + f' "a quoted {k} remark" said.' for k in range(8)]
    texts += [texts[2].replace("quoted", "\u201cquoted\u201d")]  # a non-ASCII text takes the other path
    Detector(Config()).run([*texts, texts[0], texts[1][:40]])


def _detect(
    paths: list[str], config: Config, quiet: bool, keep: bool = False
) -> tuple[Result, list[Document]]:
    """Run the detector over the paths, streaming the records; ``keep`` also returns the documents
    (dedup writes them back, the HTML report shows them)."""
    _announce_compiling(quiet)
    kept: list[Document] = []
    count = 0
    progress = _Progress(not quiet)

    def records() -> Iterator[Record | Pending]:
        nonlocal count
        # unless the documents are wanted here, JSON Lines records are parsed by the map stage
        for r in read_sources(paths, config.input, keep_records=keep, parse=keep):
            count += 1
            if keep and isinstance(r, Document):
                kept.append(r)
            yield r

    with progress:
        try:
            detector = Detector(config, progress=progress)
            if progress.bar is not None:  # the fingerprint stage counts against the inputs' size
                detector.input_bytes = _input_bytes(paths, config)
            result = detector.run(records())
        except NoDocumentsError:
            if count:
                raise
            raise NoDocumentsError(
                f"no documents found in {', '.join(paths)} (directories are searched for "
                f"{', '.join(config.input.extensions)} and for .jsonl, .ndjson, .csv, .parquet shards; "
                "see input.extensions)"
            ) from None
    if isinstance(result.stats.get("passages"), str):  # the passage stage could not run
        _note(quiet, f"dedupe: note: shared passages {result.stats['passages']}")
    return result, kept


SCAN_EXAMPLES = """Examples:

\b
  dedupe scan seeds/                                 a terminal summary
  dedupe scan corpus.jsonl -f json -o report.json    everything, for programs
  dedupe scan docs/ -f html -o report.html           a page to look at
  dedupe scan corpus.jsonl --profile near --jaccard-threshold 0.8
  dedupe scan corpus.jsonl --workers 2 --no-passages faster, clusters only
"""
DEDUP_EXAMPLES = """Examples:

\b
  dedupe dedup corpus.jsonl --output clean.jsonl      + clean.mapping.jsonl
  dedupe dedup docs/ --output clean/ --report report.json
"""


@app.command(epilog=SCAN_EXAMPLES)
def scan(
    paths: PathsArg,
    config: ConfigOpt = None,
    format: Annotated[
        ScanFormat,
        typer.Option("--format", "-f", help="Output format (parquet: with --engine spark and --output DIR)."),
    ] = ScanFormat.table,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file (default: stdout); with --engine spark and json, jsonl or parquet, a directory "
            "Spark writes.",
            show_default=False,
        ),
    ] = None,
    profile: ProfileOpt = None,
    jaccard_threshold: JaccardOpt = None,
    containment_threshold: ContainOpt = None,
    lsh_threshold: LshOpt = None,
    shingle_size: SizeOpt = None,
    shingle_kind: KindOpt = None,
    num_perm: PermOpt = None,
    seed: SeedOpt = None,
    representative: RepOpt = None,
    workers: WorkersOpt = None,
    engine: EngineOpt = None,
    id_field: IdOpt = None,
    text_field: TextOpt = None,
    passages: PassagesOpt = None,
    limit: LimitOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Find near-duplicate clusters and shared passages, and report them with their scores."""
    _not_an_input(paths, output)
    cfg = _config(config, locals())
    if cfg.run.engine == "spark":
        _scan_spark(paths, cfg, format, output, quiet, limit)
        return
    if format is ScanFormat.parquet:
        raise ConfigError(
            "--format parquet is written by the spark engine: add --engine spark and --output DIR"
        )
    report_format = Format(format.value)
    result, documents = _detect(paths, cfg, quiet, keep=report_format is Format.html)
    texts = {d.id: d.text for d in documents} if report_format is Format.html else None
    _write_result(result, report_format, output, quiet, texts, limit)


def _scan_spark(
    paths: list[str],
    cfg: Config,
    format: ScanFormat,
    output: str | None,
    quiet: bool,
    limit: int | None = None,
) -> None:
    """scan on Spark: json, jsonl or parquet to an --output directory are written by Spark;
    anything else is collected to this process and reported as the local engine reports."""
    from .engines.spark import SparkEngine

    distributed = output not in (None, "-") and format in (
        ScanFormat.json,
        ScanFormat.jsonl,
        ScanFormat.parquet,
    )
    if format is ScanFormat.parquet and not distributed:
        raise ConfigError("--format parquet: give --output DIR (Spark writes a directory of Parquet files)")
    job = SparkEngine(cfg, quiet=quiet).scan(paths)
    if distributed:
        assert output is not None
        job.write(output, format.value)
        tables = "documents, skipped, clusters, pairs" + (", passages, reuse_clusters" if job.local else "")
        _note(quiet, f"{job.summary_line()}\nwritten to {output}/ (summary.json, {tables})")
        return
    _write_result(job.result(), Format(format.value), output, quiet, None, limit)


def _write_result(
    result: Result,
    format: Format,
    output: str | None,
    quiet: bool,
    texts: dict[str, str] | None,
    limit: int | None = None,
) -> None:
    to_terminal = output in (None, "-") and sys.stdout.isatty()
    with _output(output) as fh:
        write_report(
            result,
            format.value,
            fh,
            color=to_terminal,
            width=os.get_terminal_size().columns if to_terminal else None,
            texts=texts,
            limit=limit,
        )
    if format is not Format.table or output not in (None, "-"):
        _note(quiet, result.summary_line())


@app.command(epilog=DEDUP_EXAMPLES)
def dedup(
    paths: PathsArg,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Deduplicated corpus, in the format its name gives: .jsonl, .csv (each maybe .gz, .zst, .bz2, .xz), .parquet, or a directory (no suffix).",
        ),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Where to write removed -> kept (.jsonl or .csv; default OUTPUT.mapping.jsonl).",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        str | None,
        typer.Option(
            help="Also write the full JSON report (clusters, pairs, skipped) here.", show_default=False
        ),
    ] = None,
    shards: Annotated[
        bool,
        typer.Option(
            "--shards",
            help="Write a directory mirroring the input shards: each kept record into the file of the "
            "same path and format (compression included) it was read from.",
        ),
    ] = False,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    jaccard_threshold: JaccardOpt = None,
    containment_threshold: ContainOpt = None,
    lsh_threshold: LshOpt = None,
    shingle_size: SizeOpt = None,
    shingle_kind: KindOpt = None,
    num_perm: PermOpt = None,
    seed: SeedOpt = None,
    representative: RepOpt = None,
    workers: WorkersOpt = None,
    id_field: IdOpt = None,
    text_field: TextOpt = None,
    passages: PassagesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write the corpus back with one representative per cluster, and a mapping of each removed document to the one kept."""
    _not_an_input(paths, output, mapping, report)
    if not shards:
        corpus_format(output)  # an unknown suffix is refused before the run, not after it
    elif not os.path.isdir(output) and _file_format(output):
        raise ConfigError(f"--output {output}: --shards writes a directory: give it a directory's name")
    cfg = _config(config, locals())
    result, documents = _detect(paths, cfg, quiet, keep=True)
    if shards:
        summary = write_shards(result, documents, output, expand(paths), mapping, cfg.input.max_chars)
    else:
        summary = write_corpus(result, documents, output, mapping, cfg.input.max_chars)
    if report:
        with _output(report) as fh:
            write_report(result, "json", fh)
    _report_skipped(quiet, result.skipped, " (see --report)")
    _note(
        quiet,
        f"{result.summary_line()}.\nkept {summary.kept}, removed {summary.removed}"
        + (f", skipped {len(result.skipped)} (not written)" if result.skipped else "")
        + f": corpus written to {summary.output}, mapping to {summary.mapping}",
    )


@app.command()
def warmup(quiet: QuietOpt = False) -> None:
    """Compile dedupe's kernels now (about 20 s after install; they are cached for every later run)."""
    import time

    t0 = time.perf_counter()
    from .kernels import compiled

    if not compiled():
        _note(quiet, "dedupe: compiling its kernels once, about 20 s")
    _warm_kernels()
    _note(quiet, f"dedupe: kernels ready ({time.perf_counter() - t0:.1f} s)")


@app.command("config")
def config_cmd(
    init: Annotated[
        str | None,
        typer.Option(
            "--init", help="Write a commented default config to this file (- for stdout).", show_default=False
        ),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Print the effective config (file plus flags).")
    ] = False,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    jaccard_threshold: JaccardOpt = None,
    containment_threshold: ContainOpt = None,
    lsh_threshold: LshOpt = None,
    shingle_size: SizeOpt = None,
    shingle_kind: KindOpt = None,
    num_perm: PermOpt = None,
    seed: SeedOpt = None,
    representative: RepOpt = None,
    workers: WorkersOpt = None,
    passages: PassagesOpt = None,
    force: Annotated[bool, typer.Option(help="With --init: overwrite an existing file.")] = False,
) -> None:
    """Write a commented default config (--init), or print the effective one (--show)."""
    if init is None and not show:
        raise ConfigError(
            "config: give --init FILE to write a default config, or --show to print the effective one"
        )
    if init is not None:
        text = dump_yaml(Config(), comments=True)
        if init == "-":
            typer.echo(text, nl=False)
        else:
            if os.path.exists(init) and not force:
                raise ConfigError(f"config --init: {init} exists (use --force to overwrite)")
            with atomic_write(init) as fh:
                fh.write(text)
            typer.echo(f"wrote {init}", err=True)
    if show:
        cfg = _config(config, locals())
        detector = Detector(cfg)
        typer.echo(dump_yaml(cfg, comments=False), nl=False)
        typer.echo(f"# lsh bands x rows in use: {detector.bands} x {detector.rows}")
        typer.echo(f"# a pair is accepted by {rules_text(cfg)} (verify.profile: {cfg.verify.profile})")


index_app = typer.Typer(
    no_args_is_help=True,
    help="A persistent index (an SQLite file): add documents, then check new ones against all seen before.",
)
app.add_typer(index_app, name="index")
IndexArg = Annotated[str, typer.Argument(help="The index file (SQLite).", show_default=False)]


def _open_index(path: str, config: str | None, params: dict[str, Any], **kw: Any) -> Index:
    """The index, with the config keys the user gave (file and flags) checked against its own."""
    from .index import Index

    return Index.open(path, explicit_keys(config, _flags(params)), **kw)


def _report_skipped(quiet: bool, skipped: list, more: str) -> None:
    for s in skipped[:20]:
        _note(quiet, f"skipped {s.source}: {s.reason}")
    if len(skipped) > 20:
        _note(quiet, f"... and {len(skipped) - 20} more skipped{more}")


@index_app.command("add")
def index_add(
    index: IndexArg,
    paths: PathsArg,
    config: ConfigOpt = None,
    shingle_size: SizeOpt = None,
    shingle_kind: KindOpt = None,
    num_perm: PermOpt = None,
    seed: SeedOpt = None,
    lsh_threshold: LshOpt = None,
    workers: WorkersOpt = None,
    id_field: IdOpt = None,
    text_field: TextOpt = None,
    passages: PassagesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Add documents to an index (made on first use, with the config's fingerprint parameters).

    Each batch of run.batch_size documents is committed in one transaction; a document whose id
    is in the index already is skipped."""
    check_paths(paths)  # before the index is made
    with (
        _Progress(not quiet) as progress,
        _open_index(index, config, locals(), create=True, write=True, progress=progress) as ix,
    ):
        count = 0

        def records() -> Iterator[Record]:
            nonlocal count
            for r in read_sources(paths, ix.config.input):
                count += 1
                yield r

        report = ix.add(records())
        if not count:
            raise NoDocumentsError(f"no documents found in {', '.join(paths)}")
    _report_skipped(quiet, report.skipped, "")
    _note(quiet, f"{report.summary_line()} ({report.seconds:.1f} s); index {index}")


@index_app.command("query")
def index_query(
    index: IndexArg,
    paths: PathsArg,
    add: Annotated[
        bool, typer.Option("--add", help="Then add the new documents to the index (in the same run).")
    ] = False,
    config: ConfigOpt = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    profile: ProfileOpt = None,
    jaccard_threshold: JaccardOpt = None,
    containment_threshold: ContainOpt = None,
    representative: RepOpt = None,
    workers: WorkersOpt = None,
    id_field: IdOpt = None,
    text_field: TextOpt = None,
    passages: PassagesOpt = None,
    limit: LimitOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Report each new document's near-duplicates and shared passages among the indexed documents
    (and the other new ones), with the same scores and formats as scan."""
    with (
        _Progress(not quiet) as progress,
        _open_index(index, config, locals(), write=add, progress=progress) as ix,
    ):
        texts: dict[str, str] | None = {} if format is Format.html else None
        _not_an_input([*paths, index], output)
        result = ix.query(read_sources(paths, ix.config.input), add=add, texts=texts)
    _write_result(result, format, output, quiet, texts, limit)
    if add:
        _note(quiet, f"added {result.stats['index'].get('added', 0)} documents to {index}")


@index_app.command("stats")
def index_stats(
    index: IndexArg,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts, parameters, size on disk and schema version of an index."""
    from .index import Index

    with Index.open(index) as ix:
        stats = ix.stats()
    if json_out:
        typer.echo(json.dumps(stats, indent=2))
        return
    per_doc = stats["bytes_per_document"]
    last = stats["last_batch"]
    lines = [
        f"index            {stats['path']}",
        f"schema version   {stats['schema_version']} (made by dedupe {stats['dedupe_version']}, {stats['created']})",
        f"documents        {stats['documents']:,} in {stats['batches']:,} batches"
        + (f" (last: {last['documents']:,} on {last['added']})" if last else ""),
        f"size on disk     {stats['bytes_on_disk']:,} bytes"
        + (f" ({per_doc:,} per document)" if per_doc else ""),
        f"rows             {stats['band_rows']:,} band keys, {stats['seed_rows']:,} passage seeds",
        "parameters       "
        + ", ".join(f"{k}={v}" for k, v in stats["fingerprint_params"].items())
        + f", passage seeds {'stored' if stats['passage_seeds'] else 'not stored'}",
    ]
    typer.echo("\n".join(lines))


@index_app.command("remove")
def index_remove(
    index: IndexArg,
    ids: Annotated[list[str], typer.Argument(help="Ids of the documents to remove.", show_default=False)],
    quiet: QuietOpt = False,
) -> None:
    """Remove documents from an index, in one transaction. Ids not in the index: exit code 3."""
    from .index import Index

    with Index.open(index, write=True) as ix:
        removed, missing = ix.remove(ids)
    _note(quiet, f"removed {len(removed)} documents from {index}")
    if missing:
        raise InputError(
            f"not in the index: {', '.join(missing[:10])}" + (" ..." if len(missing) > 10 else "")
        )


@index_app.command("check")
def index_check(
    index: IndexArg,
    upgrade: Annotated[bool, typer.Option("--upgrade", help="Upgrade an index of an older schema.")] = False,
) -> None:
    """Check an index: SQLite's integrity check and the index's own invariants. Exit code 5 on a problem."""
    from .index import Index

    with Index.open(index, write=upgrade) as ix:
        problems = ix.check()
        count = ix.store.count()
    if problems:
        raise IndexStoreError(f"{index}: {len(problems)} problems: " + "; ".join(problems))
    typer.echo(f"{index}: ok ({count:,} documents)")


def _caused_by_interrupt(err: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


OUT_OF_MEMORY = (
    "out of memory: raise the memory limit (ulimit -v, the container's), or lower run.workers "
    "and run.batch_size"
)
OUT_OF_MEMORY_EXIT = 8


def _no_memory(err: BaseException) -> bool:
    """Whether a failure (to load a shared library, mostly) says the memory ran out: its message
    or errno says so, or a library would not load under an address-space limit (``ulimit -v``)."""
    import errno
    import resource

    message = str(err)
    if "failed to map segment" in message or "Cannot allocate memory" in message:
        return True
    if isinstance(err, OSError) and err.errno == errno.ENOMEM:
        return True
    loading = isinstance(err, ImportError) or "shared object" in message
    return loading and resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    with contextlib.suppress(AttributeError, ValueError):  # a replaced or closed stdout
        sys.stdout.reconfigure(errors=OUTPUT_ERRORS)
    keep_freed_memory()  # a batch job's process: see its note
    try:
        command = typer.main.get_command(app)  # inside: Ctrl-C can come while typer builds it
        rv = command.main(args=argv, prog_name="dedupe", standalone_mode=False)
    except DedupeError as err:
        typer.echo(f"dedupe: error: {err}", err=True)
        return err.exit_code
    except typer.TyperException as err:  # usage errors: bad option, missing argument, bad value
        if type(err).__name__ == "NoArgsIsHelpError":  # a bare `dedupe`: the help is shown, no error
            return 0
        typer.echo(f"dedupe: error: {err.format_message()}", err=True)
        return getattr(err, "exit_code", 2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo(interrupts.stopped_message(), err=True)
        return interrupts.exit_code()
    except MemoryError:
        typer.echo(f"dedupe: error: {OUT_OF_MEMORY}", err=True)
        return OUT_OF_MEMORY_EXIT
    except sqlite3.DatabaseError as err:  # only the index uses SQLite: a damaged or unusable file
        if any(m in str(err) for m in ("disk is full", "disk I/O error", "readonly database")):
            typer.echo(f"dedupe: error: index: cannot write: {err}", err=True)  # the system refused
            return OutputError.exit_code
        typer.echo(f"dedupe: error: index: {err} (see `dedupe index check`)", err=True)
        return IndexStoreError.exit_code
    except OSError as err:  # the system refused (a full disk, a read-only file system): not a bug
        if _no_memory(err):
            typer.echo(f"dedupe: error: {OUT_OF_MEMORY} ({err})", err=True)
            return OUT_OF_MEMORY_EXIT
        where = f": {err.filename}" if err.filename else ""
        typer.echo(f"dedupe: error: {err.strerror or err}{where}", err=True)
        return OutputError.exit_code
    except Exception as err:  # a bug: one line, the traceback on request
        if _caused_by_interrupt(err):
            # Ctrl-C as a compiled kernel returns: numba reports the pending KeyboardInterrupt as
            # "SystemError: ... returned a result with an exception set"
            typer.echo(interrupts.stopped_message(), err=True)
            return interrupts.exit_code()
        if _no_memory(err):  # a library could not be mapped
            what = getattr(err, "name", None) or "a library"
            typer.echo(f"dedupe: error: {OUT_OF_MEMORY} (loading {what})", err=True)
            return OUT_OF_MEMORY_EXIT
        if os.environ.get("DEDUPE_DEBUG"):
            raise
        typer.echo(
            f"dedupe: internal error: {type(err).__name__}: {err} (DEDUPE_DEBUG=1 shows the traceback)",
            err=True,
        )
        return 1
    code = rv if isinstance(rv, int) else 0
    if code == 130:  # the command line's own Ctrl-C path (click answers KeyboardInterrupt with 130)
        typer.echo(interrupts.stopped_message(), err=True)
        return interrupts.exit_code()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
