"""What datasketch computes for a run's parameters, remembered on disk.

Every run needs two things from datasketch: the MinHash permutations for ``(num_perm, seed,
scheme)`` and the optimal LSH ``(bands, rows)`` for a threshold. Computing them takes
milliseconds, but importing datasketch takes about half a second (its package imports scipy),
a quarter of a small scan. So the answers are kept, per datasketch version, in the user's cache
directory (``$DEDUPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/dedupe``, else ``~/.cache/dedupe``), and
datasketch is imported only to fill it. A cache that cannot be read or written is ignored: the
values are then computed as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np


def cache_dir() -> Path:
    explicit = os.environ.get("DEDUPE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dedupe"


@functools.cache
def _datasketch_version() -> str:
    """The installed datasketch's version, looked up once per process (the look-up reads the
    installed packages' metadata: about a millisecond, paid by every index query)."""
    try:
        return metadata.version("datasketch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _path(kind: str, key: dict[str, Any]) -> Path:
    version = _datasketch_version()
    blob = json.dumps({"kind": kind, "datasketch": version, **key}, sort_keys=True)
    return cache_dir() / f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:24]}.json"


def remembered(kind: str, key: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """``compute()`` (a JSON value), or what it returned before for the same ``kind``, ``key`` and
    datasketch version."""
    path = _path(kind, key)
    try:
        return json.loads(path.read_text(encoding="utf-8"))["value"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "value": value}, fh)
        os.replace(tmp, path)
    except OSError:
        pass
    return value


def permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """``datasketch.MinHash(num_perm, seed, scheme=scheme).permutations``: two arrays of the dtype
    datasketch uses for the scheme (uint32 for affine32, uint64 otherwise)."""

    def compute() -> dict[str, Any]:
        import datasketch

        a, b = (
            np.asarray(x)
            for x in datasketch.MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
        )
        return {"dtype": a.dtype.str, "a": a.tolist(), "b": b.tolist()}

    value = remembered("permutations", {"num_perm": num_perm, "seed": seed, "scheme": scheme}, compute)
    dtype = np.dtype(value["dtype"])
    return np.array(value["a"], dtype=dtype), np.array(value["b"], dtype=dtype)


def optimal_lsh(threshold: float, num_perm: int, fp_weight: float, fn_weight: float) -> tuple[int, int]:
    """datasketch's optimal ``(bands, rows)`` for a Jaccard threshold."""

    def compute() -> list[int]:
        from datasketch.lsh import _optimal_param

        return list(_optimal_param(threshold, num_perm, fp_weight, fn_weight))

    key = {"threshold": threshold, "num_perm": num_perm, "fp_weight": fp_weight, "fn_weight": fn_weight}
    bands, rows = remembered("lsh", key, compute)
    return int(bands), int(rows)


def s_curve_errors(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    """datasketch's false positive and false negative probabilities of ``bands x rows`` around a
    Jaccard threshold: the areas under the S-curve ``1 - (1 - s^rows)^bands`` below the threshold
    and above it under ``1 - curve`` (what its optimisation weighs)."""

    def compute() -> list[float]:
        from datasketch.lsh import _false_negative_probability, _false_positive_probability

        return [
            float(_false_positive_probability(threshold, bands, rows)),
            float(_false_negative_probability(threshold, bands, rows)),
        ]

    fp, fn = remembered("s_curve", {"threshold": threshold, "bands": bands, "rows": rows}, compute)
    return float(fp), float(fn)
