"""One exception family for everything a user can get wrong.

The CLI turns a :class:`DedupeError` into a one-line message on stderr and the
exit code stored on the class (documented in the README).
"""

from __future__ import annotations


class DedupeError(Exception):
    """Root of dedupe's exceptions; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(DedupeError):
    """A bad configuration file, key, type or value."""

    exit_code = 2


class InputError(DedupeError):
    """A path that does not exist or cannot be read as input."""

    exit_code = 3


class NoDocumentsError(DedupeError):
    """The inputs held no document that could be processed."""

    exit_code = 4


class IndexStoreError(DedupeError):
    """An index file that cannot be used: not an index, damaged, or of an unknown schema version."""

    exit_code = 5


class EngineError(DedupeError):
    """The engine asked for cannot run the job: its extra is not installed, or it failed."""

    exit_code = 6


class OutputError(DedupeError):
    """An output that cannot be written: its directory is missing or not writable, the disk is
    full, the file system is read-only."""

    exit_code = 7
