"""dedupe: near-duplicate and syndication detection for text, with the evidence.

The public API::

    from dedupe import Detector, load_config
    result = Detector(load_config("dedupe.yaml")).run(documents)

``documents`` may hold :class:`Document` records, ``(id, text)`` tuples or plain strings.
"""

from typing import TYPE_CHECKING

# The API names load on first use (PEP 562), so that `import dedupe` (which the `dedupe` command
# and `python -m dedupe` do before anything else) costs nothing until numpy and friends are needed.
_EXPORTS = {
    "Config": "config",
    "load_config": "config",
    "ConfigError": "errors",
    "DedupeError": "errors",
    "InputError": "errors",
    "NoDocumentsError": "errors",
    "Detector": "pipeline",
    "Cluster": "records",
    "Document": "records",
    "PairScore": "records",
    "Skipped": "records",
    "SCHEMA_VERSION": "result",
    "Result": "result",
    "read_sources": "sources",
}

if TYPE_CHECKING:
    from .config import Config, load_config
    from .errors import ConfigError, DedupeError, InputError, NoDocumentsError
    from .pipeline import Detector
    from .records import Cluster, Document, PairScore, Skipped
    from .result import SCHEMA_VERSION, Result
    from .sources import read_sources


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dedupe' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "Cluster",
    "Config",
    "ConfigError",
    "DedupeError",
    "Detector",
    "Document",
    "InputError",
    "NoDocumentsError",
    "PairScore",
    "Result",
    "Skipped",
    "load_config",
    "read_sources",
]
