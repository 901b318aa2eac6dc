from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dedupe.cli import app, main
from dedupe.config import Config, load_config

runner = CliRunner()


def corpus(tmp_path):
    """Three copies of a story (one trimmed) and an unrelated one, as JSONL."""
    base = " ".join(f"word{i % 97} token{i % 13}" for i in range(200))
    recs = [
        {"id": "a", "text": base},
        {"id": "b", "text": base + " with a new ending paragraph"},
        {"id": "c", "text": " ".join(base.split()[:200])},
        {"id": "d", "text": " ".join(f"other{i}" for i in range(300))},
    ]
    p = tmp_path / "c.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return p


def test_scan_seeds_table(seeds_dir):
    res = runner.invoke(app, ["scan", str(seeds_dir)])
    assert res.exit_code == 0, res.output
    assert "5 documents read (5 processed, 0 skipped)" in res.output


def test_scan_json_schema(seeds_dir):
    res = runner.invoke(app, ["scan", str(seeds_dir), "--format", "json", "--quiet"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) >= {"schema_version", "params", "documents", "skipped", "clusters", "pairs", "passages"}
    assert data["params"]["lsh"]["bands"] and data["params"]["lsh"]["rows"]
    assert data["params"]["minhash"]["seed"] == 1
    assert len(data["documents"]) == 5
    for d in data["documents"]:
        assert set(d) >= {"id", "source", "chars", "shingles"}
    # the Truth Social post: one passage group, in all five articles, offsets into the files
    group = data["passages"][0]
    assert group["documents"] == 5 and group["quotation"]
    for occ in group["occurrences"]:
        text = (seeds_dir / occ["doc"]).read_text(encoding="utf-8")
        assert text[occ["start"] : occ["end"]] == occ["text"]
    assert data["reuse_clusters"] and data["summary"]["passage_groups"] == len(data["passages"])


def test_passage_budget_makes_passes_never_skips(seeds_dir, tmp_path):
    """Past passages.max_seed_pairs the seed pairs are made and aligned in passes (bounded memory):
    the result is the one without the limit, and the stats say how many passes it took."""
    full = json.loads(runner.invoke(app, ["scan", str(seeds_dir), "-f", "json", "-q"]).stdout)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("passages:\n  max_seed_pairs: 10\n")
    res = runner.invoke(
        app, ["scan", str(seeds_dir), "-f", "json", "-c", str(cfg), "-o", str(tmp_path / "o.json")]
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert data["stats"]["passage_passes"] > 10 and full["stats"]["passage_passes"] == 1
    assert data["stats"]["seed_pairs"] == full["stats"]["seed_pairs"]
    for key in ("passages", "reuse_clusters", "clusters", "pairs", "documents"):
        assert data[key] == full[key], key


def test_params_reproduce_the_run(seeds_dir, tmp_path):
    data = json.loads(
        runner.invoke(app, ["scan", str(seeds_dir), "-f", "json", "-q", "--shingle-size", "4"]).stdout
    )
    cfg = tmp_path / "params.yaml"
    cfg.write_text(yaml.safe_dump(data["params"]))
    again = json.loads(
        runner.invoke(app, ["scan", str(seeds_dir), "-f", "json", "-q", "-c", str(cfg)]).stdout
    )
    assert again["params"] == data["params"]
    assert again["passages"] == data["passages"] and again["clusters"] == data["clusters"]


def test_scan_formats_and_clusters(tmp_path):
    p = corpus(tmp_path)
    res = runner.invoke(app, ["scan", str(p), "-f", "json", "-q"])
    data = json.loads(res.stdout)
    (cluster,) = data["clusters"]
    assert cluster["members"] == ["a", "b", "c"] and cluster["id"] == "a" and cluster["representative"] == "b"
    assert set(cluster["cohesion"]) == {"min_jaccard", "mean_jaccard", "exact"}
    for pair in data["pairs"]:
        assert set(pair) >= {
            "a",
            "b",
            "jaccard_estimate",
            "jaccard",
            "containment_a_in_b",
            "containment_b_in_a",
        }

    res = runner.invoke(app, ["scan", str(p), "-f", "jsonl", "-q"])
    kinds = [json.loads(line)["kind"] for line in res.stdout.splitlines()]
    assert kinds[0] == "header" and kinds[-1] == "summary" and "cluster" in kinds and "pair" in kinds

    res = runner.invoke(app, ["scan", str(p), "-f", "csv", "-q"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["cluster_id"], r["document_id"], r["is_representative"]) for r in rows] == [
        ("a", "a", "0"),
        ("a", "b", "1"),
        ("a", "c", "0"),
    ]

    out = tmp_path / "report.json"
    res = runner.invoke(app, ["scan", str(p), "-f", "json", "-o", str(out), "-q"])
    assert res.exit_code == 0 and json.loads(out.read_text())["clusters"]


def test_flag_overrides_yaml(tmp_path):
    p = corpus(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("verify:\n  jaccard_threshold: 0.99\n  containment_threshold: 0.99\n")
    data = json.loads(runner.invoke(app, ["scan", str(p), "-c", str(cfg), "-f", "json", "-q"]).stdout)
    assert data["params"]["verify"]["jaccard_threshold"] == 0.99
    data = json.loads(
        runner.invoke(
            app, ["scan", str(p), "-c", str(cfg), "--jaccard-threshold", "0.5", "-f", "json", "-q"]
        ).stdout
    )
    assert data["params"]["verify"]["jaccard_threshold"] == 0.5


def test_config_init_and_show(tmp_path):
    target = tmp_path / "dedupe.yaml"
    assert runner.invoke(app, ["config", "--init", str(target)]).exit_code == 0
    assert load_config(target) == Config()
    res = runner.invoke(app, ["config", "--show", "-c", str(target), "--shingle-size", "3"])
    assert res.exit_code == 0 and "size: 3" in res.stdout and "bands x rows in use" in res.stdout


def test_dedup_writes_corpus_and_mapping(tmp_path):
    p = corpus(tmp_path)
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["dedup", str(p), "--output", str(out), "-q"])
    assert res.exit_code == 0, res.output
    kept = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert kept == ["b", "d"]
    mapping = [json.loads(line) for line in (tmp_path / "out.mapping.jsonl").read_text().splitlines()]
    assert [(m["removed"], m["kept"], m["cluster"]) for m in mapping] == [("a", "b", "a"), ("c", "b", "a")]
    for m in mapping:  # every removed document's scores are against the one it matched, and pass
        assert m["match"] in ("identical", "jaccard", "containment", "aligned") and m["matched_to"]
        if m["match"] == "jaccard":
            assert m["jaccard"] >= 0.5
        if m["match"] == "containment":
            assert max(m["containment_in_matched"], m["matched_contained"]) >= 0.5


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), st.sampled_from(["base", "copy", "other", "blank", "huge"])),
        min_size=1,
        max_size=12,
    )
)
def test_dedup_accounts_for_every_record_and_writes_no_skipped_one(tmp_path, records):
    """Duplicate ids, blank texts and texts over max_chars are skipped by the report, and never
    written back: kept + removed + skipped = records read, each id written once, as first admitted."""
    base = " ".join(f"word{i % 97} token{i % 13}" for i in range(120))
    texts = {
        "base": base,
        "copy": base + " with a coda",
        "other": " ".join(f"other{i % 89} thing{i % 7}" for i in range(120)),
        "blank": "   ",
        "huge": "x " * 3000,
    }
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": texts[t], "kind": t}) + "\n" for i, t in records))
    out, report = tmp_path / "out.jsonl", tmp_path / "report.json"
    code = main(
        [
            "dedup",
            str(src),
            "-o",
            str(out),
            "--report",
            str(report),
            "-q",
            "--config",
            str(_max_chars(tmp_path)),
        ]
    )
    if all(t in ("blank", "huge") for _, t in records):
        assert code == 4  # no document to process: an error, nothing written
        return
    assert code == 0
    data = json.loads(report.read_text())
    written = [json.loads(line) for line in out.read_text().splitlines()]
    removed = [json.loads(line) for line in (tmp_path / "out.mapping.jsonl").read_text().splitlines()]
    assert (
        len(written) + len(removed) + len(data["skipped"])
        == len(records)
        == data["summary"]["documents_read"]
    )
    ids = [w["id"] for w in written]
    assert len(set(ids)) == len(ids) and all(w["kind"] not in ("blank", "huge") for w in written)
    first = {}
    for i, t in records:  # the record kept for an id: the first admitted one
        if i not in first and t not in ("blank", "huge"):
            first[i] = t
    assert all(first[w["id"]] == w["kind"] for w in written)


def _max_chars(tmp_path: Path) -> Path:
    path = tmp_path / "limits.yaml"
    path.write_text("input:\n  max_chars: 5000\n")
    return path


def test_dedup_writes_input_records_back_whole(tmp_path):
    base = " ".join(f"word{i % 97} token{i % 13}" for i in range(200))
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": base, "url": "http://a", "tags": ["x"]})
        + "\n"
        + json.dumps({"text": base + " more", "id": "b", "url": "http://b", "tags": []})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["dedup", str(src), "--output", str(out), "-q"]).exit_code == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"text": base + " more", "id": "b", "url": "http://b", "tags": []}
    ]
    csv_in = tmp_path / "in.csv"
    csv_in.write_text(f"id,text,lang\n1,{base},en\n2,{base} more,fr\n3,other text entirely here now,de\n")
    csv_out = tmp_path / "out.csv"
    assert runner.invoke(app, ["dedup", str(csv_in), "--output", str(csv_out), "-q"]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert [(r["id"], r["lang"]) for r in rows] == [("2", "fr"), ("3", "de")]


def test_dedup_to_directory(tmp_path, seeds_dir):
    out = tmp_path / "outdir"
    res = runner.invoke(
        app, ["dedup", str(seeds_dir), "--output", str(out), "--mapping", str(tmp_path / "m.csv"), "-q"]
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".dedupe-corpus", *(p.name for p in seeds_dir.iterdir())]
    )
    assert (tmp_path / "m.csv").read_text().startswith("removed,kept,cluster")
    # a second run replaces its own earlier output whole; a directory of other files is refused
    (out / "stale.txt").write_text("left from before")
    assert main(["dedup", str(seeds_dir), "-o", str(out), "-q"]) == 0 and not (out / "stale.txt").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("not dedupe's")
    assert main(["dedup", str(seeds_dir), "-o", str(other), "-q"]) == 2 and (other / "keep.txt").exists()
    assert main(["dedup", str(seeds_dir), "-o", str(tmp_path / "clean.json"), "-q"]) == 2  # unknown: refused


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "text": st.text(
                    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
                )
            },
            optional={"lang": st.sampled_from(["en", "fr"]), "n": st.integers(0, 10**6)},
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.bz2", ".jsonl.xz", ".parquet", ".csv.gz"]),
)
def test_dedup_round_trips_through_every_output_format(tmp_path, records, suffix):
    """Records written by dedup in the format the output's name asks for read back equal: every
    field kept (CSV: as text), in input order."""
    from dedupe.config import InputConfig
    from dedupe.records import Document
    from dedupe.sources import read_sources

    rows = [{"id": f"r{k}", **r, "text": f"record {k}: {r['text']}"} for k, r in enumerate(records)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / f"clean{suffix}"
    assert main(["dedup", str(src), "-o", str(out), "--profile", "exact", "--no-passages", "-q"]) == 0
    back = [r for r in read_sources([str(out)], InputConfig(), keep_records=True) if isinstance(r, Document)]
    written = [d.meta["record"] for d in back]  # every field, read back as dedup reads a record
    kept = [r for r in rows if r["id"] in {d.id for d in back}]
    assert len(kept) == len(written) and [w["id"] for w in written] == [r["id"] for r in kept]
    if suffix.startswith(".csv"):
        kept = [{k: str(v) for k, v in r.items()} for r in kept]
        written = [{k: v for k, v in w.items() if v != ""} for w in written]
    elif suffix == ".parquet":  # one schema: a field a record lacks is null there
        written = [{k: v for k, v in w.items() if v is not None} for w in written]
    assert written == kept


def test_errors_are_one_line_with_exit_codes(tmp_path, capsys, seeds_dir):
    bad = tmp_path / "bad.yaml"
    bad.write_text("verify:\n  jacard_threshold: 0.5\n")
    seeds = seeds_dir
    damaged = tmp_path / "damaged.db"  # an index whose pages were overwritten
    assert main(["index", "add", str(damaged), str(seeds), "-q"]) == 0
    capsys.readouterr()
    with open(damaged, "r+b") as fh:
        fh.seek(8192)
        fh.write(b"\0" * 8192)
    cases = [
        (["scan", str(tmp_path / "missing")], 3, "path not found"),
        (["scan", str(tmp_path), "-c", str(bad)], 2, "did you mean 'verify.jaccard_threshold'"),
        (
            ["scan", str(tmp_path), "--jaccard-threshold", "1.5"],
            2,
            "verify.jaccard_threshold: must be <= 1.0",
        ),
        (["scan", str(tmp_path), "--format", "xml"], 2, "xml"),
        (["scan", str(tmp_path)], 4, "no documents found"),
        (["scan", str(seeds), "-o", ""], 2, "output path is empty"),
        (["scan", str(seeds), "-o", str(tmp_path / "no" / "dir" / "r.json")], 7, "does not exist"),
        (
            [
                "dedup",
                str(seeds),
                "-o",
                str(tmp_path / "clean"),
                "--mapping",
                str(tmp_path / "x" / "m.jsonl"),
            ],
            7,
            "does not exist",
        ),
        (["scan", str(seeds), "-o", "/dev/full"], 7, "No space left on device"),
        (["index", "check", str(damaged)], 5, "malformed"),
    ]
    for argv, code, needle in cases:
        assert main(argv) == code, argv
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err


def test_console_script_runs(seeds_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "dedupe", "scan", str(seeds_dir), "-f", "json", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema_version"]


def test_ci_runs_the_readme_test_command():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8").splitlines()
    commands = [line for line in readme[:6] if ".venv" in line]
    assert len(commands) == 2 and "dedupe scan seeds/" in commands[0] and "pytest" in commands[1]
    ci = (root / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == commands[1]


def test_output_over_an_input_is_refused(tmp_path, seeds_dir):
    """-o naming an input file (or --mapping, --report for dedup) would replace the corpus with the
    report: refused with exit 2, the input untouched."""
    from dedupe.cli import main

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": "one two three four five six"}) + "\n")
    before = corpus.read_bytes()
    assert main(["scan", str(corpus), str(seeds_dir), "-o", str(corpus), "-q"]) == 2
    assert (
        main(["dedup", str(corpus), "--output", str(tmp_path / "o.jsonl"), "--mapping", str(corpus), "-q"])
        == 2
    )
    assert main(["dedup", str(corpus), "--output", str(corpus), "-q"]) == 2
    assert corpus.read_bytes() == before


def test_first_run_announces_compiling_and_warmup_compiles(monkeypatch, capsys, seeds_dir, tmp_path):
    """A run whose kernels are not in numba's cache says so first (about 20 s, once); `dedupe
    warmup` compiles them on purpose, after which the kernels count as compiled."""
    from dedupe import kernels
    from dedupe.cli import main

    assert main(["warmup", "-q"]) == 0
    assert kernels.compiled()
    monkeypatch.setattr(kernels, "compiled", lambda: False)
    assert main(["scan", str(seeds_dir), "-f", "json", "-o", str(tmp_path / "o.json")]) == 0
    assert "compiling its kernels once" in capsys.readouterr().err
    assert main(["scan", str(seeds_dir), "-f", "json", "-o", str(tmp_path / "o.json"), "-q"]) == 0
    assert "compiling" not in capsys.readouterr().err


def test_output_to_a_device_fifo_or_symlink_replaces_no_node(tmp_path, seeds_dir):
    """-o naming a character device or a FIFO writes into it (the node stays what it was); -o
    naming a symlink writes through it (the link stays a link)."""
    import os
    import stat
    import threading

    from dedupe.cli import main

    assert main(["scan", str(seeds_dir), "-f", "json", "-o", "/dev/null", "-q"]) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert main(["scan", str(seeds_dir), "-f", "json", "-o", str(fifo), "-q"]) == 0
    reader.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and json.loads(got[0])["schema_version"]
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["scan", str(seeds_dir), "-f", "json", "-o", str(link), "-q"]) == 0
    assert link.is_symlink() and json.loads(target.read_text())["schema_version"]


def test_table_caps_every_section_and_says_how_many_more():
    """Each cluster, passage and reuse cluster shows at most MAX_ROWS rows and counts the rest."""
    import io

    from dedupe import Detector
    from dedupe.report.table import MAX_ROWS, write

    words = " ".join(f"w{k}" for k in range(60))
    docs = [
        (f"d{k:02d}", f'{words} "a quoted remark that many repeat" and tail {k}') for k in range(MAX_ROWS + 7)
    ]
    out = io.StringIO()
    write(Detector().run(docs), out, width=120)
    text = out.getvalue()
    assert (
        "... and 7 more members (--limit N shows more, --limit 0 all; --format json has everything)." in text
    )
    assert f"d{MAX_ROWS + 6:02d}" not in text.split("Shared passages")[0]  # the 27th member is not listed


def test_help_fits_80_columns_keeps_brackets_and_gives_examples():
    """--help at 80 columns: no line runs over, no option name is cut, the extra's name
    dedupe[spark] is printed as written, and scan's help ends with examples."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "dedupe", "scan", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "--jaccard-threshold" in out and "--containment-threshold" in out and "…" not in out
    assert "dedupe-text[spark]" in out and "Examples:" in out and "dedupe scan seeds/" in out


def test_limit_caps_every_table_section_and_zero_shows_all(seeds_dir, capsys):
    """The table shows the largest items and counts the rest; --limit N changes the cap for every
    section (reuse pairs included), --limit 0 lifts it."""
    assert main(["scan", str(seeds_dir), "--limit", "2", "-q"]) == 0
    capped = capsys.readouterr().out
    assert "... and 4 more pairs (--limit N shows more" in capped and "more occurrences" in capped
    assert main(["scan", str(seeds_dir), "--limit", "0", "-q"]) == 0
    full = capsys.readouterr().out
    assert " more " not in full and len(full.splitlines()) > len(capped.splitlines())
    assert main(["scan", str(seeds_dir), "--limit", "-1", "-q"]) == 2


def test_progress_stops_each_stage_clock_when_it_is_done(monkeypatch):
    """A stage's bar stops (its clock with it) when it reaches its total or the next stage starts;
    a stage without a total shows its count, then ends full."""
    from dedupe.cli import _Progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    progress = _Progress(True)
    assert progress.bar is not None
    with progress:
        progress("fingerprint", 500, 0)
        progress("fingerprint", 1000, 0)
        progress("verify", 0, 80)
        tasks = {t.description: t for t in progress.bar.tasks}
        assert tasks["fingerprint"].finished and tasks["fingerprint"].stop_time is not None
        assert tasks["fingerprint"].fields["count"] == "1,000" and tasks["verify"].stop_time is None
        progress("verify", 80, 80)
        tasks = {t.description: t for t in progress.bar.tasks}
        assert tasks["verify"].stop_time is not None and tasks["verify"].fields["count"] == "80/80"


def test_dedup_shards_mirror_the_input_shards(tmp_path):
    """--shards writes each kept record into the file of the same path and format it was read
    from (compressed shards compressed alike); removed records are the mapping's, and every
    record is in one of the two or skipped."""
    import gzip

    base = " ".join(f"word{i % 97} token{i % 13}" for i in range(200))
    root = tmp_path / "dump"
    (root / "2024").mkdir(parents=True)
    (root / "a.jsonl").write_text(
        json.dumps({"id": "a1", "text": base, "url": "u1"})
        + "\n"
        + json.dumps({"id": "a2", "text": "other words " * 30})
        + "\n"
    )
    with gzip.open(root / "2024" / "b.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"id": "b1", "text": base + " and more"}) + "\n")
    (root / "2024" / "c.csv").write_text("id,text\nc1,a csv row that is not like the others at all\n")
    out = tmp_path / "clean"
    assert main(["dedup", str(root), "-o", str(out), "--shards", "-q"]) == 0
    kept = {}
    for f in ("a.jsonl", "2024/b.jsonl.gz"):
        opener = gzip.open if f.endswith(".gz") else open
        with opener(out / f, "rt") as fh:
            kept.update({r["id"]: r for r in map(json.loads, fh)})
    rows = list(csv.DictReader(io.StringIO((out / "2024" / "c.csv").read_text())))
    kept.update({r["id"]: r for r in rows})
    removed = [
        json.loads(line)["removed"] for line in (tmp_path / "clean.mapping.jsonl").read_text().splitlines()
    ]
    assert sorted([*kept, *removed]) == ["a1", "a2", "b1", "c1"] and len(removed) == 1
    assert "a1" not in kept or kept["a1"]["url"] == "u1"  # records written back whole
    assert main(["dedup", str(root), "-o", str(tmp_path / "x.jsonl"), "--shards", "-q"]) == 2


def test_dedup_outputs_keep_every_record_whatever_its_names_and_types(tmp_path, monkeypatch):
    """Found by a review: two shards of one name given by path stay two (--shards), standard input
    becomes stdin.jsonl, a Parquet timestamp or bytes column is written as JSON can hold it, a
    compressed output named by a symlink is written through it, and a text after a closing quote
    in a CSV row is read as Python's lenient reader reads it."""
    import datetime as dt
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.jsonl").write_text(
            json.dumps({"id": d, "text": f"story {d} " + "word " * 20}) + "\n"
        )
    out = tmp_path / "sh"
    assert (
        main(
            [
                "dedup",
                str(tmp_path / "a" / "x.jsonl"),
                str(tmp_path / "b" / "x.jsonl"),
                "--shards",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("x*.jsonl"))
    assert len(written) == 2 and sorted(json.loads(p.read_text())["id"] for p in out.rglob("x*.jsonl")) == [
        "a",
        "b",
    ]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "a" / "x.jsonl").read_bytes())))
    assert main(["dedup", "-", "--shards", "-o", str(tmp_path / "sh2"), "-q"]) == 0
    assert (tmp_path / "sh2" / "stdin.jsonl").exists()
    pq.write_table(
        pa.table(
            {
                "id": ["p"],
                "text": ["a parquet row of text"],
                "ts": [dt.datetime(2024, 1, 1)],
                "raw": [b"\x00"],
            }
        ),
        tmp_path / "t.parquet",
    )
    assert main(["dedup", str(tmp_path / "t.parquet"), "-o", str(tmp_path / "t.jsonl"), "-q"]) == 0
    assert json.loads((tmp_path / "t.jsonl").read_text())["ts"] == "2024-01-01T00:00:00"
    target = tmp_path / "real.jsonl.gz"
    target.write_bytes(gzip.compress(b"old\n"))
    (tmp_path / "link.jsonl.gz").symlink_to(target)
    assert (
        main(
            [
                "dedup",
                str(tmp_path / "a" / "x.jsonl"),
                "-o",
                str(tmp_path / "link.jsonl.gz"),
                "--mapping",
                str(tmp_path / "m.jsonl"),
                "-q",
            ]
        )
        == 0
    )
    assert (tmp_path / "link.jsonl.gz").is_symlink() and b'"id": "a"' in gzip.decompress(target.read_bytes())
    (tmp_path / "q.csv").write_text('id,text\n2,"Quoted" title then body of the row\n')
    assert main(["scan", str(tmp_path / "q.csv"), "-f", "json", "-o", str(tmp_path / "r.json"), "-q"]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["documents"] == 1


def test_rules_say_how_texts_of_other_lengths_are_found():
    from dedupe.cli import rules_text

    on = Config()
    off = on.replace({"passages.enabled": False})
    assert "found by" not in rules_text(on)
    assert "found by shared MinHash values" in rules_text(off)
    assert "found by the bands alone" in rules_text(off.replace({"lsh.containment_candidates": False}))
