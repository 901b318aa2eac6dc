"""Atomic output: write to a temporary file beside the target, rename into place on success.

Text that cannot be encoded as UTF-8 (a lone surrogate, which JSON input can carry as
``"\\ud800"``) is written as a backslash escape; in JSON output that is the same escape JSON
uses, so the value reads back unchanged.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError, OutputError
from .interrupts import checkpoint

OUTPUT_ERRORS = "backslashreplace"


COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bzip2", ".xz": "xz"}


@contextlib.contextmanager
def atomic_write(
    path: str | Path, newline: str | None = None, compression: str | None = None
) -> Iterator[IO[str]]:
    """A text stream whose content replaces ``path`` only if the block finishes without error;
    with ``compression`` (gzip, zstd, bzip2, xz), the UTF-8 bytes are compressed as they are
    written.

    Only a regular file is replaced: a symlink is written through (its target is replaced), and a
    device or a FIFO (``-o /dev/null``, a named pipe) is written to directly, never replaced by a
    file of its own name."""
    if not str(path):
        raise ConfigError("output path is empty: give a file name, or - for standard output")
    path = Path(path)
    with _as_output_error(path):  # a missing directory, no permission, a full disk: exit 7
        if compression is None:
            yield from _atomic_write(path, newline)
            return
        with atomic_binary(path) as raw, _compressed(raw, compression) as packed:
            text = io.TextIOWrapper(packed, encoding="utf-8", errors=OUTPUT_ERRORS, newline=newline)
            yield text
            text.flush()
            text.detach()  # the compressor is closed by its own context, the file by atomic_binary


@contextlib.contextmanager
def _compressed(raw: IO[bytes], kind: str) -> Iterator[IO[bytes]]:
    """A binary stream compressing into ``raw`` (left open)."""
    if kind == "gzip":
        import gzip

        stream: Any = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
    elif kind == "bzip2":
        import bz2

        stream = bz2.BZ2File(raw, "wb")
    elif kind == "xz":
        import lzma

        stream = lzma.LZMAFile(raw, "wb")
    elif kind == "zstd":
        import zstandard

        stream = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    else:
        raise ValueError(kind)
    try:
        yield stream
    finally:
        stream.close()


@contextlib.contextmanager
def atomic_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary stream whose content replaces ``path`` only if the block finishes without error
    (a temporary file beside it, renamed into place)."""
    path = Path(path)
    with _as_output_error(path):
        if path.is_symlink():  # written through, as atomic_write writes through a link
            path = Path(os.path.realpath(path))
        try:
            mode: int | None = os.stat(path).st_mode
        except OSError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            with open(path, "wb") as direct:  # a device or a FIFO: written to, never replaced
                yield direct
            return
        directory = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            checkpoint()
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


@contextlib.contextmanager
def _as_output_error(path: Path) -> Iterator[None]:
    """An operating system's refusal to write ``path`` as :class:`OutputError` (exit 7)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as err:
        if isinstance(err, BrokenPipeError):
            raise
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None


def _atomic_write(path: Path, newline: str | None) -> Iterator[IO[str]]:
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode: int | None = os.stat(path).st_mode
    except OSError:
        mode = None  # a new file (or one that cannot be read: the write below says why)
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "w", encoding="utf-8", errors=OUTPUT_ERRORS, newline=newline) as fh:
            yield fh
        return
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=OUTPUT_ERRORS, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        checkpoint()  # a report written after Ctrl-C (its interrupt lost) does not replace the target
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
