"""Hostile input and failures: every input record is accounted for, no traceback reaches the user,
no output is left half-written."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe import Detector, Document
from dedupe.cli import main
from dedupe.config import InputConfig
from dedupe.output import atomic_write
from dedupe.records import Skipped
from dedupe.sources import read_sources

SENTENCE = "the quick brown fox jumps over the lazy dog near the river bank today"


def scan_json(paths: list[Path], capsys, *extra: str) -> tuple[int, dict]:
    code = main(["scan", *map(str, paths), "-f", "json", "-q", *extra])
    out = capsys.readouterr().out
    return code, (json.loads(out) if code == 0 else {})


def reasons(data: dict) -> dict[str, str]:
    return {s["source"].rsplit("/", 1)[-1]: s["reason"] for s in data["skipped"]}


def test_each_hostile_file_is_processed_or_skipped_with_a_reason(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    (d / "bad_utf8.txt").write_bytes(b"caf\xe9 " + SENTENCE.encode())
    (d / "bom8.txt").write_bytes(b"\xef\xbb\xbf" + SENTENCE.encode())
    (d / "bom16.txt").write_bytes(SENTENCE.encode("utf-16"))
    (d / "crlf.txt").write_bytes(SENTENCE.replace(" ", "\r\n").encode())
    (d / "nul.txt").write_bytes(SENTENCE.encode() + b"\x00" + SENTENCE.encode())
    (d / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.txt").write_bytes(b" \n\t \r\n")
    (d / "short.txt").write_bytes(b"two words")
    (d / "broken.txt").symlink_to(d / "missing-target.txt")
    (d / "loop.txt").symlink_to(d / "loop.txt")
    (d / "sub").mkdir()
    (d / "sub" / "back").symlink_to(d, target_is_directory=True)
    code, data = scan_json([d], capsys)
    assert code == 0
    docs = {x["id"]: x for x in data["documents"]}
    why = reasons(data)
    assert "invalid UTF-8" in docs["bad_utf8.txt"]["notes"][0]
    assert docs["bom8.txt"]["chars"] == len(SENTENCE) and docs["bom16.txt"]["chars"] == len(SENTENCE)
    assert "crlf.txt" in docs and "nul.txt" in docs
    assert docs["short.txt"]["shingles"] == 0 and "never matched" in docs["short.txt"]["notes"][0]
    assert why["binary.txt"] == "binary file"
    assert why["empty.txt"].startswith("empty document") and why["blank.txt"].startswith("empty document")
    assert why["broken.txt"].startswith("unreadable file") and why["loop.txt"].startswith("unreadable file")
    assert why["back"].startswith("symlink loop")
    s = data["summary"]
    assert s["documents_read"] == s["documents"] + s["skipped"] == len(docs) + len(data["skipped"])


def test_crlf_offsets_slice_the_original(tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    shared = "“We agree on many things, and will be meeting immediately after the election”"
    a.write_bytes(("Intro line.\r\n" + shared + "\r\nEnd.").encode())
    b.write_bytes(("Other start here.\n" + shared + "\nbye").encode())
    code, data = scan_json([a, b], capsys)
    assert code == 0 and data["passages"]
    for occ in data["passages"][0]["occurrences"]:
        text = Path(occ["doc"]).read_bytes().decode()
        assert text[occ["start"] : occ["end"]] == occ["text"]


def test_jsonl_hostile_records(tmp_path, capsys):
    p = tmp_path / "d.jsonl"
    lines = [
        json.dumps({"id": "ok", "text": SENTENCE}),
        "{broken json",
        json.dumps({"id": "notext"}),
        json.dumps({"id": "num", "text": 42}),
        json.dumps({"id": "nul", "text": None}),
        json.dumps({"id": "list", "text": ["a"]}),
        json.dumps({"text": SENTENCE + " again"}),
        json.dumps({"id": "ok", "text": "duplicate id " + SENTENCE}),
        json.dumps({"id": "sur", "text": "lone \ud800 surrogate " + SENTENCE}),
        "[" * 100000,
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, data = scan_json([p], capsys)
    assert code == 0
    why = {s["source"]: s["reason"] for s in data["skipped"]}
    assert why[f"{p}:2"].startswith("malformed JSON on line 2")
    assert "missing text field" in why[f"{p}:3"]
    assert "is int" in why[f"{p}:4"] and "is null" in why[f"{p}:5"] and "is list" in why[f"{p}:6"]
    assert why[f"{p}:8"].startswith("duplicate id")
    assert why[f"{p}:10"].startswith("malformed JSON")
    ids = {d["id"] for d in data["documents"]}
    assert ids == {"ok", "d.jsonl:7", "sur"}
    assert data["summary"]["documents_read"] == len(lines)


def test_csv_quoted_newlines_and_bad_rows(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text(f'id,text\n1,"{SENTENCE}\nsecond line"\n2,\n3,"{SENTENCE}"\n', encoding="utf-8")
    code, data = scan_json([p], capsys)
    assert code == 0
    assert {d["id"] for d in data["documents"]} == {"1", "3"}
    assert [s["reason"] for s in data["skipped"]] == ["empty document (no text)"]


def test_too_large_documents_are_skipped_without_reading_them_whole(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("word " * 5000, encoding="utf-8")
    jl = tmp_path / "big.jsonl"
    jl.write_text(
        json.dumps({"id": "huge", "text": "word " * 5000})
        + "\n"
        + json.dumps({"id": "fine", "text": SENTENCE})
        + "\n"
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("input:\n  max_chars: 1000\n")
    code, data = scan_json([big, jl], capsys, "-c", str(cfg))
    assert code == 0
    why = [s["reason"] for s in data["skipped"]]
    assert any(r.startswith("document too large: 25,000 bytes") for r in why)
    assert any(r.startswith("line 1 longer than") for r in why)
    assert [d["id"] for d in data["documents"]] == ["fine"]


@pytest.mark.slow
def test_a_200_mb_line_is_read_with_bounded_memory(tmp_path):
    """A 200 MB JSONL line and a 200 MB text file: skipped, and peak memory stays far below 200 MB."""
    line = tmp_path / "one.jsonl"
    with open(line, "wb") as fh:
        fh.write(b'{"id": "x", "text": "')
        chunk = b"word " * 200_000
        for _ in range(200):
            fh.write(chunk)
        fh.write(b'"}\n')
        fh.write(json.dumps({"id": "y", "text": SENTENCE}).encode() + b"\n")
    text = tmp_path / "one.txt"
    os.link(line, text)
    script = (
        "import resource, sys; from dedupe.cli import main; rc = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "scan", str(line), str(text), "-f", "json", "-q", "--no-passages"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [d["id"] for d in data["documents"]] == ["y"]
    assert len(data["skipped"]) == 2
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"


def test_no_readable_documents_exit_4(tmp_path, capsys):
    (tmp_path / "a.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "b.txt").write_text("   ")
    assert main(["scan", str(tmp_path)]) == 4
    err = capsys.readouterr().err.strip()
    assert err.startswith("dedupe: error: no documents to process (2 inputs skipped") and "\n" not in err


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    p = tmp_path / "a.txt"
    p.write_text(SENTENCE)
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path) == str(p):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    (rec,) = list(read_sources([str(tmp_path)], InputConfig()))
    assert isinstance(rec, Skipped) and rec.reason == "unreadable file: Permission denied"


def test_atomic_output_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("previous")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("partial")
        raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def big_corpus(tmp_path: Path, n: int = 60000) -> Path:
    """``n`` distinct stories (words drawn at random), enough to keep a scan busy for seconds."""
    import random

    rng = random.Random(n)
    vocab = [f"w{k}" for k in range(5000)]
    p = tmp_path / "big.jsonl"
    with open(p, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": i, "text": " ".join(rng.choices(vocab, k=60))}) + "\n")
    return p


@pytest.fixture(scope="module")
def busy_corpus(tmp_path_factory) -> Path:
    """A corpus that keeps a scan busy well past the moments the Ctrl-C tests pick: with two
    workers 60,000 of these stories took under 2 s on a 2-core machine, so a Ctrl-C at 2 s
    found the run finished."""
    return big_corpus(tmp_path_factory.mktemp("busy"), 250000)


def start_scan(corpus: Path, out: Path, workers: str, **popen: Any) -> subprocess.Popen:
    """``dedupe scan`` of ``corpus`` to ``out`` in its own process, its output captured."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dedupe",
            "scan",
            str(corpus),
            "-f",
            "json",
            "-o",
            str(out),
            "--workers",
            workers,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.mark.parametrize(
    ("workers", "after"),
    [("1", 2.0), ("2", 2.0), ("2", 0.6), ("1", 1.2)],
    ids=["1-scanning", "2-scanning", "2-loading", "1-loading"],
)
def test_ctrl_c_stops_cleanly_with_130(tmp_path, busy_corpus, workers, after):
    """Any moment of a run, while modules load and kernels compile as while it scans."""
    out = tmp_path / "out.json"
    proc = start_scan(busy_corpus, out, workers)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip() == "dedupe: interrupted"
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing half-written left


LOST_INTERRUPT = """
import ctypes, signal, sys
import dedupe.pipeline
from dedupe.__main__ import main

def ctrl_c_inside_a_callback():
    signal.raise_signal(signal.SIGINT)  # the handler's KeyboardInterrupt is raised in here...
    sum(range(1000))

fingerprint = dedupe.pipeline.Detector.fingerprint

def interrupted_fingerprint(self, *args, **kwargs):
    ctypes.CFUNCTYPE(None)(ctrl_c_inside_a_callback)()  # ...and goes no further than ctypes
    return fingerprint(self, *args, **kwargs)

dedupe.pipeline.Detector.fingerprint = interrupted_fingerprint
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_interrupt_lost_in_a_callback_from_c_still_stops_the_run(tmp_path, workers):
    """The race behind a flaky Ctrl-C test: an interrupt raised inside a callback from C (llvmlite's,
    while numba loads kernels) is reported as unraisable, and the run used to go on to the end."""
    corpus = big_corpus(tmp_path, 3000)
    out = tmp_path / "out.json"
    args = [str(corpus), "-f", "json", "-o", str(out), "--workers", workers]
    proc = subprocess.run(
        [sys.executable, "-c", LOST_INTERRUPT, "scan", *args], capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stdout, proc.stderr.strip()) == (130, "", "dedupe: interrupted")
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["big.jsonl"]


IN_THE_COMPILER = """
import signal, sys
import dedupe.pipeline
from dedupe.__main__ import main

def load_kernel():
    signal.raise_signal(signal.SIGINT)
    print("kernel loaded whole", file=sys.stderr)

# the same code, run as if it were numba's (a module under numba)
numba_at_work = {"__name__": "numba.core.fake", "signal": signal, "sys": sys}
load_kernel = type(load_kernel)(load_kernel.__code__, numba_at_work)

fingerprint = dedupe.pipeline.Detector.fingerprint

def interrupted_fingerprint(self, *args, **kwargs):
    load_kernel()
    return fingerprint(self, *args, **kwargs)

dedupe.pipeline.Detector.fingerprint = interrupted_fingerprint
sys.exit(main(sys.argv[1:]))
"""


def test_an_interrupt_while_numba_loads_a_kernel_waits_for_it(tmp_path):
    """Raised inside numba's loading, an interrupt could leave a kernel half loaded (llvmlite's
    callbacks cannot pass it on), and calling that kernel crashed the process (SIGSEGV)."""
    corpus = big_corpus(tmp_path, 3000)
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-c", IN_THE_COMPILER, "scan", str(corpus), "-f", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stdout) == (130, "")
    assert proc.stderr.splitlines() == ["kernel loaded whole", "dedupe: interrupted"]
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["jsonl", "table", "csv"])
def test_closed_pipe_exits_quietly(tmp_path, fmt):
    corpus = big_corpus(tmp_path, 3000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dedupe", "scan", str(corpus), "-f", fmt, "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert proc.returncode == 0 and stderr == ""


def test_api_skips_too_large_and_keeps_accounting():
    from dedupe import Config

    cfg = Config().replace({"input.max_chars": 80})
    result = Detector(cfg).run([Document("a", "x " * 100), Document("b", SENTENCE)])
    assert [d.id for d in result.documents] == ["b"] and result.skipped[0].reason.startswith(
        "document too large"
    )


# ---- properties: random hostile corpora ----------------------------------------------------------

hostile_text = st.one_of(
    st.text(alphabet=st.characters(codec=None), max_size=300),
    st.text(
        alphabet=st.sampled_from(
            ["a", "b", " ", "\u0301", "\u200b", "\x00", "\r", "\n", "“", "”", "🙂", "ﬁ"]
        ),
        max_size=300,
    ),
    st.builds(lambda w, n: (w + " ") * n, st.sampled_from(["spam", "the quick", "é"]), st.integers(0, 400)),
)
hostile_bytes = st.one_of(
    st.binary(max_size=400), hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass"))
)
jsonl_line = st.one_of(
    hostile_text.map(lambda t: json.dumps({"id": "x", "text": t})),
    st.builds(lambda i, t: json.dumps({"id": i, "text": t}), st.integers(0, 5), hostile_text),
    hostile_text.map(lambda t: json.dumps({"text": t})),
    st.text(max_size=40),
    st.just('{"id": 1, "text": '),
)
csv_text = st.lists(st.tuples(st.integers(0, 9), hostile_text), max_size=6).map(
    lambda rows: "id,text\n" + "".join(f'{i},"{t.replace(chr(34), chr(34) * 2)}"\n' for i, t in rows)
)


def write_hostile(root: Path, files: list[bytes], jsonl: list[str], csv_body: str) -> Path:
    """A hostile corpus: the text files, one JSON Lines and one CSV file, in ``root``."""
    for i, data in enumerate(files):
        (root / f"f{i}.txt").write_bytes(data)
    (root / "data.jsonl").write_text("\n".join(jsonl), encoding="utf-8", errors="surrogatepass")
    (root / "data.csv").write_text(csv_body, encoding="utf-8", errors="surrogatepass")
    return root


@contextlib.contextmanager
def tmpfs(mnt: Path, size: str):
    """A tmpfs of ``size`` mounted at ``mnt`` for the block (the test is skipped where this
    process may not mount one), unmounted after."""
    mnt.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (not root, or no mount permission)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_while_seed_rows_are_spilled_is_exit_7_never_rows_lost(tmp_path, seeds_dir, monkeypatch):
    """Past passages.max_seed_pairs the seed rows are spilled to TMPDIR: on a full disk the scan
    stops with exit 7 and one line naming the file, leaves no spill file, and writes no result."""
    cfg = tmp_path / "tight.yaml"
    cfg.write_text("passages:\n  max_seed_pairs: 10\n")
    out = tmp_path / "out.json"
    with tmpfs(tmp_path / "small", "8k") as mnt:
        monkeypatch.setenv("TMPDIR", str(mnt))
        monkeypatch.setattr("tempfile.tempdir", None)
        proc = subprocess.run(
            [sys.executable, "-m", "dedupe", "scan", str(seeds_dir), "-c", str(cfg), "-o", str(out), "-q"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 7, proc.stderr
        assert proc.stderr.count("\n") == 1 and "dedupe-seed-rows-" in proc.stderr, proc.stderr
        assert list(mnt.iterdir()) == []
    assert not out.exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(hostile_bytes, max_size=6), st.lists(jsonl_line, max_size=8), csv_text)
def test_hostile_corpora_never_break_the_run(tmp_path_factory, capsys, files, jsonl, csv_body):
    root = write_hostile(tmp_path_factory.mktemp("hostile"), files, jsonl, csv_body)
    paths = [root, root / "data.jsonl", root / "data.csv"]
    code = main(["scan", *map(str, paths), "-f", "json", "-q"])
    captured = capsys.readouterr()
    assert code in (0, 4), captured.err
    assert "Traceback" not in captured.err
    if code == 4:
        return
    data = json.loads(captured.out)
    s = data["summary"]
    assert s["documents_read"] == s["documents"] + s["skipped"]
    texts = {
        r.id: r.text for r in read_sources(list(map(str, paths)), InputConfig()) if isinstance(r, Document)
    }
    assert len(files) <= s["documents_read"]
    for g in data["passages"]:
        for occ in g["occurrences"]:
            assert texts[occ["doc"]][occ["start"] : occ["end"]] == occ["text"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_like_ctrl_c_and_end_the_workers(tmp_path, busy_corpus, sig):
    """A scan with two workers, sent SIGTERM or SIGHUP: it stops as after Ctrl-C (one line, exit
    128 + the signal's number, nothing half-written), and no worker outlives it."""
    out = tmp_path / "out.json"
    # the signal's default disposition, as a terminal gives it: under nohup (SIGHUP ignored, and
    # inherited so) dedupe leaves SIGHUP ignored on purpose, and the run would end normally
    proc = start_scan(busy_corpus, out, "2", preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
    # signalled once its workers run, not after a fixed pause: a fast machine finished the whole
    # corpus within the 2 s this used to wait, and exited 0
    deadline = time.time() + 60
    children: list[int] = []

    def workers() -> list[int]:
        return [int(p) for p in open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()]

    while len(children) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        children = workers()
    time.sleep(0.2)
    children = workers() or children
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stderr
    assert stderr.strip() == f"dedupe: stopped by {signal.Signals(sig).name}"
    assert not out.exists() and list(tmp_path.iterdir()) == []
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.1)
    assert children and not any(os.path.exists(f"/proc/{c}") for c in children)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_jsonl_file_truncated_during_the_scan_is_an_error(tmp_path, workers):
    """Lines split off to be parsed later (on the workers), then cut from the file or rewritten in
    place at the same length: exit 3, never a result missing them or made of other lines."""
    from dedupe.config import Config
    from dedupe.errors import InputError

    path = tmp_path / "growing.jsonl"
    path.write_text(
        "".join(json.dumps({"id": str(k), "text": f"story {k} " * 20}) + "\n" for k in range(3000))
    )
    cfg = Config().replace({"passages.enabled": False, "run.workers": workers, "run.batch_size": 500})
    items = list(read_sources([str(path)], cfg.input, parse=False))  # read and split, not parsed yet
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    with pytest.raises(InputError, match="changed while it was read"):
        Detector(cfg).run(items)
    # rewritten in place, not one byte longer or shorter: its lines are not the ones split
    path.write_text(
        "".join(json.dumps({"id": str(k), "text": f"story {k} " * 20}) + "\n" for k in range(3000))
    )
    items = list(read_sources([str(path)], cfg.input, parse=False))
    time.sleep(0.01)
    path.write_bytes(path.read_bytes().replace(b"story 1 ", b"STORY 1 "))
    with pytest.raises(InputError, match="changed while it was read"):
        Detector(cfg).run(items)


def test_one_bad_record_or_file_never_ends_the_run(tmp_path):
    """A directory 1,000 deep is read; a FIFO in a scanned directory is skipped (never opened: it
    would block forever); a JSON integer of 5,000 digits skips its line. Every record accounted."""
    from dedupe.config import InputConfig
    from dedupe.records import Document, Skipped

    root = tmp_path / "tree"
    root.mkdir()
    here = os.getcwd()
    try:  # relative steps: one absolute path of 1,000 parts is refused by mkdir
        os.chdir(root)
        for _ in range(1000):
            os.mkdir("d")
            os.chdir("d")
        Path("bottom.txt").write_text("a text at the bottom of a very deep tree of folders")
    finally:
        os.chdir(here)
    (root / "top.txt").write_text("a text at the top of the tree")
    os.mkfifo(root / "pipe.txt")
    big = tmp_path / "big.jsonl"
    big.write_text(
        '{"id": "a", "text": "some text", "n": ' + "9" * 5000 + '}\n{"id": "b", "text": "more text"}\n'
    )
    try:
        records = list(read_sources([str(root), str(big)], InputConfig()))
    finally:
        _remove_deep(root)  # shutil.rmtree (pytest's clean-up of old runs) recurses: remove it here
    docs = sorted(r.id for r in records if isinstance(r, Document))
    assert docs == ["b", "d/" * 1000 + "bottom.txt", "top.txt"]
    reasons = sorted(r.reason for r in records if isinstance(r, Skipped))
    assert reasons == ["not a regular file (FIFO): not read", reasons[1]] and "4300 digits" in reasons[1]


def _remove_deep(root: Path) -> None:
    """Remove the chain of "d" directories under ``root``, deepest first, by relative steps."""
    here = os.getcwd()
    try:
        os.chdir(root)
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for name in os.listdir("."):
            os.unlink(name)
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(here)


def test_running_out_of_memory_is_a_clear_error_with_its_code(seeds_dir):
    """Under an address-space limit too small to load the kernels' libraries: exit 8 and one line
    saying what to do, not an internal error."""
    import resource

    def limit(mb: int):
        return lambda: resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))

    codes = []
    for mb in (200, 300):
        proc = subprocess.run(
            [sys.executable, "-m", "dedupe", "scan", str(seeds_dir), "-q", "-f", "json"],
            capture_output=True,
            text=True,
            preexec_fn=limit(mb),
            timeout=120,
        )
        codes.append(proc.returncode)
        assert proc.returncode in (0, 8), proc.stderr
        if proc.returncode == 8:
            assert (
                proc.stderr.startswith("dedupe: error: out of memory") and len(proc.stderr.splitlines()) == 1
            )
    assert 8 in codes


@pytest.mark.parametrize("errno_name", ["ENOSPC", "EIO", "EACCES"])
@pytest.mark.parametrize(
    "command",
    [
        ["scan", "{seeds}", "-f", "json", "-o", "{out}/report.json"],
        ["dedup", "{seeds}", "-o", "{out}/clean.jsonl.gz"],
        ["dedup", "{seeds}", "-o", "{out}/clean.parquet"],
        ["dedup", "{seeds}", "-o", "{out}/corpus"],
    ],
)
def test_an_os_error_at_a_write_is_exit_7_and_leaves_the_old_output(
    tmp_path, seeds_dir, monkeypatch, command, errno_name
):
    """An operating-system error as an output is made durable (a full disk, an I/O error, a
    permission refused): exit 7 with one line, the earlier output untouched, no temporary file left."""
    import errno as errno_module

    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(seeds=seeds_dir, out=out) for a in command]
    assert main([*argv, "-q"]) == 0  # an earlier, good output
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code = getattr(errno_module, errno_name)

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing)  # every atomic output syncs before it is renamed in
    monkeypatch.setattr(os, "rename", failing)  # a directory output is renamed into place
    assert main([*argv, "-q"]) == 7
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".old"))]


def test_a_full_disk_under_the_index_is_exit_7_and_the_index_stays_usable(tmp_path, seeds_dir):
    """A real full file system (a 600 KB tmpfs, when this process may mount one): 'index add'
    stops with exit 7, and the index still opens and checks ok, holding what was committed."""
    with tmpfs(tmp_path / "small", "600k") as mnt:
        index = mnt / "news.db"
        corpus = tmp_path / "big.jsonl"
        corpus.write_text(
            "".join(
                json.dumps({"id": f"d{k}", "text": f"story {k} " + "word " * 300}) + "\n" for k in range(3000)
            )
        )
        assert main(["index", "add", str(index), str(seeds_dir), "-q"]) == 0
        assert main(["index", "add", str(index), str(corpus), "-q"]) == 7
        assert main(["index", "check", str(index)]) == 0


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(hostile_bytes, max_size=5), st.lists(jsonl_line, max_size=8), csv_text)
def test_hostile_corpora_never_break_the_index(tmp_path_factory, capsys, files, jsonl, csv_body):
    """The same hostile corpora through 'index add', 'index query' and 'index remove': a documented
    exit code and one-line errors, never a traceback; every record added or skipped with a reason;
    the index checks ok after each command."""
    from dedupe.index import Index

    root = write_hostile(tmp_path_factory.mktemp("hostile-index"), files, jsonl, csv_body)
    index = root / "idx.db"
    with Index.open(index, create=True, write=True) as ix:
        report = ix.add(read_sources([str(root)], InputConfig()))
        ids = [doc_id for (doc_id,) in ix.store.conn.execute("SELECT id FROM documents")]
    assert report.documents_read == report.added + len(report.skipped)
    assert main(["index", "check", str(index)]) == 0
    for argv, codes in (
        (["index", "query", str(index), str(root / "data.jsonl"), "-f", "json", "-q"], (0, 4)),
        (["index", "query", str(index), str(root), "--add", "-f", "json", "-q"], (0, 4)),
        (["index", "remove", str(index), *ids[:3], "-q"], (0,) if ids else (2,)),  # 2: no id given
        (["index", "check", str(index)], (0,)),
    ):
        code = main(argv)
        err = capsys.readouterr().err
        assert code in codes, (argv, err)
        assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigterm_at_a_random_moment_of_dedup_and_index_add_leaves_no_half_output(tmp_path, busy_corpus, seed):
    """SIGTERM at a random moment of 'dedup' (two workers) and of 'index add': exit 143 with one
    line (or 0 when the run finished first), the earlier corpus untouched and no temporary file
    left; the index still checks ok, holding whole batches only."""
    import random as random_module

    rng = random_module.Random(seed)
    out = tmp_path / "clean.jsonl"
    out.write_text("an earlier corpus\n")
    index = tmp_path / "news.db"
    commands = [
        ["dedup", str(busy_corpus), "-o", str(out), "--workers", "2", "--no-passages", "-q"],
        ["index", "add", str(index), str(busy_corpus), "--no-passages", "-q"],
    ]
    for argv in commands:
        proc = subprocess.Popen([sys.executable, "-m", "dedupe", *argv], stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode in (0, 143), stderr
        if proc.returncode == 143:
            assert stderr.strip() == "dedupe: stopped by SIGTERM"
    if out.read_text() != "an earlier corpus\n":  # replaced only by a finished run
        assert out.read_text().count("\n") > 1000
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    if index.exists():
        assert main(["index", "check", str(index)]) == 0


def test_an_index_on_a_read_only_file_system_is_read_and_refuses_writes(tmp_path, seeds_dir):
    """An index on read-only media (a tmpfs remounted read-only, when this process may mount one):
    query, stats and check work; add is refused with exit 7, not 'not a dedupe index'."""
    with tmpfs(tmp_path / "media", "20m") as mnt:
        index = mnt / "news.db"
        assert main(["index", "add", str(index), str(seeds_dir), "-q"]) == 0
        assert subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True).returncode == 0
        probe = sorted(seeds_dir.iterdir())[0]
        assert (
            main(
                ["index", "query", str(index), str(probe), "-f", "json", "-q", "-o", str(tmp_path / "r.json")]
            )
            == 0
        )
        assert json.loads((tmp_path / "r.json").read_text())["summary"]["documents"] == 1
        assert main(["index", "stats", str(index)]) == 0
        assert main(["index", "check", str(index)]) == 0
        assert main(["index", "add", str(index), str(probe), "-q"]) == 7
