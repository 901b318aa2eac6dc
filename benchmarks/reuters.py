"""Reuters-21578 (../shared/corpora/reuters21578) as dedupe documents, converted at run time.

The corpus is for research use only: it is read from the shared folder, never copied into
the repository. Each story becomes a record ``{id, text, date, title}`` where ``id`` is
``reuters-NEWID``, ``text`` is the title, dateline and body, and ``date`` is ISO 8601.

    python benchmarks/reuters.py --out /tmp/reuters.jsonl [--limit N]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = Path(
    os.environ.get("DEDUPE_REUTERS", HERE.parent.parent / "shared" / "corpora" / "reuters21578")
)

_STORY = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID = re.compile(r'NEWID="(\d+)"')
_FIELDS = {
    name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("DATE", "TITLE", "DATELINE", "BODY")
}
_TEXT = re.compile(r"<TEXT[^>]*>(.*?)</TEXT>", re.S)
_TAG = re.compile(r"<[^>]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def available(directory: Path = DEFAULT_DIR) -> bool:
    return directory.is_dir() and any(directory.glob("reut2-*.sgm"))


def _clean(raw: str) -> str:
    return _CONTROL.sub("", html.unescape(raw)).strip()


_DATE = re.compile(r"(\d{1,2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2})")


def _iso(date: str) -> str | None:
    m = _DATE.search(date)
    try:
        return datetime.strptime(m.group(1), "%d-%b-%Y %H:%M:%S").isoformat() if m else None
    except ValueError:
        return None


def stories(directory: Path = DEFAULT_DIR, limit: int | None = None) -> Iterator[dict]:
    """Stories in file order; ``limit`` stops after that many."""
    n = 0
    for path in sorted(directory.glob("reut2-*.sgm")):
        raw = path.read_bytes().decode("latin-1")
        for m in _STORY.finditer(raw):
            attrs, inner = m.group(1), m.group(2)
            fields = {k: (_clean(r.group(1)) if (r := rx.search(inner)) else "") for k, rx in _FIELDS.items()}
            if not fields["BODY"] and not fields["TITLE"] and (t := _TEXT.search(inner)):
                fields["BODY"] = _clean(_TAG.sub("", t.group(1)))  # TYPE="UNPROC": the text is not tagged
            body = re.sub(r"\s*reuter\s*$", "", fields["BODY"], flags=re.I)
            parts = [fields["TITLE"], (fields["DATELINE"] + " " + body).strip()]
            text = "\n".join(p for p in parts if p)
            if not text:  # one story of the collection has no title and no body
                LEFT_OUT.append(f"NEWID {_NEWID.search(attrs).group(1)}")
                continue
            yield {
                "id": f"reuters-{int(_NEWID.search(attrs).group(1)):05d}",
                "text": text,
                "date": _iso(fields["DATE"]),
                "title": fields["TITLE"],
            }
            n += 1
            if limit is not None and n >= limit:
                return


LEFT_OUT: list[str] = []  # stories without any text, left out by stories()


def busy_ids(stories: list[dict], n: int = 8, stock: int = 5) -> set[str]:
    """The ids of stories that share a word ``n``-gram with another story (n-grams in more than
    ``stock`` stories are stock phrases and do not count): the others share no passage with any
    story, so a benchmark that plants text in them knows its truth. A criterion of its own,
    independent of dedupe, so every version of dedupe is measured on the same cases."""
    grams: dict[str, set[int]] = {}
    seen: Counter = Counter()
    for s in stories:
        words = re.findall(r"\w+", s["text"].lower())
        grams[s["id"]] = {hash(tuple(words[k : k + n])) for k in range(len(words) - n + 1)}
        seen.update(grams[s["id"]])
    return {d for d, g in grams.items() if any(1 < seen[h] <= stock for h in g)}


def write_jsonl(out: Path, directory: Path = DEFAULT_DIR, limit: int | None = None) -> int:
    count = 0
    with open(out, "w", encoding="utf-8") as fh:
        for story in stories(directory, limit):
            fh.write(json.dumps(story, ensure_ascii=False) + "\n")
            count += 1
    return count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    written = write_jsonl(args.out, args.dir, args.limit)
    left = f" ({len(LEFT_OUT)} without text left out: {', '.join(sorted(set(LEFT_OUT)))})" if LEFT_OUT else ""
    print(f"{written} stories written to {args.out}{left}")
