"""Every script in benchmarks/ runs, at tiny sizes, as a user runs it: so that none rots unseen.

Each runs in its own process from the repository's root, with its smallest options, and must exit
0 and write the results it promises (its JSON, or its corpus). The figures are not judged here:
the benchmarks judge them at full size (docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import reuters  # noqa: E402

pytestmark = pytest.mark.skipif(not reuters.available(), reason="Reuters-21578 not in ../shared/corpora")

SMOKE = {
    "accuracy.py": ["--bases", "25", "--stories", "2500"],
    "passages_plagdet.py": ["--cases", "15", "--stories", "2500"],
    "viral.py": ["--docs", "300", "--k", "3,60"],
    "short_in_long.py": ["--cases", "15", "--stories", "2500"],
    "index_daily.py": ["--limit", "1200", "--probes", "3", "--no-rescan"],
    "speed.py": ["--docs", "300", "--competitor-docs", "100", "--repeat", "1", "--no-reuters"],
    "identical_copies.py": ["--copies", "100,200", "--near", "50,100"],
}


def run(script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_benchmark_has_a_smoke_run():
    scripts = {p.name for p in BENCH.glob("*.py")}
    assert scripts == {*SMOKE, "reuters.py", "spark_scale.py"}, "give the new script a smoke run here"


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs_at_tiny_size(script, tmp_path):
    out = tmp_path / "out.json"
    args = [*SMOKE[script], "--json", str(out)]
    if script == "speed.py":
        args += ["--workdir", str(tmp_path / "work")]
    res = run(script, *args)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip(), "a benchmark prints its table"
    data = json.loads(out.read_text())
    assert data
    if script == "speed.py" and shutil.which(
        os.environ.get("CC", "cc")
    ):  # the native floor: built, run, checked
        (corpus,) = data["corpora"]
        floor = next(r for r in corpus["rows"] if r["method"].startswith("native floor"))
        assert "error" not in floor, floor
        assert corpus["share_of_floor"] > 0
        assert corpus["floor_check"]["equal"] == corpus["floor_check"]["checked"] == corpus["documents"]


def test_reuters_converter_writes_jsonl(tmp_path):
    out = tmp_path / "r.jsonl"
    res = run("reuters.py", "--out", str(out), "--limit", "50")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 50 and all(r["id"].startswith("reuters-") and r["text"] for r in rows)


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("java") or os.environ.get("JAVA_HOME")), reason="no Java")
def test_spark_benchmark_runs_at_tiny_size(tmp_path):
    out = tmp_path / "out.json"
    res = run(
        "spark_scale.py",
        "--docs", "2000", "--partitions", "2", "--driver-memory", "2g",
        "--workdir", str(tmp_path / "work"), "--json", str(out),
        timeout=900,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert json.loads(out.read_text())
