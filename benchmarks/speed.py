"""Speed and memory: dedupe beside the libraries people use today, on the same documents, in one run.

    python benchmarks/speed.py [--docs 10000] [--competitor-docs 3000] [--no-reuters] [--repeat 3]
                               [--scale 10000,100000] [--scale-repeat 1] [--passages-scale 100000]
                               [--json out.json]

Two corpora, each run through every method: Reuters-21578 itself (its 21,578 stories as
``benchmarks/reuters.py`` converts them: real newswire, about 1 KB a story, with its own
repeated and corrected stories), and a corpus scaled up from it: 3 KB news-like documents of
sentences drawn at random from its stories (two documents share at most a sentence by chance, at
any size), 5% of them lightly edited copies of others. Both are read from ../shared/corpora at run
time and written as JSON Lines in the work directory. Every method gets the same documents, the
same normalised words, word 5-grams and 128 permutations, one core:

* ``datasketch (documented)``: ``MinHash.update`` per shingle, then ``MinHashLSH.insert`` and
  ``query`` (threshold 0.5);
* ``datasketch (update_batch, xxhash)``: ``MinHash(hashfunc=xxh32)`` with ``update_batch``, same LSH;
* ``rensa``: ``RMinHash`` fed the shingle strings, ``RMinHashLSH`` with the same bands (an extra:
  ``pip install rensa``; if it cannot be imported the table says so and the run goes on);
* ``gaoya``: ``MinHashStringIndex`` (word 5-grams, lowercased, 32-bit hashes, 42 bands of 3) fed the
  raw texts through ``par_bulk_insert_docs`` and ``par_bulk_query``, its documented bulk path, on
  one thread (``RAYON_NUM_THREADS=1``; an extra like rensa: ``pip install gaoya``);
* ``native floor``: ``benchmarks/floor.c``, compiled here with ``cc -O3 -march=native``: read the
  JSON Lines, fold and cut words, XXH64, word 5-gram hashes and 128 affine32 MinHash values in
  plain C, and nothing else (no LSH, verification or output). Its signatures are checked equal to
  dedupe's, so it is the least work that gives them: dedupe's one-worker rate is reported as a
  share of it;
* ``dedupe``: the whole ``dedupe scan`` (read JSONL, normalise, shingle, sign, LSH, verify, cluster,
  write JSON), with ``--no-passages``, one worker and two.

Each method runs in its own process, so its peak RSS is its own, ``--repeat`` times on each corpus
(the fastest run is reported: these runs last seconds, and a shared machine only slows them down).
Competitors may run on a prefix
of the corpus (``--competitor-docs``); every rate is documents per second on what that method read.
Correctness travels with speed: a reference run computes every signature with ``datasketch.MinHash``
objects, and its clusters must equal dedupe's. ``--scale`` runs dedupe alone on larger corpora
with one worker and two (time, peak RSS, bytes per document, the two-worker speed-up, and whether
both found the same clusters) to show how it grows, ``--scale-repeat`` times in turn (the fastest
of each is reported, with every run's seconds); ``--passages-scale`` runs the default scan
(shared passages on) with two workers, for its time and memory. An untimed scan of a small corpus
comes first, so that no timed run includes the compilation of dedupe's kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

COMMON = ["--no-passages", "--shingle-size", "5", "--num-perm", "128"]


# ---- corpus ---------------------------------------------------------------------------------


def make_corpus(path: Path, n: int, seed: int = 3) -> Path:
    """``n`` documents of about 3 KB: sentences drawn at random from all Reuters stories (so two
    documents share no more than a sentence by chance, at any ``n``), 5% of them lightly edited
    copies of a recent document (the near-duplicates to find)."""
    import re

    import reuters

    if path.exists() and path.stat().st_size > 0:
        return path
    sentences = [
        s.strip() for st in reuters.stories() for s in re.split(r"(?<=[.!?])\s+", st["text"]) if len(s) > 40
    ]
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        recent: list[str] = []
        for i in range(n):
            if recent and rng.random() < 0.05:
                words = rng.choice(recent).split(" ")
                for _ in range(max(1, len(words) // 50)):
                    words[rng.randrange(len(words))] = "edited"
                text = " ".join(words)
            else:
                parts, size = [], 0
                while size < 3000:
                    s = rng.choice(sentences)
                    parts.append(s)
                    size += len(s) + 1
                text = " ".join(parts)[:3200]
            recent = (recent + [text])[-1000:]
            fh.write(json.dumps({"id": f"doc{i:07d}", "text": text}) + "\n")
    tmp.rename(path)
    return path


def read_records(path: Path, limit: int | None) -> list[tuple[str, str, str | None]]:
    """Each record's id, text and date (None when it has none), the first ``limit`` of them."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out.append((rec["id"], rec["text"], rec.get("date")))
            if limit and len(out) >= limit:
                break
    return out


def read_corpus(path: Path, limit: int | None) -> list[tuple[str, str]]:
    return [(i, t) for i, t, _ in read_records(path, limit)]


def shingle_strings(text: str) -> list[str]:
    from dedupe.config import NormalizeConfig
    from dedupe.normalize import words

    w = words(text, NormalizeConfig())
    return list({" ".join(w[i : i + 5]) for i in range(len(w) - 4)})


# ---- methods (each runs in a child process) -------------------------------------------------


def run_datasketch(docs: list[tuple[str, str]], batch: bool) -> dict:
    import xxhash
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sigs = {}
    for doc_id, text in docs:
        sh = shingle_strings(text)
        if batch:
            m = MinHash(num_perm=128, hashfunc=xxhash.xxh32_intdigest)
            m.update_batch([s.encode() for s in sh])
        else:
            m = MinHash(num_perm=128)
            for s in sh:
                m.update(s.encode("utf8"))
        sigs[doc_id] = m
        lsh.insert(doc_id, m)
    candidates = sum(len(lsh.query(m)) - 1 for m in sigs.values()) // 2
    return {"seconds": time.perf_counter() - t0, "candidates": candidates}


def run_rensa(docs: list[tuple[str, str]]) -> dict:
    from datasketch.lsh import _optimal_param
    from rensa import RMinHash, RMinHashLSH

    bands, _ = _optimal_param(0.5, 128, 0.5, 0.5)
    bands = max(b for b in range(1, bands + 1) if 128 % b == 0)  # rensa needs bands dividing num_perm
    t0 = time.perf_counter()
    lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=bands)
    sigs = []
    for k, (_, text) in enumerate(docs):
        m = RMinHash(num_perm=128, seed=1)
        m.update(shingle_strings(text))
        sigs.append(m)
        lsh.insert(k, m)
    candidates = sum(len(lsh.query(m)) - 1 for m in sigs) // 2
    return {"seconds": time.perf_counter() - t0, "candidates": candidates}


def run_gaoya(docs: list[tuple[str, str]]) -> dict:
    os.environ["RAYON_NUM_THREADS"] = "1"  # one core, as every method here; read when the pool starts
    from gaoya.minhash import MinHashStringIndex

    t0 = time.perf_counter()
    index = MinHashStringIndex(32, 0.5, 42, 3, None, "word", True, (5, 5))
    texts = [t for _, t in docs]
    index.par_bulk_insert_docs(list(range(len(texts))), texts)
    found = index.par_bulk_query(texts)
    candidates = sum(len(f) - 1 for f in found) // 2
    return {"seconds": time.perf_counter() - t0, "candidates": candidates}


FLOOR_SOURCE = HERE / "floor.c"


def build_floor(workdir: Path) -> Path | str:
    """benchmarks/floor.c compiled into ``workdir`` (once per run), or why it could not be."""
    exe = workdir / "floor"
    cc = os.environ.get("CC", "cc")
    try:
        proc = subprocess.run(
            [cc, "-O3", "-march=native", "-o", str(exe), str(FLOOR_SOURCE)], capture_output=True, text=True
        )
    except OSError as e:
        return f"no C compiler ({cc}: {e.strerror})"
    if proc.returncode != 0:
        return f"{cc} failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    return exe


def run_floor(corpus: Path, exe: Path, workdir: Path) -> dict:
    """The floor program on ``corpus`` with dedupe's seed and 128 affine32 permutations (written
    for it as a, then b, uint32 little-endian); its own clock (reading the file included, process
    start not)."""
    import numpy as np

    from dedupe.config import load_config
    from dedupe.minhash import MinHasher

    seed = load_config().minhash.seed
    hasher = MinHasher(128, seed, "affine32")
    perms = workdir / "floor-perms.bin"
    np.concatenate([hasher.a, hasher.b]).astype("<u4").tofile(perms)
    sigs = workdir / "floor-signatures.bin"
    proc = subprocess.run(
        [str(exe), str(corpus), str(perms), "5", str(seed), str(sigs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def check_floor(corpus: Path, workdir: Path, limit: int | None = None) -> dict:
    """How many of the signatures the floor wrote (of the first ``limit`` documents, or all)
    equal dedupe's own."""
    import numpy as np

    from dedupe.config import load_config
    from dedupe.minhash import MinHasher
    from dedupe.shingle import Shingler

    cfg = load_config(overrides={"shingle.size": 5, "minhash.num_perm": 128})
    texts = [t for _, t in read_corpus(corpus, limit)]
    ours = MinHasher(128, cfg.minhash.seed, "affine32").signatures([Shingler(cfg).hashes(t) for t in texts])
    floor = np.fromfile(workdir / "floor-signatures.bin", dtype="<u4").reshape(-1, 128)[: len(texts)]
    return {"checked": len(texts), "equal": int((floor == ours).all(axis=1).sum())}


def run_dedupe(corpus: Path, workers: int, out: Path, passages: bool = False) -> dict:
    from dedupe.cli import main

    options = [o for o in COMMON if o != "--no-passages"] if passages else COMMON
    t0 = time.perf_counter()
    code = main(
        ["scan", str(corpus), "-f", "json", "-o", str(out), "-q", "--workers", str(workers), *options]
    )
    seconds = time.perf_counter() - t0
    assert code == 0, code
    data = json.loads(out.read_text())
    stats = data["stats"]
    found = stats.get("passages") or f"{stats.get('passage_groups', 0)} passage groups"
    return {
        "seconds": seconds,
        "stages": stats["seconds"],
        "clusters": clusters_of(data["clusters"]),
        "candidates": stats["candidate_pairs"],
        "oversized_buckets": stats["oversized_buckets"],
        **({"passages": found} if passages else {}),
    }


def run_reference(corpus: Path, limit: int | None) -> dict:
    """dedupe's pipeline with every signature computed by datasketch.MinHash objects."""
    import datasketch
    import numpy as np

    from dedupe import Detector, Document
    from dedupe.pipeline import FingerprintBatch, Fingerprinter

    class DatasketchFingerprinter(Fingerprinter):
        def __call__(self, texts):
            batch = super().__call__(texts)
            mh = self.config.minhash
            sigs = []
            for s in batch.sets:
                m = datasketch.MinHash(
                    num_perm=mh.num_perm, seed=mh.seed, hashfunc=lambda h: h, scheme=mh.scheme
                )
                if len(s):
                    m.update_batch(s.tolist())
                sigs.append(m.hashvalues.astype(np.uint32))
            return FingerprintBatch(batch.sets, np.array(sigs), None)

    from dedupe.config import load_config

    cfg = load_config(overrides={"passages.enabled": False, "shingle.size": 5, "minhash.num_perm": 128})
    # with each record's date, as the CLI reads it: the earliest member is a cluster's source,
    # and the stars that split a chain start from it
    docs = [Document(i, t, meta={"date": d} if d else {}) for i, t, d in read_records(corpus, limit)]
    t0 = time.perf_counter()
    result = Detector(cfg, fingerprinter=DatasketchFingerprinter(cfg)).run(docs)
    return {
        "seconds": time.perf_counter() - t0,
        "clusters": clusters_of([{"members": list(c.members)} for c in result.clusters]),
    }


def clusters_of(clusters: list[dict]) -> list[list[str]]:
    return sorted(sorted(c["members"]) for c in clusters)


def child(args: argparse.Namespace) -> None:
    corpus = Path(args.corpus)
    if args.run == "dedupe":
        res = run_dedupe(corpus, args.workers, Path(args.out), args.passages)
    elif args.run == "reference":
        res = run_reference(corpus, None)
    elif args.run == "floor":
        res = run_floor(corpus, Path(args.out), Path(args.out).parent)
    elif args.run == "floor_check":
        res = check_floor(corpus, Path(args.out).parent, args.limit)
    else:
        docs = read_corpus(corpus, args.limit)
        res = {
            "datasketch": lambda: run_datasketch(docs, batch=False),
            "datasketch_batch": lambda: run_datasketch(docs, batch=True),
            "rensa": lambda: run_rensa(docs),
            "gaoya": lambda: run_gaoya(docs),
        }[args.run]()
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.run == "floor":  # the C program's own peak, not its Python parent's
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # the largest worker process (with --workers 2), on top of the peak above
    res["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(res))


class Steps:
    """A progress bar on stderr over the benchmark's runs, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=total)

    def step(self, what: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=what)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


STEPS: Steps | None = None


def stolen_seconds() -> float | None:
    """CPU time the hypervisor gave to other machines so far (all cores; /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def spawn(*argv: str) -> dict:
    if STEPS is not None:
        STEPS.step(" ".join(a for a in argv[1:4] if not a.startswith("--")))
    stolen = stolen_seconds()
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False)
    after = stolen_seconds()
    if STEPS is not None:
        STEPS.done()
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if stolen is not None and after is not None:
        res["stolen_seconds"] = round(after - stolen, 2)  # a busy host slows a run: this says by how much
    return res


def fastest(repeat: int, *argv: str) -> dict:
    """The quickest of ``repeat`` runs of one method (each in its own process): a short run on a
    shared machine is slowed by whatever else runs, never sped up, so the minimum is the least
    disturbed measure. Its result carries every run's seconds."""
    return quickest([spawn(*argv) for _ in range(repeat)])


def quickest(runs: list[dict]) -> dict:
    """The quickest of these runs, carrying every finished run's seconds and the CPU the host
    stole meanwhile; the last run's error when none finished."""
    done = [r for r in runs if "seconds" in r]
    if not done:
        return runs[-1]
    best = min(done, key=lambda r: r["seconds"])
    return {
        **best,
        "runs_seconds": [r["seconds"] for r in done],
        "runs_stolen_seconds": [r.get("stolen_seconds") for r in done],
    }


# ---- the run --------------------------------------------------------------------------------


def reuters_corpus(workdir: Path) -> Path | None:
    """Reuters-21578 itself (all its stories, as ``benchmarks/reuters.py`` converts them) as JSON
    Lines in ``workdir``, written at run time from ../shared/corpora; None when it is not there."""
    import reuters

    if not reuters.available():
        return None
    path = workdir / "reuters-21578.jsonl"
    if not (path.exists() and path.stat().st_size > 0):
        tmp = path.with_suffix(".tmp")
        reuters.write_jsonl(tmp)
        tmp.rename(path)
    return path


def compare(name: str, corpus: Path, competitor_docs: int, workdir: Path, repeat: int) -> dict:
    """Every method on ``corpus`` (competitors on its first ``competitor_docs`` documents), each
    the fastest of ``repeat`` runs, the reference run, and the printed table; returns the rows and
    whether the clusters agree."""
    global STEPS
    STEPS = Steps(7 * repeat + 2)
    docs = sum(1 for _ in open(corpus, "rb"))
    mb = corpus.stat().st_size / 1e6
    print(
        f"\ncorpus: {name}, {docs} documents, {mb:.1f} MB ({corpus}); word 5-grams, 128 permutations, one core"
    )
    rows = []
    n_comp = min(competitor_docs, docs)
    comp_mb = mb * n_comp / docs
    for method, run in (
        ("datasketch (documented)", "datasketch"),
        ("datasketch (update_batch, xxhash)", "datasketch_batch"),
        ("rensa (RMinHash)", "rensa"),
        ("gaoya (MinHashStringIndex)", "gaoya"),
    ):
        res = fastest(repeat, "--run", run, "--corpus", str(corpus), "--limit", str(n_comp))
        rows.append({"method": method, "docs": n_comp, "mb": comp_mb, **res})
    exe = build_floor(workdir)
    floor_check = None
    if isinstance(exe, str):
        rows.append({"method": "native floor (benchmarks/floor.c)", "error": exe})
    else:
        res = fastest(repeat, "--run", "floor", "--corpus", str(corpus), "--out", str(exe))
        if "error" not in res and res["documents"] != docs:  # a record it could not read: no floor
            res = {"error": f"the floor signed {res['documents']} of the {docs} records"}
        rows.append({"method": "native floor (benchmarks/floor.c)", "docs": docs, "mb": mb, **res})
        if "error" not in res:
            floor_check = spawn("--run", "floor_check", "--corpus", str(corpus), "--out", str(exe))
    for w in (1, 2):
        res = fastest(
            repeat,
            "--run",
            "dedupe",
            "--corpus",
            str(corpus),
            "--workers",
            str(w),
            "--out",
            str(workdir / "out.json"),
        )
        rows.append(
            {"method": f"dedupe scan ({w} worker{'s' if w > 1 else ''})", "docs": docs, "mb": mb, **res}
        )
    ref = spawn("--run", "reference", "--corpus", str(corpus))
    STEPS.close()
    base = {r["method"]: r["docs"] / r["seconds"] for r in rows if "seconds" in r}
    ours = base.get("dedupe scan (1 worker)")
    print(f"\n{'method':<36}{'docs':>8}{'docs/s':>10}{'MB/s':>8}{'peak RSS MB':>13}{'dedupe 1w is':>14}")
    for r in rows:
        if "error" in r:
            print(f"{r['method']:<36}{'unavailable: ' + r['error'][:60]}")
            continue
        rate = r["docs"] / r["seconds"]
        ratio = f"{ours / rate:.2f}x" if ours else ""
        print(
            f"{r['method']:<36}{r['docs']:>8}{rate:>10.0f}{r['mb'] / r['seconds']:>8.2f}{r['peak_rss_mb']:>13.0f}{ratio:>14}"
        )
    one = next((r for r in rows if r["method"] == "dedupe scan (1 worker)" and "seconds" in r), None)
    two = next((r for r in rows if r["method"] == "dedupe scan (2 workers)" and "seconds" in r), None)
    if one and two:
        print(f"\ntwo workers: {one['seconds'] / two['seconds']:.2f}x the one-worker throughput")
    floor = next((r for r in rows if r["method"].startswith("native floor") and "seconds" in r), None)
    share_of_floor = None
    if one and floor:
        share_of_floor = floor["seconds"] / one["seconds"]
        print(
            f"dedupe scan (1 worker) runs at {100 * share_of_floor:.0f}% of the native floor's rate", end=""
        )
        if floor_check and "error" not in floor_check:
            print(
                f"; the floor's signatures equal dedupe's for {floor_check['equal']} of the "
                f"{floor_check['checked']} documents"
                + (
                    " (others hold non-ASCII text the floor does not fold as dedupe does: see floor.c)"
                    if floor_check["equal"] < floor_check["checked"]
                    else ""
                )
            )
        else:
            print(f"; its signatures were not checked: {(floor_check or {}).get('error', 'no run')}")
    equal = False
    if one:
        stages = one["stages"]
        total = sum(stages.values())
        print(
            "dedupe stages (1 worker): "
            + ", ".join(f"{k} {v:.2f}s ({100 * v / total:.0f}%)" for k, v in stages.items())
            + f"; outside the stages (start-up, reading JSONL, writing JSON) {one['seconds'] - total:.2f}s"
        )
        equal = "error" not in ref and ref["clusters"] == one["clusters"]
        print(
            f"correctness: clusters from datasketch.MinHash signatures {'EQUAL' if equal else 'DIFFER'} to dedupe's "
            f"({len(one['clusters'])} clusters)"
        )
    for r in rows:
        r.pop("clusters", None)
    return {
        "corpus": name,
        "documents": docs,
        "mb": mb,
        "rows": rows,
        "reference_equal": equal,
        "share_of_floor": share_of_floor,
        "floor_check": floor_check,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--competitor-docs", type=int, default=3000)
    ap.add_argument("--no-reuters", action="store_true", help="skip the run on Reuters-21578 itself")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each method on each corpus compared; the fastest is reported",
    )
    ap.add_argument(
        "--scale", default="", help="comma-separated corpus sizes for dedupe alone, e.g. 10000,100000"
    )
    ap.add_argument(
        "--scale-repeat",
        type=int,
        default=1,
        help="runs of one worker and two, in turn, at each --scale size; the fastest of each is reported",
    )
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dedupe-bench")
    ap.add_argument(
        "--passages-scale",
        default="",
        help="comma-separated corpus sizes for a default scan (shared passages on), two workers",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--passages", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    global STEPS
    warm_up(args.workdir)
    corpora = []
    reuters = None if args.no_reuters else reuters_corpus(args.workdir)
    if reuters is not None:
        corpora.append(compare("Reuters-21578", reuters, args.competitor_docs, args.workdir, args.repeat))
    elif not args.no_reuters:
        print("Reuters-21578 not found (../shared/corpora, or set DEDUPE_REUTERS): its run is left out")
    news = make_corpus(args.workdir / f"news-{args.docs}.jsonl", args.docs)
    corpora.append(
        compare("3 KB documents of Reuters sentences", news, args.competitor_docs, args.workdir, args.repeat)
    )
    scale = []
    sizes = [int(x) for x in args.scale.split(",") if x]
    STEPS = Steps(2 * len(sizes) * args.scale_repeat)
    for n in sizes:
        c = make_corpus(args.workdir / f"news-{n}.jsonl", n)
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(args.scale_repeat):  # one worker and two in turn, so both see the same machine
            for w in (1, 2):
                out = args.workdir / f"out-{n}-{w}.json"
                runs[w].append(
                    spawn("--run", "dedupe", "--corpus", str(c), "--workers", str(w), "--out", str(out))
                )
        outs = {}
        for w in (1, 2):
            res = quickest(runs[w])
            if "error" in res:
                print(f"scale {n}, {w} workers: {res['error']}")
                continue
            outs[w] = res.pop("clusters", None)
            scale.append({"docs": n, "workers": w, **res})
        if len(outs) == 2:
            scale[-1]["same_clusters_as_1_worker"] = outs[1] == outs[2]
    STEPS.close()
    if scale:
        print(
            f"\n{'docs':>10}{'workers':>8}{'seconds':>10}{'docs/s':>10}{'peak RSS MB':>13}{'KB/doc':>9}"
            f"{'oversized buckets':>19}{'2w/1w':>7}  {'all runs: seconds (CPU stolen by the host)' if args.scale_repeat > 1 else ''}"
        )
        for r in scale:
            one_w = next((x for x in scale if x["docs"] == r["docs"] and x["workers"] == 1), None)
            ratio = f"{one_w['seconds'] / r['seconds']:.2f}x" if r["workers"] == 2 and one_w else ""
            print(
                f"{r['docs']:>10}{r['workers']:>8}{r['seconds']:>10.1f}{r['docs'] / r['seconds']:>10.0f}"
                f"{r['peak_rss_mb']:>13.0f}{1024 * r['peak_rss_mb'] / r['docs']:>9.2f}{r['oversized_buckets']:>19}"
                f"{ratio:>7}  {runs_text(r) if len(r['runs_seconds']) > 1 else ''}"
            )
        print(
            "peak RSS: the dedupe process; each of the two workers peaked at up to "
            f"{max(r['worker_peak_rss_mb'] for r in scale if r['workers'] == 2):.0f} MB more"
            if any(r["workers"] == 2 for r in scale)
            else ""
        )
        same = [r["same_clusters_as_1_worker"] for r in scale if "same_clusters_as_1_worker" in r]
        if same:
            print(
                f"two workers' clusters {'EQUAL' if all(same) else 'DIFFER from'} one worker's at every size"
            )
    with_passages = passages_scale([int(x) for x in args.passages_scale.split(",") if x], args.workdir)
    if args.json:
        args.json.write_text(
            json.dumps({"corpora": corpora, "scale": scale, "passages_scale": with_passages}, indent=2)
        )


def warm_up(workdir: Path) -> None:
    """One untimed default scan (two workers, shared passages on) of a small corpus first, so that
    every kernel any run uses is compiled and in numba's disk cache: after an install, or after a
    change to ``dedupe/kernels.py``, the first run compiles them (tens of seconds), and the run
    that happened to be first would be timed with it."""
    t0 = time.perf_counter()
    res = default_scan(make_corpus(workdir / "news-2000.jsonl", 2000), workdir / "out-warm-up.json")
    print(
        f"warm-up (kernels compiled and cached, not timed): {time.perf_counter() - t0:.1f} s"
        + (f", failed: {res['error']}" if "error" in res else "")
    )


def default_scan(corpus: Path, out: Path) -> dict:
    """dedupe's default scan (passages on), two workers, in a child process."""
    return spawn(
        "--run", "dedupe", "--corpus", str(corpus), "--workers", "2", "--passages", "--out", str(out)
    )


def runs_text(r: dict) -> str:
    """Every run's seconds, each with the CPU seconds the host took from the machine meanwhile."""
    return " ".join(
        f"{x:.1f}" + (f" ({st:.1f})" if st is not None else "")
        for x, st in zip(r["runs_seconds"], r["runs_stolen_seconds"])
    )


def passages_scale(sizes: list[int], workdir: Path) -> list[dict]:
    """The default scan (shared passages on: texts and passage fingerprints kept, seeds grouped),
    two workers, at each size: time, peak RSS, and what the passage stage found or why it did not run."""
    global STEPS
    STEPS = Steps(len(sizes))
    runs = []
    for n in sizes:
        res = default_scan(make_corpus(workdir / f"news-{n}.jsonl", n), workdir / f"out-{n}-passages.json")
        res.pop("clusters", None)
        runs.append({"docs": n, "workers": 2, **res})
    STEPS.close()
    if runs:
        print(
            f"\nwith shared passages (the default), two workers:\n{'docs':>10}{'seconds':>10}{'peak RSS MB':>13}"
            f"{'KB/doc':>9}{'passages s':>12}  passage stage"
        )
        for r in runs:
            if "error" in r:
                print(f"{r['docs']:>10}  {r['error']}")
                continue
            print(
                f"{r['docs']:>10}{r['seconds']:>10.1f}{r['peak_rss_mb']:>13.0f}{1024 * r['peak_rss_mb'] / r['docs']:>9.2f}"
                f"{r['stages'].get('passages', 0):>12.1f}  {r['passages'][:90]}"
            )
    return runs


if __name__ == "__main__":
    main()
