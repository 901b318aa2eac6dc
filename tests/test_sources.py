from __future__ import annotations

import codecs
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.config import InputConfig
from dedupe.errors import InputError
from dedupe.records import Document, Skipped
from dedupe.sources import (
    Pending,
    Texts,
    _line_blocks,
    _line_spans,
    jsonl_limit,
    read_jsonl_stream,
    read_sources,
)

CFG = InputConfig()


def read(paths, cfg=CFG, stdin=None):
    return list(read_sources([str(p) for p in paths], cfg, stdin=stdin))


def test_directory_recursive_with_relative_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("first", encoding="utf-8")
    (tmp_path / "two.md").write_text("second", encoding="utf-8")
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    recs = read([tmp_path])
    assert [(r.id, r.text) for r in recs] == [("a/one.txt", "first"), ("two.md", "second")]


def test_single_text_file_id_is_path_as_given(tmp_path):
    p = tmp_path / "story.txt"
    p.write_text("hello", encoding="utf-8")
    (rec,) = read([p])
    assert rec.id == str(p)


def test_jsonl_fields_and_bad_lines(tmp_path):
    p = tmp_path / "d.jsonl"
    lines = [
        json.dumps({"doc": "a", "body": "text a", "date": "2020-01-01"}),
        "{not json",
        json.dumps({"doc": "b"}),
        json.dumps({"doc": "c", "body": 5}),
        json.dumps({"body": "no id"}),
        json.dumps([1, 2]),
        "",
    ]
    p.write_text("\n".join(lines), encoding="utf-8")
    recs = read([p], InputConfig(id_field="doc", text_field="body"))
    docs = [r for r in recs if isinstance(r, Document)]
    skipped = [r for r in recs if isinstance(r, Skipped)]
    assert [(d.id, d.text) for d in docs] == [("a", "text a"), ("d.jsonl:5", "no id")]
    assert docs[0].meta["date"] == "2020-01-01"
    reasons = [s.reason for s in skipped]
    assert reasons[0].startswith("malformed JSON on line 2")
    assert "missing text field 'body'" in reasons[1]
    assert "is int, not a string" in reasons[2]
    assert "not an object" in reasons[3]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "text", "x"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.one_of(
        st.builds(
            lambda doc_id, text, extra: json.dumps(
                {"id": doc_id, "text": text, "meta": extra}, ensure_ascii=False
            ),
            JSON_VALUES,
            JSON_VALUES,
            JSON_VALUES,
        ),
        st.builds(json.dumps, JSON_VALUES),
        st.text(max_size=30),
    ).map(lambda line: line.encode("utf-8", errors="surrogatepass")),
    st.booleans(),
)
def test_fast_json_reads_every_line_as_the_standard_library(raw, keep):
    """The orjson fast path reads a line into the record json.loads makes, and skips what it skips
    for the same reason: big integers, NaN, lone surrogates, invalid UTF-8 and junk included."""
    import dedupe.sources as sources

    fast = sources.jsonl_record(raw, 3, "f.jsonl", "f.jsonl", CFG, keep)
    saved, sources._orjson = sources._orjson, None
    try:
        slow = sources.jsonl_record(raw, 3, "f.jsonl", "f.jsonl", CFG, keep)
    finally:
        sources._orjson = saved
    assert repr(fast) == repr(slow)


def test_deeply_nested_records_read_or_skip_as_the_standard_library(tmp_path):
    """A record nested 600 levels deep (orjson and json both read it) is a document; one nested
    5,000 levels deep is skipped as too deep: no RecursionError escapes the fast path's check."""
    p = tmp_path / "deep.jsonl"
    ok = '{"id": "ok", "text": "a text", "m": ' + "[" * 600 + "1" + "]" * 600 + "}"
    deep = '{"id": "deep", "text": "a text", "m": ' + "[" * 5000 + "]" * 5000 + "}"
    p.write_text(ok + "\n" + deep + "\n", encoding="utf-8")
    recs = read([p])
    assert [r.id for r in recs if isinstance(r, Document)] == ["ok"]
    (skip,) = [r for r in recs if isinstance(r, Skipped)]
    assert "nested too deeply" in skip.reason


def test_fast_json_path_is_taken_and_left_where_it_must():
    import dedupe.sources as sources

    assert sources._fast_loads(b'{"id": "a", "text": "t", "n": [1, {"m": null}]}') == {
        "id": "a",
        "text": "t",
        "n": [1, {"m": None}],
    }
    for line in (b'{"id": 12345678901234567890123}', b'{"x": 1.5}', b'{"t": "\\ud800"}', b"\xff{}", b"[NaN]"):
        assert sources._fast_loads(line) is sources._UNREAD, line


def test_stdin_jsonl():
    recs = read(["-"], stdin=io.BytesIO(b'{"id": 1, "text": "from stdin"}\n'))
    assert [(r.id, r.text, r.source) for r in recs] == [("1", "from stdin", "<stdin>:1")]


def test_csv_with_quoted_newlines(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('id,text\n1,"line one\nline two"\n2,plain\n', encoding="utf-8")
    recs = read([p])
    assert [(r.id, r.text) for r in recs] == [("1", "line one\nline two"), ("2", "plain")]


def test_csv_without_text_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id,body\n1,x\n", encoding="utf-8")
    (rec,) = read([p])
    assert isinstance(rec, Skipped) and "no 'text' column" in rec.reason


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["alpha", None]}), p)
    recs = read([p])
    assert isinstance(recs[0], Document) and recs[0].text == "alpha"
    assert isinstance(recs[1], Skipped) and "is null" in recs[1].reason


def test_encodings_and_binary(tmp_path):
    (tmp_path / "bom8.txt").write_bytes(codecs.BOM_UTF8 + "café".encode())
    (tmp_path / "bom16.txt").write_bytes("café".encode("utf-16"))
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 ok")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 10)
    recs = {r.id: r for r in read([tmp_path])}
    assert recs["bom8.txt"].text == "café"
    assert recs["bom16.txt"].text == "café"
    assert recs["bad.txt"].text == "caf\ufffd ok" and "invalid UTF-8" in recs["bad.txt"].meta["notes"][0]
    assert isinstance(recs["bin.txt"], Skipped) and recs["bin.txt"].reason == "binary file"


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(InputError, match="path not found"):
        read([tmp_path / "nope"])


_LINE = st.one_of(
    st.just(b""),
    st.just(b"   "),
    st.just(b"\xef\xbb\xbf"),
    st.just(b"{not json"),
    st.just(b"[1, 2]"),
    st.builds(
        lambda i, t: json.dumps({"id": i, "text": t}).encode(), st.integers(0, 5), st.text(max_size=60)
    ),
    st.builds(lambda t: json.dumps({"text": t}).encode(), st.text(max_size=200)),
    st.binary(max_size=40),
    # about jsonl_limit long (4,128 to 4,696 bytes below): kept, skipped by length, or skipped unread
    st.integers(4080, 4720).map(lambda n: b'{"text": "' + b"x" * n + b'"}'),
)


def _file_spans(tmp: str, data: bytes, limit: int, block: int) -> tuple[str, list[Pending]]:
    """``data`` written to ``in.jsonl`` in ``tmp``, and the byte ranges of whole lines the reader
    hands the workers (blocks of about ``block`` bytes)."""
    path = os.path.join(tmp, "in.jsonl")
    with open(path, "wb") as fh:
        fh.write(data)
    with open(path, "rb") as fh:
        return path, [
            Pending(None, lineno, n, "in.jsonl", "in.jsonl", None if a is None else (path, a, b))
            for lineno, a, b, n in _line_spans(fh, limit, block)
        ]


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINE, max_size=25), st.booleans(), st.integers(1, 5000), st.integers(8, 150))
def test_jsonl_parsed_on_workers_equals_jsonl_parsed_here(lines, final_newline, block, max_chars):
    """The map stage parses blocks of raw lines (Pending) into exactly the records the reader
    makes line by line: same documents, skipped lines, reasons, line numbers, ids, in order,
    whatever the block size (over-long lines split across blocks are skipped unread)."""
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    cfg = InputConfig(max_chars=max_chars)
    here = list(read_jsonl_stream(io.BytesIO(data), "in.jsonl", cfg))
    limit = jsonl_limit(cfg)
    pending = [
        Pending(d, lineno, n, "in.jsonl", "in.jsonl")
        for lineno, d, n in _line_blocks(io.BytesIO(data), limit, block)
    ]
    assert sum(p.lines for p in pending) == data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
    there = [r for p in pending for r in p.parse(cfg)]
    assert there == here
    assert [getattr(r, "meta", None) for r in there] == [getattr(r, "meta", None) for r in here]
    # a regular file: the reader gives byte ranges only, and the workers read their own lines
    with tempfile.TemporaryDirectory() as tmp:
        _, spans = _file_spans(tmp, data, limit, block)
        assert [(p.lineno, p.lines) for p in spans] == [(p.lineno, p.lines) for p in pending]
        assert [r for p in spans for r in p.parse(cfg)] == here


@settings(max_examples=100, deadline=None)
@given(st.lists(_LINE, max_size=25), st.booleans(), st.integers(1, 5000), st.data())
def test_texts_read_again_from_their_lines_equal_the_texts_parsed(lines, final_newline, block, data):
    """Each document parsed from a file's byte ranges is located (its line's bytes and their
    hash), and Texts reads exactly its text again from there, also after take and +."""
    raw = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    with tempfile.TemporaryDirectory() as tmp:
        path, spans = _file_spans(tmp, raw, jsonl_limit(CFG), block)
        located = [(r, at) for p in spans for r, at in p.located(CFG)]
        assert [r for r, _ in located] == list(read_jsonl_stream(io.BytesIO(raw), "in.jsonl", CFG))
        docs = [(r, at) for r, at in located if isinstance(r, Document)]
        assert all(at is not None for _, at in docs)
        n = len(docs)
        texts = Texts(
            [None] * n,
            [path] * n,
            np.array([at[:2] for _, at in docs], dtype=np.int64).reshape(-1, 2),
            np.array([at[2] for _, at in docs], dtype=np.uint64),
            [len(r.text) for r, _ in docs],
            CFG,
        )
        expected = [r.text for r, _ in docs]
        assert list(texts) == expected and texts.unread == n
        assert [texts.length(i) for i in range(n)] == [len(t) for t in expected]
        asked = (
            data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 60), st.integers(0, 60))))
            if n
            else []
        )
        got = texts.slices([d for d, _, _ in asked], [a for _, a, _ in asked], [b for _, _, b in asked])
        assert got == [expected[d][a:b] for d, a, b in asked]
        rows = data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n)) if n else []
        assert list(texts.take(rows)) == [expected[k] for k in rows]
        assert list(texts + ["held"]) == [*expected, "held"] and list(["held"] + texts) == ["held", *expected]


def test_a_text_read_again_from_a_first_line_after_a_byte_order_mark(tmp_path):
    """The first line's UTF-8 byte order mark is not part of its record, read again or not;
    invalid UTF-8 is replaced the same way too."""
    path = tmp_path / "bom.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + b'{"text": "caf\xc3\xa9 \xff"}\n{"text": "two"}\n')
    pending = Pending(None, 1, 2, "bom.jsonl", "bom.jsonl", (str(path), 0, path.stat().st_size))
    located = list(pending.located(CFG))
    spans = np.array([at[:2] for _, at in located])
    texts = Texts(
        [None, None],
        [str(path)] * 2,
        spans,
        np.array([at[2] for _, at in located], dtype=np.uint64),
        [6, 3],
        CFG,
    )
    assert list(texts) == [r.text for r, _ in located] == ["caf\u00e9 \ufffd", "two"]


def test_a_text_whose_file_changed_is_an_error_not_a_wrong_text(tmp_path):
    """A text read again from a file rewritten since (same length, other bytes) raises
    InputError naming the file, rather than give offsets into a text that is not the one
    matched."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "a", "text": "one two three"}\n')
    pending = Pending(None, 1, 1, "in.jsonl", "in.jsonl", (str(path), 0, path.stat().st_size))
    ((doc, at),) = pending.located(CFG)
    texts = Texts([None], [str(path)], np.array([at[:2]]), np.array([at[2]], dtype=np.uint64), [13], CFG)
    assert texts[0] == doc.text == "one two three"
    path.write_bytes(b'{"id": "a", "text": "one two thre3"}\n')
    with pytest.raises(InputError, match="in.jsonl changed while dedupe read it"):
        Texts([None], [str(path)], np.array([at[:2]]), np.array([at[2]], dtype=np.uint64), [13], CFG)[0]


def test_a_range_that_cannot_be_read_is_one_skipped_record(tmp_path):
    """A JSON Lines range a worker cannot read (the file gone since it was scanned) is not lost
    silently: one skipped record names the file, the lines and why."""
    gone = tmp_path / "gone.jsonl"
    pending = Pending(None, 7, 3, "gone.jsonl", "gone.jsonl", (str(gone), 0, 100))
    (record,) = pending.parse(InputConfig())
    assert isinstance(record, Skipped)
    assert record.source == "gone.jsonl:7"
    assert record.reason.startswith("unreadable file:") and "lines 7 to 9 not read" in record.reason


def _compressors():
    import bz2
    import gzip
    import lzma

    import zstandard

    return {
        "gzip": gzip.compress,
        "bzip2": bz2.compress,
        "xz": lzma.compress,
        "zstd": zstandard.ZstdCompressor().compress,
    }


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
@pytest.mark.parametrize("name", ["c.jsonl.gz", "c.jsonl", "c.csv.xz", "c.txt.zst", "c.dat"])
def test_compressed_input_is_read_as_its_plain_form(tmp_path, kind, name):
    """Compressed data is recognised by its magic bytes, whatever the file is called, and read
    decompressed as the format its name gives under the compression suffix: the same documents as
    the plain file, never one garbage document."""
    rows = [{"id": f"d{k}", "text": f"story number {k} " * 20} for k in range(50)]
    fmt = Path(name.split(".")[0] + "." + name.split(".")[1]).suffix
    if fmt == ".jsonl":
        plain = "".join(json.dumps(r) + "\n" for r in rows)
    elif fmt == ".csv":
        plain = "id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows)
    else:
        plain = rows[0]["text"]
    (tmp_path / "plain").mkdir()
    plain_path = tmp_path / "plain" / name.replace(".gz", "").replace(".xz", "").replace(".zst", "")
    plain_path.write_text(plain)
    path = tmp_path / name
    path.write_bytes(_compressors()[kind](plain.encode()))
    got, want = read([str(path)]), read([str(plain_path)])
    assert [r.text for r in got] == [r.text for r in want]
    if fmt in (".jsonl", ".csv"):  # a text file's id is its path; records keep theirs
        assert [r.id for r in got] == [r.id for r in want]
    assert all(isinstance(r, Document) for r in got) and len(got) == (
        1 if fmt not in (".jsonl", ".csv") else 50
    )


def test_damaged_compressed_data_ends_the_file_with_its_reason(tmp_path):
    import gzip

    data = gzip.compress(
        "".join(json.dumps({"id": f"d{k}", "text": "words " * 30}) + "\n" for k in range(2000)).encode()
    )
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])  # truncated mid-stream
    records = read([str(path)])
    assert isinstance(records[-1], Skipped) and "damaged gzip data" in records[-1].reason
    assert all(isinstance(r, Document) for r in records[:-1]) and records[:-1]


def test_a_compressed_file_in_a_directory_is_skipped_with_its_reason(tmp_path):
    import gzip

    (tmp_path / "a.txt").write_bytes(gzip.compress(b"some text here " * 10))
    records = read([str(tmp_path)])
    assert len(records) == 1 and "compressed file (gzip)" in records[0].reason


def test_compressed_stdin_is_skipped():
    import gzip

    stream = io.BufferedReader(io.BytesIO(gzip.compress(b'{"id": "a", "text": "some words here"}\n')))
    records = read(["-"], stdin=stream)
    assert len(records) == 1 and "compressed data (gzip)" in records[0].reason


def test_cli_scans_a_compressed_corpus_as_the_plain_one(tmp_path, seeds_dir):
    """gzip and zstd JSON Lines give the same report as the plain file (stats aside)."""
    import gzip

    import zstandard

    from dedupe.cli import main

    lines = "".join(
        json.dumps({"id": p.name, "text": p.read_text(encoding="utf-8")}) + "\n"
        for p in sorted(seeds_dir.iterdir())
    ).encode()
    (tmp_path / "s.jsonl").write_bytes(lines)
    (tmp_path / "s.jsonl.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "s.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    reports = []
    for name in ("s.jsonl", "s.jsonl.gz", "s.jsonl.zst"):
        out = tmp_path / f"{name}.json"
        assert main(["scan", str(tmp_path / name), "-f", "json", "-o", str(out), "-q"]) == 0
        data = json.loads(out.read_text())
        for key in ("stats", "skipped"):
            data.pop(key)
        data["documents"] = [{k: v for k, v in d.items() if k != "source"} for d in data["documents"]]
        reports.append(data)
    assert reports[0] == reports[1] == reports[2] and reports[0]["passages"]


def test_a_csv_quote_left_open_is_a_skipped_record_not_a_merged_one(tmp_path):
    """An unterminated quote would swallow every later row into one field: the rows it took are
    reported skipped, with their lines, and the rows before it are read."""
    from dedupe.config import InputConfig
    from dedupe.records import Document, Skipped
    from dedupe.sources import read_sources

    path = tmp_path / "q.csv"
    path.write_text('id,text\n0,a good first row of text\n1,"an open quote\n2,second row\n3,third row\n')
    records = list(read_sources([str(path)], InputConfig()))
    assert [r.id for r in records if isinstance(r, Document)] == ["0"]
    (skipped,) = [r for r in records if isinstance(r, Skipped)]
    assert skipped.source.endswith("q.csv:3") and "lines 3-5 not read" in skipped.reason


def test_a_damaged_parquet_row_group_costs_its_rows_not_the_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dedupe.config import InputConfig
    from dedupe.records import Document, Skipped
    from dedupe.sources import read_sources

    path = tmp_path / "t.parquet"
    rows = [{"id": f"p{k}", "text": f"text number {k} with some words " * 4} for k in range(300)]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=100)
    column = pq.ParquetFile(path).metadata.row_group(1).column(1)  # the text column of group 2
    data = bytearray(path.read_bytes())
    start = column.data_page_offset
    data[start + 20 : start + 220] = b"\xff" * 200
    path.write_bytes(bytes(data))
    records = list(read_sources([str(path)], InputConfig()))
    ids = [r.id for r in records if isinstance(r, Document)]
    assert ids == [f"p{k}" for k in (*range(100), *range(200, 300))]
    (skipped,) = [r for r in records if isinstance(r, Skipped)]
    assert "row group 2 of 3" in skipped.reason and "rows 101-200 not read" in skipped.reason


def test_a_directory_of_shards_is_read_record_by_record(tmp_path):
    """JSON Lines (plain and compressed), CSV and Parquet shards in a directory are read record by
    record, a record without an id named after its shard's path in the directory and its line;
    text files stay one document each; a quoted pattern matches as the shell would."""
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    from dedupe.config import InputConfig
    from dedupe.errors import InputError
    from dedupe.records import Document
    from dedupe.sources import read_sources

    root = tmp_path / "dump"
    (root / "2024").mkdir(parents=True)
    (root / "a.jsonl").write_text(json.dumps({"id": "a1", "text": "first shard text"}) + "\n")
    with gzip.open(root / "2024" / "b.jsonl.gz", "wt") as fh:
        fh.write(
            json.dumps({"text": "a record with no id"})
            + "\n"
            + json.dumps({"id": "b2", "text": "x y"})
            + "\n"
        )
    (root / "2024" / "c.csv").write_text("id,text\nc1,a csv row of text\n")
    pq.write_table(pa.table({"text": ["a parquet row"]}), root / "d.parquet")
    (root / "e.txt").write_text("a text file")
    (root / "skip.json").write_text("{}")  # neither a record format nor an extension read
    cfg = InputConfig()
    for parse in (True, False):
        docs = {r.id: r.text for r in read_sources([str(root)], cfg, parse=parse) if isinstance(r, Document)}
        if parse:
            assert docs == {
                "a1": "first shard text",
                "2024/b.jsonl.gz:1": "a record with no id",
                "b2": "x y",
                "c1": "a csv row of text",
                "d.parquet:1": "a parquet row",
                "e.txt": "a text file",
            }
    matched = [r.id for r in read_sources([str(root / "**" / "*.jsonl*")], cfg) if isinstance(r, Document)]
    assert sorted(matched) == sorted(["a1", f"{root}/2024/b.jsonl.gz:1", "b2"])  # a match: named by its path
    with pytest.raises(InputError, match="no path matches"):
        list(read_sources([str(root / "*.nothing")], cfg))


def test_nested_fields_are_read_by_their_dotted_path(tmp_path):
    """--text-field meta.text reads a nested object's field (JSON Lines, Parquet structs); a key
    that is itself dotted (a CSV column "meta.text") is taken first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dedupe.config import InputConfig
    from dedupe.records import Document, Skipped
    from dedupe.sources import read_sources

    cfg = InputConfig(id_field="meta.id", text_field="meta.text")
    j = tmp_path / "n.jsonl"
    j.write_text(
        json.dumps({"meta": {"id": "x", "text": "nested text"}})
        + "\n"
        + json.dumps({"meta": {"id": "y"}})
        + "\n"
    )
    records = list(read_sources([str(j)], cfg))
    assert [(r.id, r.text) for r in records if isinstance(r, Document)] == [("x", "nested text")]
    assert [r.reason for r in records if isinstance(r, Skipped)] == ["missing text field 'meta.text'"]
    c = tmp_path / "n.csv"
    c.write_text("meta.id,meta.text\nz,a dotted column\n")
    assert [(r.id, r.text) for r in read_sources([str(c)], cfg)] == [("z", "a dotted column")]
    p = tmp_path / "n.parquet"
    pq.write_table(pa.table({"meta": [{"id": "p", "text": "a struct field"}]}), p)
    assert [(r.id, r.text) for r in read_sources([str(p)], cfg)] == [("p", "a struct field")]


def test_remote_paths_are_read_through_fsspec_as_local_ones(tmp_path):
    """A URL (here fsspec's in-memory file system, as s3://, gs:// or hf:// would be) is read as the
    same file, directory or pattern would be locally: the same documents, ids and skipped records."""
    import gzip

    fsspec = pytest.importorskip("fsspec")
    from dedupe.config import InputConfig
    from dedupe.sources import read_sources

    local = tmp_path / "dump"
    (local / "2024").mkdir(parents=True)
    files = {
        "a.jsonl": (json.dumps({"id": "a1", "text": "first shard text"}) + "\n{broken\n").encode(),
        "2024/b.jsonl.gz": gzip.compress((json.dumps({"text": "a record with no id"}) + "\n").encode()),
        "2024/c.csv": b"id,text\nc1,a csv row of text\n",
        "e.txt": b"a text file",
    }
    fs = fsspec.filesystem("memory")
    for name, data in files.items():
        (local / name).write_bytes(data)
        with fs.open(f"/dump-test/{name}", "wb") as fh:
            fh.write(data)

    def records(paths):
        return [
            (type(r).__name__, r.id, getattr(r, "text", None) or getattr(r, "reason", None))
            for r in read_sources(paths, InputConfig())
        ]

    assert records(["memory://dump-test"]) == records([str(local)])
    remote = records(["memory://dump-test/**/*.jsonl*"])
    assert [r[1] for r in remote] == ["memory:///dump-test/2024/b.jsonl.gz:1", "a1", None]
    with pytest.raises(InputError, match="path not found"):
        records(["memory://dump-test/missing.jsonl"])


def test_a_nested_text_field_is_read_again_for_passages(tmp_path):
    """The passage stage reads a JSON Lines text again from its file when it reports it: through
    the same dotted path (a KeyError, exit 1, before)."""
    from dedupe.cli import main

    text = "the quick brown fox jumps over the lazy dog near the river bank today " * 3
    path = tmp_path / "nested.jsonl"
    path.write_text("".join(json.dumps({"meta": {"id": k, "text": text + k}}) + "\n" for k in ("x", "y")))
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "scan",
                str(path),
                "--text-field",
                "meta.text",
                "--id-field",
                "meta.id",
                "-f",
                "json",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["summary"]["clusters"] == 1 and data["passages"][0]["occurrences"][0]["text"]
