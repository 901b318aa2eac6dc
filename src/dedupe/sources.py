"""Sources: paths, JSONL, CSV, Parquet and stdin -> :class:`Document` or :class:`Skipped`.

Every record read becomes exactly one of the two, so a run can account for its whole input.

* A directory is walked recursively for files whose ending is in ``input.extensions``; a
  document's id is its path relative to the directory given, with ``/`` separators. Symlinked
  directories are followed once: a link back into a directory already walked (a loop) is
  reported as skipped.
* A file given by name is read by its ending: ``.jsonl``/``.ndjson`` as JSON Lines, ``.csv`` as
  CSV, ``.parquet`` as Parquet (extra ``dedupe-text[parquet]``), anything else as one text document
  whose id is the path as given.
* ``-`` reads JSON Lines from standard input.

Text files are decoded as UTF-8 (a UTF-8 or UTF-16 byte order mark is honoured); bytes that
are not valid UTF-8 are replaced with U+FFFD and the document carries a note saying so. A file
that looks binary (NUL bytes or many control bytes near its start) is skipped.

A document longer than ``input.max_chars`` is skipped with its size. It is never read whole:
a text file is judged by its size on disk, a JSON Lines record is read with a bounded
``readline`` (4 bytes a character) and the rest of an over-long line is skipped in chunks.
"""

from __future__ import annotations

import codecs
import csv
import glob
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any, NamedTuple

import numpy as np
import xxhash

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a dependency; the standard library reads alone
    _orjson = None

from .config import InputConfig
from .errors import InputError
from .output import COMPRESSIONS
from .records import Document, Skipped

Record = Document | Skipped


class Pending(NamedTuple):
    """JSON Lines read but not parsed yet (``read_sources(..., parse=False)``): whole lines of one
    file as they are on disk, for the pipeline's map stage to parse on its workers. ``data`` is
    None for one line longer than :func:`jsonl_limit`, skipped unread."""

    data: bytes | None
    lineno: int  # the number of the first line in data
    lines: int
    name: str
    base: str
    span: tuple[str, int, int] | None = None  # (path, start, end): the lines are read from there
    stamp: tuple[int, int] | None = None  # the file's (size, mtime_ns) when it was split

    def parse(self, cfg: InputConfig) -> Iterator[Record]:
        """What :func:`read_jsonl_stream` would have yielded for these lines."""
        for record, _ in self._records(cfg, False):
            yield record

    def located(self, cfg: InputConfig) -> Iterator[tuple[Record, tuple[int, int, int] | None]]:
        """:meth:`parse`, each record with where its line is in the file (``span``'s path): the
        byte range and the xxh3-64 hash of the line's bytes; None when the lines were not read
        from a file."""
        return self._records(cfg, True)

    def _records(
        self, cfg: InputConfig, locate: bool
    ) -> Iterator[tuple[Record, tuple[int, int, int] | None]]:
        data, lineno = self.data, self.lineno
        base = None
        if self.span is not None:
            path, start, end = self.span
            try:
                with open(path, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    fh.seek(start)
                    data = fh.read(end - start)
                if locate:
                    base = start
                changed = self.stamp is not None and self.stamp != (st.st_size, st.st_mtime_ns)
                if changed or len(data) != end - start:  # written since it was split: wrong records
                    raise InputError(
                        f"{self.name} changed while it was read (lines {lineno} to "
                        f"{lineno + self.lines - 1} were split from another version of it): run again "
                        "on a file nothing is writing"
                    )
            except OSError as err:
                skipped = Skipped(
                    source=f"{self.name}:{lineno}",
                    reason=f"unreadable file: {err.strerror or err} (lines {lineno} to "
                    f"{lineno + self.lines - 1} not read)",
                )
                yield skipped, None
                return
        if data is None:
            yield jsonl_record(None, lineno, self.name, self.base, cfg), None  # type: ignore[misc]
            return
        pos, size = 0, len(data)
        while pos < size:
            end = data.find(b"\n", pos) + 1 or size
            raw = data[pos:end]
            if not raw.isspace():
                record = jsonl_record(raw, lineno, self.name, self.base, cfg)
                if record is not None:
                    at = None if base is None else (base + pos, base + end, xxhash.xxh3_64_intdigest(raw))
                    yield record, at
            pos = end
            lineno += 1


class Texts(Sequence[str]):
    """Documents' texts, in order: each one held, or read again from its line of a JSON Lines file
    when it is asked for.

    The passage stage reads only the texts of the passages it reports, so a scan of a JSON Lines
    file need not hold every text (3 GB of a million 3 KB documents) nor send them back from the
    map stage's workers: it keeps where each line is (:meth:`Pending.located`) and the line's
    hash. A text read again is checked against that hash: a file that changed during the run
    raises :class:`InputError` rather than give offsets into a different text. :meth:`slices`
    reads each document asked for once, however many of its passages are asked."""

    def __init__(
        self,
        held: list[str | None],
        paths: list[str | None],
        spans: np.ndarray,
        digests: np.ndarray,
        chars: list[int],
        cfg: InputConfig,
    ) -> None:
        """``held[i]`` is text ``i``, or None to read it from bytes ``spans[i]`` of ``paths[i]``, whose
        xxh3-64 hash is ``digests[i]``; ``chars[i]`` is its length."""
        self.held, self.paths, self.spans, self.digests = held, paths, spans, digests
        self.chars, self.cfg = chars, cfg

    @classmethod
    def of(cls, texts: list[str], cfg: InputConfig) -> Texts:
        """Texts all held."""
        n = len(texts)
        return cls(
            list(texts),
            [None] * n,
            np.zeros((n, 2), dtype=np.int64),
            np.zeros(n, dtype=np.uint64),
            [len(t) for t in texts],
            cfg,
        )

    def __len__(self) -> int:
        return len(self.held)

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        text = self.held[i]
        return text if text is not None else self.slices([i], [0], [self.chars[i]])[0]

    def _read(self, i: int, files: dict[str, int]) -> str:
        """Text ``i`` read again from its line (``files``: descriptors kept open, by path)."""
        path = str(self.paths[i])
        start, end = self.spans[i].tolist()
        try:
            fd = files.get(path)
            if fd is None:
                fd = files[path] = os.open(path, os.O_RDONLY)
            raw = os.pread(fd, end - start, start)
        except OSError as err:
            raise InputError(
                f"cannot read {path} again for a passage's text: {err.strerror or err}"
            ) from None
        if xxhash.xxh3_64_intdigest(raw) != int(self.digests[i]):
            raise InputError(f"{path} changed while dedupe read it (bytes {start} to {end}): run again")
        # the very bytes jsonl_record made a document of: its text, without checking them again
        if start == 0 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        record = _fast_loads(raw)
        if record is _UNREAD:
            record = json.loads(raw.decode("utf-8", errors="replace"))
        return field(record, self.cfg.text_field)  # type: ignore[no-any-return]

    def slices(self, docs: Sequence[int], starts: Sequence[int], ends: Sequence[int]) -> list[str]:
        """``self[docs[k]][starts[k]:ends[k]]`` for each ``k``, each text read once (in the order of
        the documents, whatever the order asked)."""
        out: list[str] = [""] * len(docs)
        files: dict[str, int] = {}
        text, last = "", -1
        try:
            for k in sorted(range(len(docs)), key=docs.__getitem__):
                d = docs[k]
                if d != last:
                    held = self.held[d]
                    text, last = held if held is not None else self._read(d, files), d
                out[k] = text[starts[k] : ends[k]]
        finally:
            for fd in files.values():
                os.close(fd)
        return out

    def length(self, i: int) -> int:
        """``len(self[i])``, without reading it."""
        return self.chars[i]

    @property
    def unread(self) -> int:
        """How many texts are not held."""
        return sum(t is None for t in self.held)

    def take(self, rows: Sequence[int]) -> Texts:
        """These texts, in this order."""
        index = np.asarray(rows, dtype=np.int64)
        return Texts(
            [self.held[k] for k in rows],
            [self.paths[k] for k in rows],
            self.spans[index].reshape(-1, 2),
            self.digests[index],
            [self.chars[k] for k in rows],
            self.cfg,
        )

    def __add__(self, other: Sequence[str]) -> Texts:  # type: ignore[override]
        if not isinstance(other, Texts):
            other = Texts.of(list(other), self.cfg)
        return Texts(
            self.held + other.held,
            self.paths + other.paths,
            np.concatenate([self.spans, other.spans]),
            np.concatenate([self.digests, other.digests]),
            self.chars + other.chars,
            self.cfg,
        )

    def __radd__(self, other: Sequence[str]) -> Texts:
        return Texts.of(list(other), self.cfg) + self


_SNIFF = 8192
_TEXT_CONTROLS = set(b"\t\n\r\f\v\x1b")
# compressed data, by its magic bytes: never read as text (whatever the file's name)
_COMPRESSED = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


def compression(head: bytes) -> str | None:
    """The compression a file's first bytes show (gzip, zstd, bzip2, xz), or None."""
    for magic, name in _COMPRESSED:
        if head.startswith(magic):
            return name
    return None


_COMPRESSION_SUFFIXES = frozenset(COMPRESSIONS)  # the suffixes a compressed file is named by


def _open_compressed(path: Path | IO[bytes], kind: str) -> IO[bytes]:
    """A binary stream of the decompressed bytes of ``path`` (a path, or an open binary file;
    ``kind``: :func:`compression`)."""
    if kind == "gzip":
        import gzip

        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        import bz2

        return bz2.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        import lzma

        return lzma.open(path, "rb")  # type: ignore[return-value]
    import io

    import zstandard

    source = open(path, "rb") if isinstance(path, (str, Path)) else path
    raw = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True, closefd=True)
    return io.BufferedReader(raw)  # type: ignore[arg-type]


def _corrupt_errors() -> tuple[type[BaseException], ...]:
    """What a decompressor raises on damaged or truncated data."""
    import lzma
    import zlib

    import zstandard

    return (OSError, EOFError, lzma.LZMAError, zlib.error, zstandard.ZstdError)


def _format_suffix(path: Path) -> str:
    """The suffix naming a file's format: ``.jsonl`` for ``x.jsonl.gz`` (a compression suffix is
    dropped), the last one otherwise."""
    suffixes = [x.lower() for x in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _sniff(path: Path) -> bytes:
    """A file's first bytes (empty when it cannot be read: the reader reports why)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError:
        return b""


_GLOB = frozenset("*?[")


def expand(paths: Iterable[str]) -> list[str]:
    """The paths, each pattern among them (``'shards/*.jsonl'``, ``'dumps/**/*.jsonl.gz'``, quoted
    so that the shell left it alone) replaced by the paths it matches, sorted. A path that exists
    is taken as it is, whatever characters it holds."""
    out: list[str] = []
    for p in paths:
        if is_remote(p):  # matched where it lives (read_remote)
            out.append(p)
        elif p != "-" and not os.path.lexists(p) and _GLOB & set(p):
            matched = sorted(glob.glob(p, recursive=True))
            if not matched:
                raise InputError(f"no path matches {p}")
            out.extend(matched)
        else:
            out.append(p)
    return out


def check_paths(paths: Iterable[str]) -> None:
    """Fail with one line for the first path that does not exist (``-`` is stdin; a pattern must
    match something: :func:`expand`)."""
    for p in expand(paths):
        if p != "-" and not is_remote(p) and not os.path.lexists(p):
            raise InputError(f"path not found: {p}")


def read_sources(
    paths: Iterable[str],
    cfg: InputConfig,
    stdin: IO[bytes] | None = None,
    keep_records: bool = False,
    parse: bool = True,
) -> Iterator[Record | Pending]:
    """Documents and skipped records from every path, in a stable order.

    ``keep_records`` keeps each JSONL/CSV record whole in ``Document.meta["record"]`` (its text is
    the same string object, so only the other fields cost memory), for writing it back unchanged.
    ``parse=False`` yields JSON Lines records as :class:`Pending` lines for the pipeline's map
    stage to parse (blank lines are dropped here, as parsing would drop them)."""
    given = list(paths)
    paths = expand(given)
    check_paths(paths)
    # what a pattern matched is named by its path as matched (two shards of one name in two
    # folders of 'dumps/*' must not share their records' ids); a path given is named as before
    matched = set(paths) - set(given)
    for p in paths:
        if p == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            peek = getattr(stream, "peek", None)
            kind = compression(peek(8)[:8]) if peek is not None else None
            if kind:
                yield Skipped(
                    source="<stdin>", reason=f"compressed data ({kind}): decompress it into the pipe"
                )
                continue
            yield from read_jsonl_stream(stream, "<stdin>", cfg, keep_records, parse)
        elif is_remote(p):
            yield from read_remote(p, cfg, keep_records, parse)
        elif os.path.isdir(p):
            yield from read_directory(Path(p), cfg, keep_records, parse, p if p in matched else None)
        else:
            yield from read_file(Path(p), p, cfg, keep_records, parse, base=p if p in matched else None)


RECORD_FORMATS = (".jsonl", ".ndjson", ".csv", ".parquet")  # read record by record, in directories too


def read_directory(
    root: Path, cfg: InputConfig, keep_records: bool = False, parse: bool = True, prefix: str | None = None
) -> Iterator[Record | Pending]:
    """Every file under ``root`` (symlinks followed, loops reported) whose format dedupe reads: a
    shard of records (``.jsonl``, ``.ndjson``, ``.csv``, ``.parquet``, each maybe compressed:
    ``part-0.jsonl.gz``) is read record by record, a record without an id taking its path in the
    directory and its line (``2024/part-0.jsonl:12``); a file ending in one of
    ``input.extensions`` (maybe compressed) is one text, its id its path in the directory.
    Files are read in order of those paths. ``prefix`` (a directory a pattern matched) goes
    before each of those paths in the names."""
    exts = tuple(e.lower() for e in cfg.extensions)
    found: list[tuple[str, Path]] = []
    problems: list[Skipped] = []

    def on_error(err: OSError) -> None:
        problems.append(
            Skipped(source=str(err.filename or root), reason=f"unreadable directory: {err.strerror}")
        )

    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in _walk(str(root), on_error):
        try:
            st = os.stat(dirpath)
        except OSError as err:
            problems.append(Skipped(source=dirpath, reason=f"unreadable directory: {err.strerror}"))
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # reached again through a symlink: a loop or a second path
            problems.append(Skipped(source=dirpath, reason="symlink loop: directory already read"))
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames.sort()
        for name in filenames:
            fmt = _format_suffix(Path(name))
            if fmt in RECORD_FORMATS or name.lower().endswith(exts) or (fmt and fmt in exts):
                path = Path(dirpath) / name
                doc_id = path.relative_to(root).as_posix()
                if prefix is not None:
                    doc_id = f"{PurePosixPath(prefix).as_posix()}/{doc_id}"
                try:
                    mode = os.stat(path).st_mode
                except OSError as err:
                    problems.append(Skipped(str(path), f"unreadable file: {err.strerror or err}", doc_id))
                    continue
                if not stat.S_ISREG(mode):  # a FIFO would block the scan forever, a device never end
                    problems.append(
                        Skipped(str(path), f"not a regular file ({_file_kind(mode)}): not read", doc_id)
                    )
                    continue
                found.append((doc_id, path))
    yield from problems
    for doc_id, path in sorted(found):
        fmt = _format_suffix(path)
        if fmt in RECORD_FORMATS or fmt != path.suffix.lower():  # records, or compressed
            yield from read_file(path, str(path), cfg, keep_records, parse, base=doc_id, doc_id=doc_id)
        else:
            yield read_text_file(path, doc_id, str(path), cfg.max_chars)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_remote(path: str) -> bool:
    """Whether ``path`` is a URL read through fsspec (``s3://``, ``gs://``, ``hf://``, ...): any
    scheme but ``file://``."""
    return bool(_SCHEME.match(path)) and not path.startswith("file://")


def read_remote(
    url: str, cfg: InputConfig, keep_records: bool = False, parse: bool = True
) -> Iterator[Record | Pending]:
    """A remote file, directory or pattern, read through fsspec (the ``remote`` extra, plus the
    scheme's own package: s3fs, gcsfs, huggingface_hub) as a local one is: records by the format
    the name gives, compression by the first bytes, a directory's shards and texts in order of
    their paths in it."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise InputError(
            f"reading {url} needs fsspec: pip install 'dedupe-text[remote]' (and the package for its "
            "scheme: s3fs, gcsfs, huggingface_hub, ...)"
        ) from None
    try:
        fs, root = url_to_fs(url)
        protocol = url.split("://", 1)[0]
        if _GLOB & set(root):
            files, base_dir = sorted(fs.glob(root)), None
            if not files:
                raise InputError(f"no path matches {url}")
        elif fs.isdir(root):
            base_dir = root.rstrip("/")
            exts = tuple(e.lower() for e in cfg.extensions)
            files = [
                f
                for f in sorted(fs.find(root))
                if _format_suffix(PurePosixPath(f)) in RECORD_FORMATS
                or f.lower().endswith(exts)
                or _format_suffix(PurePosixPath(f)) in exts
            ]
        elif fs.exists(root):
            files, base_dir = [root], None
        else:
            raise InputError(f"path not found: {url}")
    except (ImportError, ValueError) as err:  # an unknown scheme, its package missing
        raise InputError(f"cannot read {url}: {err}") from None
    for f in files:
        given = f if "://" in f else f"{protocol}://{f}"
        inside = base_dir is not None and f.startswith(base_dir + "/")
        # a pattern's match is named by its path as matched, as locally
        rel = f[len(base_dir) + 1 :] if inside else given if _GLOB & set(root) else PurePosixPath(f).name  # type: ignore[operator]
        # as locally: a record without an id is named after its file (its path in a directory),
        # a text file's id is its path in the directory, or the path as given
        yield from _read_remote_file(fs, f, given, rel, rel if inside else given, cfg, keep_records, parse)


def _read_remote_file(
    fs: Any,
    path: str,
    given: str,
    rel: str,
    doc_id: str,
    cfg: InputConfig,
    keep_records: bool,
    parse: bool,
) -> Iterator[Record | Pending]:
    fmt = _format_suffix(PurePosixPath(path))
    try:
        with fs.open(path, "rb") as fh:
            head = fh.read(8)
            fh.seek(0)
            kind = compression(head) if fmt != ".parquet" else None
            stream = _open_compressed(fh, kind) if kind else fh
            if fmt in (".jsonl", ".ndjson"):
                yield from read_jsonl_stream(stream, given, cfg, keep_records, parse, None, rel)
            elif fmt == ".csv":
                import io

                text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
                yield from _csv_records(text, PurePosixPath(path), given, cfg, keep_records, rel)
            elif fmt == ".parquet":
                yield from read_parquet(fh, given, cfg, rel, keep_records)  # type: ignore[arg-type]
            else:
                yield stream_text(stream, doc_id, given, cfg.max_chars)
    except _corrupt_errors() as err:
        yield Skipped(source=given, reason=f"unreadable remote file: {err}")


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return kind
    return "special file"


def _walk(root: str, on_error: Callable[[OSError], None]) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(root, followlinks=True)``, top down, without recursion: a tree a thousand
    directories deep is read, not a RecursionError. The caller may prune or reorder each
    ``dirnames`` list before the walk goes into it."""
    stack = [root]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as entries:
                listed = list(entries)
        except OSError as err:
            on_error(err)
            continue
        dirnames, filenames = [], []
        for entry in listed:
            try:
                is_dir = entry.is_dir()  # through symlinks, as followlinks=True
            except OSError:
                is_dir = False
            (dirnames if is_dir else filenames).append(entry.name)
        yield top, dirnames, filenames
        stack.extend(os.path.join(top, d) for d in reversed(dirnames))


def read_file(
    path: Path,
    given: str,
    cfg: InputConfig,
    keep_records: bool = False,
    parse: bool = True,
    base: str | None = None,
    doc_id: str | None = None,
) -> Iterator[Record | Pending]:
    """The records of one file, by the format its name gives (compression by its first bytes).
    ``base``: what a record without an id is named after (``{base}:{line}``; the file's name by
    default); ``doc_id``: the id of a file read as one text (``given`` by default)."""
    suffix = path.suffix.lower()
    base = base or path.name
    if suffix != ".parquet" and (kind := compression(_sniff(path))):
        yield from _read_compressed(path, given, kind, cfg, keep_records, parse, base, doc_id or given)
        return
    if suffix in (".jsonl", ".ndjson"):
        try:
            with open(path, "rb") as fh:
                regular = stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
                yield from read_jsonl_stream(
                    fh, given, cfg, keep_records, parse, os.path.abspath(path) if regular else None, base
                )
        except OSError as err:
            yield Skipped(source=given, reason=f"unreadable file: {err.strerror or err}")
    elif suffix == ".csv":
        yield from read_csv(path, given, cfg, keep_records, base)
    elif suffix == ".parquet":
        yield from read_parquet(path, given, cfg, base, keep_records)
    else:
        yield read_text_file(path, doc_id or given, given, cfg.max_chars)


def _read_compressed(
    path: Path,
    given: str,
    kind: str,
    cfg: InputConfig,
    keep_records: bool,
    parse: bool,
    base: str | None = None,
    doc_id: str | None = None,
) -> Iterator[Record | Pending]:
    """A compressed file (recognised by its magic bytes), decompressed as it is read: JSON Lines or
    CSV when the name says so under its compression suffix (``x.jsonl.gz``), else one text. Damaged
    data ends the file with a skipped record saying so, after the records read before it."""
    fmt = _format_suffix(path)
    try:
        with _open_compressed(path, kind) as fh:
            if fmt in (".jsonl", ".ndjson"):
                yield from read_jsonl_stream(fh, given, cfg, keep_records, parse, None, base)
            elif fmt == ".csv":
                import io

                text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
                yield from _csv_records(text, path, given, cfg, keep_records, base)
            else:
                yield stream_text(fh, doc_id or given, given, cfg.max_chars)
    except _corrupt_errors() as err:
        yield Skipped(source=given, reason=f"damaged {kind} data: {err}")


def stream_text(stream: IO[bytes], doc_id: str, source: str, max_chars: int) -> Record:
    """A whole stream (a decompressed file) as one text, read no further than a text over
    ``max_chars`` needs to be known as one."""
    data = stream.read(4 * max_chars + 5)
    if len(data) > 4 * max_chars + 4:
        return Skipped(source=source, id=doc_id, reason=too_large_file(len(data), max_chars))
    return text_record(data, doc_id, source, max_chars)


def _too_large(size: int, unit: str, max_chars: int) -> str:
    return f"document too large: {size:,} {unit} (input.max_chars is {max_chars:,})"


def decode_bytes(data: bytes) -> tuple[str, list[str]]:
    """Text from bytes: BOMs honoured, invalid UTF-8 replaced. Returns (text, notes)."""
    notes: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        notes.append("utf-8 byte order mark removed")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        notes.append("decoded as UTF-16")
        text = data.decode("utf-16", errors="replace")
        if "\ufffd" in text:
            notes.append("invalid UTF-16 replaced with U+FFFD")
        return text, notes
    try:
        return data.decode("utf-8"), notes
    except UnicodeDecodeError:
        notes.append("invalid UTF-8 replaced with U+FFFD")
        return data.decode("utf-8", errors="replace"), notes


def looks_binary(head: bytes) -> bool:
    """NUL bytes or more than 10% control bytes in the first bytes (after any BOM check)."""
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        nul_share = head.count(0) / len(head)
        if nul_share > 0.01:
            return True
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return controls / len(head) > 0.10


def read_text_file(path: Path, doc_id: str, source: str, max_chars: int) -> Record:
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > 4 * max_chars:  # UTF-8 takes at most 4 bytes a character: surely too long
                return Skipped(source=source, id=doc_id, reason=too_large_file(size, max_chars))
            data = fh.read(4 * max_chars + 4)
    except OSError as err:
        return Skipped(source=source, id=doc_id, reason=f"unreadable file: {err.strerror or err}")
    return text_record(data, doc_id, source, max_chars)


def too_large_file(size: int, max_chars: int) -> str:
    """The reason a text file of ``size`` bytes is skipped unread (more bytes than 4 x max_chars)."""
    return _too_large(size, "bytes", max_chars)


def text_record(data: bytes, doc_id: str, source: str, max_chars: int) -> Record:
    """A text file's bytes (at most 4 x max_chars + 4 of them) -> its document, or why it is skipped."""
    if kind := compression(data[:8]):  # compressed data inside compressed data, or in a directory's .txt
        return Skipped(source=source, id=doc_id, reason=f"compressed file ({kind}) in a directory or nested")
    if looks_binary(data[:_SNIFF]):
        return Skipped(source=source, id=doc_id, reason="binary file")
    text, notes = decode_bytes(data)
    if len(text) > max_chars:
        return Skipped(source=source, id=doc_id, reason=_too_large(len(text), "characters", max_chars))
    meta: dict[str, Any] = {"notes": notes} if notes else {}
    return Document(id=doc_id, text=text, source=source, meta=meta)


_MISSING = object()


def field(rec: dict[str, Any], name: str, default: Any = None) -> Any:
    """``rec[name]``; when the record has no such key and ``name`` is dotted (``meta.text``), the
    value at that path through nested objects; else ``default``."""
    if name in rec:
        return rec[name]
    if "." not in name:
        return default
    value: Any = rec
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def _record_to_doc(rec: Any, source: str, default_id: str, cfg: InputConfig, keep: bool = False) -> Record:
    if not isinstance(rec, dict):
        return Skipped(source=source, reason=f"record is a JSON {type(rec).__name__}, not an object")
    raw_id = field(rec, cfg.id_field)
    notes: list[str] = []
    if raw_id is None or raw_id == "":
        doc_id = default_id
        notes.append(f"no '{cfg.id_field}' field: id taken from the source position")
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
        doc_id = str(raw_id)
    else:
        return Skipped(
            source=source, reason=f"id field '{cfg.id_field}' is a {type(raw_id).__name__}, not a string"
        )
    text = field(rec, cfg.text_field, _MISSING)
    if text is _MISSING:
        return Skipped(source=source, id=doc_id, reason=f"missing text field '{cfg.text_field}'")
    if not isinstance(text, str):
        kind = "null" if text is None else type(text).__name__
        return Skipped(
            source=source, id=doc_id, reason=f"text field '{cfg.text_field}' is {kind}, not a string"
        )
    meta: dict[str, Any] = {}
    date = field(rec, cfg.date_field)
    if isinstance(date, str) and date:
        meta["date"] = date
    if notes:
        meta["notes"] = notes
    if keep:
        meta["record"] = rec
    return Document(id=doc_id, text=text, source=source, meta=meta)


def _bounded_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line; the line is None when longer than ``limit`` bytes, and
    then it is skipped in chunks, never held whole."""
    lineno = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 20)
            yield lineno, None
        else:
            yield lineno, line


def _newlines(data: bytes, start: int = 0, end: int | None = None) -> int:
    """``data.count(b"\\n", start, end)``, vectorised by numpy: about four times as fast over the
    megabyte blocks in which a JSON Lines file is read (bytes.count tests one byte at a time)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8)[start:end] == 10))


def _line_blocks(
    stream: IO[bytes], limit: int, size: int = 1 << 20
) -> Iterator[tuple[int, bytes | None, int]]:
    """(number of the first line, whole lines, how many) in blocks of about ``size`` bytes; a line
    longer than ``limit`` that does not fit a block comes alone as None, skipped in chunks and never
    held whole (a shorter over-long line comes in its block: the parser skips it by its length)."""
    lineno, carry = 1, b""
    while True:
        data = stream.read(size)
        if not data:
            if carry:  # (after a skipped line it can hold several lines)
                yield lineno, carry, carry.count(b"\n") + (not carry.endswith(b"\n"))
            return
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n") + 1
        if cut:
            lines = _newlines(buf, 0, cut)
            yield lineno, buf[:cut], lines
            lineno += lines
        carry = buf[cut:]
        if len(carry) > limit:
            carry = b""
            while data:
                data = stream.read(size)
                nl = data.find(b"\n")
                if nl >= 0:
                    carry = data[nl + 1 :]
                    break
            yield lineno, None, 1
            lineno += 1


def _line_spans(
    stream: IO[bytes], limit: int, size: int = 1 << 20
) -> Iterator[tuple[int, int | None, int, int]]:
    """(number of the first line, start, end, how many lines): the byte ranges of a seekable stream
    that :func:`_line_blocks` would give as blocks, found without keeping the bytes, so that the
    map stage's workers read their own ranges. A line longer than ``limit`` that does not fit a
    range comes alone with start None: skipped unread."""
    lineno, start, end, pos, lines = 1, 0, 0, 0, 0
    # [start, end): ``lines`` whole lines not given yet; [end, pos): the start of a line
    while True:
        data = stream.read(size)
        if not data:
            if pos > start:
                yield lineno, start, pos, lines + (pos > end)
            return
        nl = data.rfind(b"\n")
        if nl >= 0:
            lines += _newlines(data)
            end = pos + nl + 1
        pos += len(data)
        if lines:
            yield lineno, start, end, lines
            lineno, start, lines = lineno + lines, end, 0
        if pos - start > limit:  # the line begun at start is over-long: skip it, unread
            nl = -1
            while nl < 0 and (data := stream.read(size)):
                nl = data.find(b"\n")
                pos += len(data)
            yield lineno, None, 0, 1
            if nl < 0:  # the stream ended inside it
                return
            lineno += 1
            start = end = pos - len(data) + nl + 1
            last = data.rfind(b"\n")
            lines = _newlines(data, nl + 1)
            if lines:
                end = pos - len(data) + last + 1


def jsonl_limit(cfg: InputConfig) -> int:
    """Longest JSON Lines record read, in bytes: 4 bytes a character is UTF-8's most (a record that
    spells most characters as \\u escapes, 6 bytes each, can be skipped below max_chars: the price of
    a bounded read)."""
    return 4 * cfg.max_chars + 4096


def read_jsonl_stream(
    stream: IO[bytes],
    name: str,
    cfg: InputConfig,
    keep_records: bool = False,
    parse: bool = True,
    path: str | None = None,
    base: str | None = None,
) -> Iterator[Record | Pending]:
    """Records of a JSON Lines stream; with ``parse`` False, :class:`Pending` blocks of lines for the
    map stage to parse: when ``path`` names the regular file the stream reads, only the blocks'
    byte ranges (the workers read the lines themselves, so this process neither copies nor sends
    them), else the lines."""
    limit = jsonl_limit(cfg)
    base = base or Path(name).name  # a record without an id is named {base}:{line}
    if not parse and path is not None:
        st = os.fstat(
            stream.fileno()
        )  # checked again where the lines are read: a file written meanwhile is an error
        stamp = (st.st_size, st.st_mtime_ns)
        for lineno, start, end, lines in _line_spans(stream, limit):
            yield Pending(
                None, lineno, lines, name, base, None if start is None else (path, start, end), stamp
            )
        return
    if not parse:
        for lineno, data, lines in _line_blocks(stream, limit):
            yield Pending(data, lineno, lines, name, base)
        return
    for lineno, raw in _bounded_lines(stream, limit):
        record = jsonl_record(raw, lineno, name, base, cfg, keep_records)
        if record is not None:
            yield record


_UNREAD = object()


def _fast_loads(raw: bytes) -> Any:
    """``raw`` parsed by orjson (about 2.5 times faster than the standard library), or ``_UNREAD``
    when orjson is missing or refuses the line: invalid UTF-8, lone surrogates, NaN, integers past
    64 bits, deep nesting. Those lines go through ``json.loads`` as before, so what is read and
    what is skipped, and why, do not depend on which parser ran."""
    if _orjson is None:
        return _UNREAD
    try:
        rec = _orjson.loads(raw)
    except (_orjson.JSONDecodeError, RecursionError, ValueError, TypeError):
        return _UNREAD
    # orjson reads an integer past 64 bits as a float: any float is read again by json.loads,
    # whose floats are the same and whose integers are exact (records hold few numbers)
    return _UNREAD if _holds_float(rec) else rec


_NOT_FLOAT = frozenset({str, int, bool, type(None)})  # scalars that hold no float


def _holds_float(value: Any) -> bool:
    """Whether a float stands anywhere in a parsed record (walked with a stack: a record nested
    as deeply as orjson reads, 1,024 levels, must not exhaust Python's recursion limit)."""
    if type(value) is dict:  # the common record, a flat object of strings and integers: one look
        for v in value.values():
            if type(v) not in _NOT_FLOAT:
                break
        else:
            return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def jsonl_record(
    raw: bytes | None, lineno: int, name: str, base: str, cfg: InputConfig, keep_records: bool = False
) -> Record | None:
    """One line of a JSON Lines file ``name`` -> its document, or why it is skipped; None for a blank
    line. ``raw`` is None for a line longer than :func:`jsonl_limit`; a document without an id takes
    ``{base}:{lineno}``."""
    source = f"{name}:{lineno}"
    limit = jsonl_limit(cfg)
    if raw is None or len(raw) > limit:
        return Skipped(
            source=source,
            reason=f"line {lineno} longer than {limit:,} bytes (input.max_chars is {cfg.max_chars:,})",
        )
    if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if not raw.strip():
        return None
    rec = _fast_loads(raw)
    if rec is not _UNREAD:  # valid UTF-8 and plain JSON: what json.loads would make of it
        return _record_to_doc(rec, source, f"{base}:{lineno}", cfg, keep_records)
    line = raw.decode("utf-8", errors="replace")
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        return Skipped(
            source=source, reason=f"malformed JSON on line {lineno}: {err.msg} (column {err.colno})"
        )
    except RecursionError:
        return Skipped(source=source, reason=f"malformed JSON on line {lineno}: nested too deeply")
    except ValueError as err:  # an integer of more digits than Python converts (4,300)
        return Skipped(source=source, reason=f"unreadable JSON on line {lineno}: {str(err).split(';')[0]}")
    doc = _record_to_doc(rec, source, f"{base}:{lineno}", cfg, keep_records)
    if (
        isinstance(doc, Document)
        and "\ufffd" in line
        and "\ufffd" not in raw.decode("utf-8", errors="ignore")
    ):
        doc.meta.setdefault("notes", []).append("invalid UTF-8 replaced with U+FFFD")
    return doc


def read_csv(
    path: Path, given: str, cfg: InputConfig, keep_records: bool = False, base: str | None = None
) -> Iterator[Record]:
    csv.field_size_limit(min(sys.maxsize, 4 * cfg.max_chars + 4))
    try:
        fh = open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as err:
        yield Skipped(source=given, reason=f"unreadable file: {err.strerror or err}")
        return
    with fh:
        yield from _csv_records(fh, path, given, cfg, keep_records, base)


def _csv_records(
    fh: IO[str], path: Path, given: str, cfg: InputConfig, keep_records: bool, base: str | None = None
) -> Iterator[Record]:
    """The records of an open CSV text stream (see :func:`read_csv`).

    Rows are parsed strictly, so that a quote left open is an error (the rows it would swallow to
    the end of the file are reported skipped, with their lines), not a field holding every later
    row. A row that breaks the stricter rule otherwise (text after a closing quote: ``2,"Quoted"
    title``) is read again from its own lines as Python's lenient reader reads it."""
    taken: list[str] = []  # the lines the row being parsed has read

    def lines() -> Iterator[str]:
        for line in fh:
            taken.append(line)
            yield line

    reader = csv.DictReader(lines(), strict=True)
    try:
        fields = reader.fieldnames
    except csv.Error as err:
        yield Skipped(source=f"{given}:1", reason=f"malformed CSV header: {err}")
        return
    if fields is None or cfg.text_field not in fields:
        yield Skipped(source=given, reason=f"CSV has no '{cfg.text_field}' column")
        return
    row_no = 0
    while True:
        first_line = reader.reader.line_num + 1
        taken.clear()
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            row_no += 1
            last = reader.reader.line_num  # the lines the bad row took (to the end: a quote left open)
            if "unexpected end of data" not in str(err) and len(taken) == 1:
                loose = next(csv.reader(taken, strict=False), None)
                if loose is not None:  # one line, read as the lenient reader reads it
                    row = dict(zip(fields, loose))
                    yield _record_to_doc(
                        row, f"{given}:{first_line}", f"{base or path.name}:{row_no}", cfg, keep_records
                    )
                    continue
            lines_ = f"line {first_line}" if last <= first_line else f"lines {first_line}-{last}"
            yield Skipped(source=f"{given}:{first_line}", reason=f"malformed CSV: {err} ({lines_} not read)")
            continue
        row_no += 1
        source = f"{given}:{reader.line_num}"
        if None in row:  # more cells than header columns
            row.pop(None)
        yield _record_to_doc(row, source, f"{base or path.name}:{row_no}", cfg, keep_records)


def read_parquet(
    path: Path, given: str, cfg: InputConfig, base: str | None = None, keep_records: bool = False
) -> Iterator[Record]:
    """The rows of a Parquet file, row group by row group; with ``keep_records`` every column is
    read and kept (``dedup`` writes the rows back whole), else only the id, text and date."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            f"reading {given} needs pyarrow: pip install 'dedupe-text[parquet]' (or, in a clone, pip install -e '.[parquet]')"
        ) from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a bad file
        yield Skipped(source=given, reason=f"unreadable Parquet file: {err}")
        return
    names = set(pf.schema_arrow.names)
    if _top(cfg.text_field, names) is None:
        yield Skipped(source=given, reason=f"Parquet file has no '{cfg.text_field}' column")
        return
    # a nested field (meta.text) is read with its top-level column
    columns = list(
        dict.fromkeys(c for f in (cfg.id_field, cfg.text_field, cfg.date_field) if (c := _top(f, names)))
    )
    row_no = 0
    groups = pf.num_row_groups
    for g in range(groups):  # one by one: damaged data costs its row group, not the file
        end = row_no + pf.metadata.row_group(g).num_rows
        try:
            wanted = None if keep_records else columns
            for batch in pf.iter_batches(row_groups=[g], columns=wanted, batch_size=4096):
                for rec in batch.to_pylist():
                    row_no += 1
                    yield parquet_record(rec, row_no, given, base or path.name, cfg, keep_records)
        except Exception as err:  # pyarrow raises several types for damaged data
            if row_no < end:
                yield Skipped(
                    source=f"{given}:{row_no + 1}",
                    reason=f"unreadable Parquet data in row group {g + 1} of {groups}: {err} "
                    f"(rows {row_no + 1}-{end} not read)",
                )
            row_no = end


def _top(name: str, columns: set[str]) -> str | None:
    """The top-level column holding field ``name`` (itself, or ``meta`` for ``meta.text``), if any."""
    if name in columns:
        return name
    head = name.split(".", 1)[0]
    return head if "." in name and head in columns else None


def parquet_record(
    rec: dict[str, Any], row_no: int, given: str, base: str, cfg: InputConfig, keep: bool = False
) -> Record:
    """Row ``row_no`` (from 1) of Parquet file ``given`` -> its document, or why it is skipped; a
    date that is not a string (a timestamp column) is taken as its ``str()``."""
    date = field(rec, cfg.date_field)
    if date is not None and not isinstance(date, str) and cfg.date_field in rec:
        rec[cfg.date_field] = str(date)
    return _record_to_doc(rec, f"{given}:{row_no}", f"{base}:{row_no}", cfg, keep)
