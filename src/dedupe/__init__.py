"""dedupe: near-duplicate and syndication detection for text, with the evidence.

The public API::

    from dedupe import Detector, load_config
    result = Detector(load_config("dedupe.yaml")).run(documents)

``documents`` may hold :class:`Document` records, ``(id, text)`` tuples or plain strings.
"""

from .config import Config, load_config
from .errors import ConfigError, DedupeError, InputError, NoDocumentsError
from .pipeline import Detector
from .records import Cluster, Document, PairScore, Skipped
from .result import SCHEMA_VERSION, Result
from .sources import read_sources

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
