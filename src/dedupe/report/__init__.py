"""Reports: one module per output format, each writing a Result to a text stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from ..result import Result
from . import csv as csv_report
from . import html as html_report
from . import json as json_report
from . import table as table_report

FORMATS = ("table", "json", "jsonl", "csv", "html")


def write_report(
    result: Result,
    fmt: str,
    stream: IO[str],
    *,
    color: bool = False,
    width: int | None = None,
    texts: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> None:
    """Write ``result`` as ``fmt``; the HTML report also takes the documents' ``texts`` (id -> text)
    to show them side by side and each passage in its sentence; ``limit`` caps each section of the
    table (see :func:`dedupe.report.table.write`)."""
    if fmt == "html":
        html_report.write(result, stream, texts)
    elif fmt == "table":
        table_report.write(result, stream, color=color, width=width, limit=limit)
    elif fmt == "json":
        json_report.write_json(result, stream)
    elif fmt == "jsonl":
        json_report.write_jsonl(result, stream)
    elif fmt == "csv":
        csv_report.write(result, stream)
    else:  # the CLI validates formats; this guards the API
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "write_report"]
