"""The Detector: the pipeline's stages, in order, over one batch of documents.

::

    intake        Document | Skipped | str  ->  documents (unique ids, sorted) + skipped
    fingerprint   (map)      text -> shingle hashes -> MinHash signature; words, spans, seeds for passages
    identical     (group-by) documents with the same shingle set
    lsh           (group-by) band keys -> candidate pairs
    verify        candidate pair -> PairScore (exact Jaccard, containment both ways)
    cluster       accepted pairs -> union-find -> scored clusters
    passages      (group-by) shared seed n-grams -> alignments -> passage groups, reuse clusters

The fingerprint stage is a map over batches run by an engine (in process, or on a process
pool); everything after it is a group-by and runs here. Nothing reaches back upstream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xxhash

from .cluster import build_clusters
from .config import Config
from .engines import LocalEngine
from .errors import NoDocumentsError
from .lsh import band_keys, candidate_pairs, optimal_params
from .minhash import MinHasher
from .passages import PassageFingerprint, find_passages
from .passages import fingerprint as passage_fingerprint
from .records import Cluster, Document, DocumentInfo, Skipped
from .result import Result
from .shingle import Shingler
from .verify import Verifier

Progress = Callable[[str, int, int], None]
InputItem = Document | Skipped | str | tuple[str, str]


@dataclass
class FingerprintBatch:
    """What the map stage returns for one batch of texts, in the batch's order."""

    sets: list[np.ndarray]
    signatures: np.ndarray
    passages: list[PassageFingerprint] | None


# per process: the shingler (with its token-hash cache) and hasher of each config, so that a
# worker keeps them warm across the batches it is sent (a pool pickles the function every time)
_WORKER_STATE: dict[str, tuple[Shingler, MinHasher]] = {}


class Fingerprinter:
    """The map stage: a batch of texts -> shingle sets, signatures and passage fingerprints.

    Picklable (only its config travels), so a process pool can run it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._key = json.dumps(config.to_dict(), sort_keys=True)

    def _state(self) -> tuple[Shingler, MinHasher]:
        state = _WORKER_STATE.get(self._key)
        if state is None:
            mh = self.config.minhash
            state = _WORKER_STATE[self._key] = (
                Shingler(self.config),
                MinHasher(mh.num_perm, mh.seed, mh.scheme),
            )
        return state

    def prepare(self) -> None:
        """Build the shingler and hasher and load the compiled kernels (a tiny batch), so that
        workers forked after this start warm."""
        self(["warm up the compiled kernels"])

    def __call__(self, texts: list[str]) -> FingerprintBatch:
        shingler, hasher = self._state()
        flat, offsets = shingler.hashes_batch(texts)
        bounds = offsets.tolist()
        sets = [flat[a:b] for a, b in zip(bounds, bounds[1:])]
        pcfg = self.config.passages
        fps = [passage_fingerprint(t, shingler, pcfg) for t in texts] if pcfg.enabled else None
        return FingerprintBatch(sets, hasher.signatures_flat(flat, offsets), fps)


def too_short_note(cfg: Config) -> str:
    """The note on a document with no shingle at all."""
    return f"shorter than one shingle ({cfg.shingle.size} {cfg.shingle.kind}s): never matched"


class Intake:
    """Admits input items one at a time: documents with unique, non-empty ids and non-blank text
    within ``max_chars``; everything else becomes a skipped record.

    A plain string becomes a document whose id is its position; a ``(id, text)`` tuple, a document.
    When two documents share an id, the first one read is kept and the later ones are skipped
    with a reason naming the first one's source. Documents are kept in arrival order (the
    pipeline streams them to the map stage as they come) and sorted by id afterwards.
    """

    def __init__(self, max_chars: int | None = None) -> None:
        self.max_chars = max_chars
        self.documents: list[Document] = []
        self.skipped: list[Skipped] = []
        self._first: dict[str, str] = {}  # id -> source of the document kept
        self._position = 0

    def add(self, item: InputItem) -> Document | None:
        """The document admitted for ``item``, or None when it was skipped."""
        pos = self._position
        self._position += 1
        if isinstance(item, Skipped):
            self.skipped.append(item)
            return None
        if isinstance(item, str):
            item = Document(id=str(pos), text=item, source=f"item {pos}")
        elif isinstance(item, tuple):
            item = Document(id=str(item[0]), text=item[1], source=f"item {pos}")
        if item.id in self._first:
            reason: str | None = f"duplicate id (first read from {self._first[item.id]})"
        else:
            reason = self.text_reason(item.text, self.max_chars)
        if reason is None:
            self._first[item.id] = item.source
            self.documents.append(item)
            return item
        self.skipped.append(Skipped(item.source, reason, item.id))
        return None

    @staticmethod
    def text_reason(text: str, max_chars: int | None) -> str | None:
        """Why a text is not admitted (blank, or longer than ``max_chars``), or None."""
        if not text.strip():
            return "empty document (no text)"
        if max_chars is not None and len(text) > max_chars:
            return f"document too large: {len(text):,} characters (input.max_chars is {max_chars:,})"
        return None

    def sorted_skipped(self) -> list[Skipped]:
        return sorted(self.skipped, key=lambda s: (s.source, s.id or ""))


@dataclass
class Fingerprints:
    """Documents with their map-stage output, in id order: what every later stage reads."""

    documents: list[Document]
    sets: list[np.ndarray]
    signatures: np.ndarray
    passages: list[PassageFingerprint] | None
    skipped: list[Skipped] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [d.id for d in self.documents]

    def __len__(self) -> int:
        return len(self.documents)

    def sorted(self) -> Fingerprints:
        """The same documents in id order (the result never depends on the order of the input)."""
        order = sorted(range(len(self.documents)), key=lambda k: self.documents[k].id)
        return Fingerprints(
            [self.documents[k] for k in order],
            [self.sets[k] for k in order],
            self.signatures[np.array(order, dtype=np.int64)],
            None if self.passages is None else [self.passages[k] for k in order],
            self.skipped,
            self.seconds,
        )

    def __add__(self, other: Fingerprints) -> Fingerprints:
        """Both sets of documents, in id order (ids must not repeat)."""
        passages = None
        if self.passages is not None and other.passages is not None:
            passages = self.passages + other.passages
        return Fingerprints(
            self.documents + other.documents,
            self.sets + other.sets,
            np.concatenate([self.signatures, other.signatures]),
            passages,
            self.skipped + other.skipped,
            self.seconds,  # the same timings: the stages that follow add theirs
        ).sorted()


class Detector:
    """Finds near-duplicate clusters in a batch of documents.

    >>> from dedupe import Detector, load_config
    >>> result = Detector(load_config()).run(["some text ...", "some other text ..."])
    """

    def __init__(
        self,
        config: Config | None = None,
        engine: LocalEngine | None = None,
        progress: Progress | None = None,
        fingerprinter: Fingerprinter | None = None,
    ) -> None:
        """``fingerprinter`` replaces the map stage (texts -> FingerprintBatch), e.g. with a reference
        implementation; by default it is :class:`Fingerprinter` for ``config``."""
        self.config = config or Config()
        self.engine = engine or LocalEngine(self.config.run.workers)
        self.progress = progress
        self.fingerprinter = fingerprinter or Fingerprinter(self.config)
        lsh = self.config.lsh
        if lsh.bands is not None and lsh.rows is not None:
            self.bands, self.rows = lsh.bands, lsh.rows
        else:
            self.bands, self.rows = optimal_params(
                lsh.threshold,
                self.config.minhash.num_perm,
                lsh.false_positive_weight,
                lsh.false_negative_weight,
            )

    def params(self) -> dict[str, Any]:
        """The effective config, with the bands and rows in use: a valid config that reproduces the run."""
        params = self.config.to_dict()
        params["lsh"]["bands"], params["lsh"]["rows"] = self.bands, self.rows
        return params

    def _tick(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    def run(self, items: Iterable[InputItem]) -> Result:
        """The whole pipeline over one batch: fingerprint, identical sets, LSH, verify, cluster, passages."""
        fp = self.fingerprint(items)
        timings = fp.seconds
        t0 = time.perf_counter()
        verifier = self.verifier(fp)
        accepted: list[tuple[int, int]] = []
        leaders, identical_groups = self._identical(fp.sets)
        for group in identical_groups:
            for other in group[1:]:
                verifier.score(group[0], other)
                accepted.append((group[0], other))
        timings["identical"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        keys = band_keys(fp.signatures[leaders], self.bands, self.rows)
        local_pairs, cstats = candidate_pairs(keys, self.config.lsh.max_bucket_size)
        pairs = leaders[local_pairs] if len(local_pairs) else local_pairs
        timings["lsh"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        accepted_now, rejected = self.verify(verifier, pairs.tolist())
        accepted += accepted_now
        timings["verify"] = time.perf_counter() - t0

        stats = {
            "identical_groups": len(identical_groups),
            "lsh_buckets": cstats.buckets,
            "largest_bucket": cstats.largest_bucket,
            "oversized_buckets": cstats.oversized_buckets,
            "candidate_pairs": cstats.candidate_pairs,
            "rejected_pairs": rejected,
        }
        return self.conclude(fp, verifier, accepted, stats)

    def verifier(self, fp: Fingerprints) -> Verifier:
        docs = fp.documents
        return Verifier(fp.ids, fp.sets, fp.signatures, lambda i: docs[i].text, self.config.verify)

    def verify(self, verifier: Verifier, pairs: list[list[int]]) -> tuple[list[tuple[int, int]], int]:
        """The verify stage over candidate pairs: the accepted ones, and how many were rejected."""
        accepted, rejected = [], 0
        for n, (i, j) in enumerate(pairs):
            if verifier.passes(i, j):
                accepted.append((i, j))
            else:
                rejected += 1
            if n % 5000 == 0:
                self._tick("verify", n, len(pairs))
        return accepted, rejected

    def conclude(
        self,
        fp: Fingerprints,
        verifier: Verifier,
        accepted: list[tuple[int, int]],
        stats: dict[str, Any],
        reported: np.ndarray | None = None,
        boilerplate: np.ndarray | None = None,
    ) -> Result:
        """Cluster the accepted pairs, find shared passages and assemble the result.

        ``reported`` (a bool per document), when given, limits the result's documents to those it
        marks, and the passage stage to pairs holding one of them (an index query: the indexed
        documents are there as evidence, not as input). ``boilerplate`` lists seed n-grams to ignore (see
        :func:`dedupe.passages.find_passages`).
        """
        timings = fp.seconds
        t0 = time.perf_counter()
        clusters = self.cluster(fp, verifier, accepted)
        timings["cluster"] = time.perf_counter() - t0

        passages, reuse, passage_stats = [], [], {}
        if fp.passages is not None:
            t0 = time.perf_counter()
            self._tick("passages", 0, 1)
            passages, reuse, passage_stats = find_passages(
                fp.passages,
                fp.ids,
                [d.text for d in fp.documents],
                self.config.passages,
                reported,
                boilerplate,
                self.engine,
            )
            timings["passages"] = time.perf_counter() - t0

        cfg = self.config
        infos = []
        for i, (d, s) in enumerate(zip(fp.documents, fp.sets)):
            if reported is not None and not reported[i]:
                continue
            notes = list(d.meta.get("notes", ()))
            if not len(s):
                notes.append(too_short_note(cfg))
            infos.append(DocumentInfo(d.id, d.source, len(d.text), len(s), tuple(notes)))
        stats = {
            "too_short": sum(1 for i in infos if not i.shingles),
            **stats,
            **passage_stats,
            "seconds": {k: round(v, 4) for k, v in timings.items()},
        }
        return Result(
            params=self.params(),
            documents=infos,
            skipped=fp.skipped,
            clusters=clusters,
            pairs=verifier.accepted_scores(accepted),
            passages=passages,
            reuse_clusters=reuse,
            stats=stats,
        )

    def cluster(self, fp: Fingerprints, verifier: Verifier, accepted: list[tuple[int, int]]) -> list[Cluster]:
        cfg = self.config.cluster
        return build_clusters(
            len(fp),
            accepted,
            fp.ids,
            [len(d.text) for d in fp.documents],
            [d.meta.get("date") for d in fp.documents],
            cfg.representative,
            verifier.member_scores,
            fp.signatures,
            verifier.passes if cfg.split_chains else None,
        )

    def fingerprint(self, items: Iterable[InputItem], allow_empty: bool = False) -> Fingerprints:
        """Intake and the map stage: documents (unique ids, in id order) with their fingerprints.

        Raises :class:`NoDocumentsError` when no input item is a usable document, unless ``allow_empty``.
        """
        timings: dict[str, float] = {"read": 0.0}
        taken = Intake(self.config.input.max_chars)
        size = self.config.run.batch_size

        def batches() -> Iterator[list[str]]:
            # documents stream to the map stage as they are read, so reading overlaps the workers
            batch: list[str] = []
            t = time.perf_counter()
            for item in items:
                doc = taken.add(item)
                if doc is not None:
                    batch.append(doc.text)
                    if len(batch) >= size:
                        timings["read"] += time.perf_counter() - t
                        yield batch
                        t = time.perf_counter()
                        batch = []
            timings["read"] += time.perf_counter() - t
            if batch:
                yield batch

        t0 = time.perf_counter()
        sets, signatures, passage_fps = self._fingerprint(batches())
        timings["fingerprint"] = time.perf_counter() - t0 - timings["read"]
        skipped = taken.sorted_skipped()
        if not taken.documents and not allow_empty:
            first = f", first: {skipped[0].source}: {skipped[0].reason})" if skipped else ")"
            raise NoDocumentsError(f"no documents to process ({len(skipped)} inputs skipped{first}")
        return Fingerprints(taken.documents, sets, signatures, passage_fps, skipped, timings).sorted()

    def _fingerprint(
        self, batches: Iterable[list[str]]
    ) -> tuple[list[np.ndarray], np.ndarray, list[PassageFingerprint] | None]:
        sets: list[np.ndarray] = []
        sigs: list[np.ndarray] = []
        fps: list[PassageFingerprint] | None = [] if self.config.passages.enabled else None
        for batch in self.engine.map(self.fingerprinter, batches):
            sets.extend(batch.sets)
            sigs.append(batch.signatures)
            if fps is not None and batch.passages is not None:
                fps.extend(batch.passages)
            self._tick("fingerprint", len(sets), 0)
        num_perm = self.config.minhash.num_perm
        return sets, np.concatenate(sigs) if sigs else np.empty((0, num_perm), dtype=np.uint32), fps

    @staticmethod
    def _identical(sets: list[np.ndarray]) -> tuple[np.ndarray, list[list[int]]]:
        """Group documents with equal non-empty shingle sets.

        Returns the indices LSH still has to look at (one per group, and no empty set) and the
        groups of two or more, each led by its smallest index.
        """
        by_digest: dict[bytes, list[int]] = {}
        for i, s in enumerate(sets):
            if len(s):
                by_digest.setdefault(xxhash.xxh3_128_digest(s.tobytes()), []).append(i)
        groups = []
        leaders = []
        for members in by_digest.values():
            # a digest collision between different sets is split back apart by exact comparison
            while members:
                head, rest = members[0], members[1:]
                same = [m for m in rest if np.array_equal(sets[m], sets[head])]
                if same:
                    groups.append([head, *same])
                leaders.append(head)
                members = [m for m in rest if m not in same]
        return np.array(sorted(leaders), dtype=np.int64), sorted(groups)
