"""The Detector: the pipeline's stages, in order, over one batch of documents.

::

    fingerprint   (map)      record -> parsed document -> shingle hashes -> MinHash signature, set
                             digest, figures; words and their spans for passages
    intake        documents with unique ids (first read wins), in id order + skipped records
    identical     (group-by) documents with the same shingle set
    lsh           (group-by) band keys -> candidate pairs
    verify        candidate pair -> PairScore (exact Jaccard, containment both ways)
    passages      (group-by) shared seed n-grams (stars when widely shared) -> alignments ->
                             passage groups (reuse, quotation, template, boilerplate), reuse clusters
    evidence      pairs sharing passages -> candidates too; aligned verdicts, templates rejected
    cluster       accepted pairs -> union-find -> stars -> clusters, each member scored against
                             the document it matched and typed against the source

The fingerprint stage is a map over batches run by an engine (in process, or on a process
pool): JSON Lines records arrive unparsed and are parsed there, so reading is parallel too.
Everything after it is a group-by and runs here. Nothing reaches back upstream, and texts are
kept only when a later stage reads them (an index; the passage stage reads only the texts of the
passages it reports, so a text from a JSON Lines file is located instead, and read again from
its line then); otherwise the map stage hands on what the verify stage needs from a text (its
figures) and the text is dropped.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xxhash

from . import libcache
from .cluster import Explainer, build_clusters
from .config import Config
from .engines import LocalEngine
from .errors import NoDocumentsError
from .grouping import in_sorted, unique_pairs
from .interrupts import checkpoint
from .lsh import containment_pairs, optimal_params, signature_pairs
from .minhash import MinHasher
from .passages import Alignments, PairEvidence, PassageBatch, PassageStore, aligned_pairs, find_passages
from .passages import fingerprints as passage_fingerprints
from .records import Cluster, Document, MemberScore, Skipped
from .result import Documents, Result
from .shingle import RowsBuilder, Shingler, ShingleSets, ShingleSetsBuilder, concat_with_offsets, hash_width
from .sources import Pending, Texts
from .verify import Verifier, different_figures, figure_hashes, figure_hashes_flat, intersection_size

Progress = Callable[[str, int, int], None]
InputItem = Document | Skipped | Pending | str | tuple[str, str]


@dataclass
class FingerprintBatch:
    """What the map stage returns for one batch of texts, in the batch's order."""

    sets: list[np.ndarray]
    signatures: np.ndarray
    passages: PassageBatch | None
    flat: tuple[np.ndarray, np.ndarray] | None = None  # the sets concatenated, and their offsets


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
        pcfg = self.config.passages
        words = shingler.ascii_words(texts) if pcfg.enabled else None  # cut once, for both
        flat, offsets = shingler.hashes_batch(texts, words)
        bounds = offsets.tolist()
        sets = [flat[a:b] for a, b in zip(bounds, bounds[1:])]
        fps = passage_fingerprints(texts, shingler, pcfg, words) if pcfg.enabled else None
        return FingerprintBatch(sets, hasher.signatures_flat(flat, offsets), fps, (flat, offsets))


def too_short_note(cfg: Config) -> str:
    """The note on a document with no shingle at all."""
    return f"shorter than one shingle ({cfg.shingle.size} {cfg.shingle.kind}s): never matched"


@dataclass
class MappedBatch:
    """What the map stage returns for one batch of input items.

    ``skipped`` holds the records the readers could not make a document of. The other fields
    hold one row per document, in input order: ``ids`` ... ``reasons`` (why intake refuses its
    text, or None) for every document; the fingerprints, set digests, figures (when
    ``verify.distinct_figures``) and texts (when kept) only for those whose reason is None.
    Shingle sets and figures travel concatenated (``flat[offsets[k]:offsets[k + 1]]``): one array
    pickles much faster than a thousand. When the mapper locates texts, a text read from a JSON
    Lines file is None in ``texts``, and ``text_paths``, ``text_spans`` and ``text_digests`` say
    where it is (see :class:`dedupe.sources.Texts`)."""

    skipped: list[Skipped]
    ids: list[str]
    sources: list[str]
    chars: list[int]
    dates: list[str | None]
    notes: list[tuple[str, ...]]
    reasons: list[str | None]
    flat: np.ndarray
    offsets: np.ndarray
    signatures: np.ndarray
    digests: list[bytes]
    figures: tuple[np.ndarray, np.ndarray] | None
    passages: PassageBatch | None
    texts: list[str | None] | None
    text_paths: list[str | None] | None = None
    text_spans: np.ndarray | None = None
    text_digests: np.ndarray | None = None

    def sets(self) -> list[np.ndarray]:
        bounds = self.offsets.tolist()
        return [self.flat[a:b] for a, b in zip(bounds, bounds[1:])]

    def figure_sets(self) -> list[np.ndarray] | None:
        if self.figures is None:
            return None
        flat, offsets = self.figures
        bounds = offsets.tolist()
        return [flat[a:b] for a, b in zip(bounds, bounds[1:])]


class ItemMapper:
    """The map stage over input items: parse (:class:`Pending` JSON Lines), check each text
    (intake's rules that need only the text), fingerprint. Picklable (config only).

    With ``keep_texts`` the texts come back too; with ``locate_texts`` as well, a text read from
    a JSON Lines file comes back as where it is instead (it is read again when needed)."""

    def __init__(
        self,
        config: Config,
        keep_texts: bool,
        fingerprinter: Fingerprinter | None = None,
        locate_texts: bool = False,
    ) -> None:
        self.config, self.keep_texts, self.locate_texts = config, keep_texts, locate_texts
        self.fingerprinter = fingerprinter or Fingerprinter(config)

    def prepare(self) -> None:
        self.fingerprinter.prepare()
        figure_hashes(["warm up 1"])

    def __call__(self, items: list[Document | Skipped | Pending]) -> MappedBatch:
        cfg = self.config
        max_chars = cfg.input.max_chars
        skipped: list[Skipped] = []
        docs: list[Document] = []
        # per document, when texts are located: path, byte range and hash of its line
        where: list[tuple[str | None, int, int, int]] | None = [] if self.locate_texts else None
        nowhere = (None, 0, 0, 0)
        for item in items:
            if isinstance(item, Document):
                docs.append(item)
                if where is not None:
                    where.append(nowhere)
            elif isinstance(item, Pending) and where is None:
                for record in item.parse(cfg.input):
                    (docs if isinstance(record, Document) else skipped).append(record)  # type: ignore[arg-type]
            elif isinstance(item, Pending):
                path = item.span[0] if item.span is not None else None
                for record, at in item.located(cfg.input):
                    if isinstance(record, Document):
                        docs.append(record)
                        where.append(nowhere if at is None else (path, *at))
                    else:
                        skipped.append(record)
            else:
                skipped.append(item)
        reasons = [Intake.text_reason(d.text, max_chars) for d in docs]
        texts = [d.text for d, r in zip(docs, reasons) if r is None]
        fb = self.fingerprinter(texts)
        if fb.flat is not None:  # made concatenated: no copy
            flat, offsets = fb.flat
        else:
            flat, offsets = concat_with_offsets(
                fb.sets, np.uint32 if hash_width(cfg.minhash.scheme) == 32 else np.uint64
            )
        bounds = offsets.tolist()
        digests = [xxhash.xxh3_128_digest(flat[a:b]) if b > a else b"" for a, b in zip(bounds, bounds[1:])]
        figures = figure_hashes_flat(texts) if cfg.verify.distinct_figures else None
        kept: list[str | None] | None = None
        paths: list[str | None] | None = None
        spans = text_digests = None
        if self.keep_texts and where is not None:
            located = [w for w, r in zip(where, reasons) if r is None]
            paths = [w[0] for w in located]
            spans = np.array([w[1:3] for w in located], dtype=np.int64).reshape(-1, 2)
            text_digests = np.array([w[3] for w in located], dtype=np.uint64)
            kept = [None if p is not None else t for t, p in zip(texts, paths)]
        elif self.keep_texts:
            kept = list(texts)
        return MappedBatch(
            skipped,
            [d.id for d in docs],
            [d.source for d in docs],
            [len(d.text) for d in docs],
            [d.meta.get("date") for d in docs],
            [tuple(d.meta.get("notes", ())) for d in docs],
            reasons,
            flat,
            offsets,
            fb.signatures,
            digests,
            figures,
            fb.passages,
            kept,
            paths,
            spans,
            text_digests,
        )


class Intake:
    """Admits documents: unique, non-empty ids and non-blank text within ``max_chars``; everything
    else becomes a skipped record.

    A plain string becomes a document whose id is its position; a ``(id, text)`` tuple, a document.
    When two documents share an id, the first one read is kept and the later ones are skipped
    with a reason naming the first one's source. Documents are kept in arrival order and sorted
    by id afterwards.
    """

    def __init__(self, max_chars: int | None = None) -> None:
        self.max_chars = max_chars
        self.documents: list[Document] = []
        self.skipped: list[Skipped] = []
        self._first: dict[str, str] = {}  # id -> source of the document kept
        self._position = 0

    def item(self, item: InputItem) -> Document | Skipped | Pending:
        """The input item as a record: strings and tuples become documents (ids by position)."""
        pos = self._position
        self._position += 1
        if isinstance(item, str):
            return Document(id=str(pos), text=item, source=f"item {pos}")
        if isinstance(item, tuple) and not isinstance(item, Pending):
            return Document(id=str(item[0]), text=item[1], source=f"item {pos}")
        return item

    def admit(self, doc_id: str, source: str, reason: str | None) -> bool:
        """Decide on one document, given why its text is refused (None: it is not): True when it
        is admitted, else its skipped record is kept."""
        if doc_id in self._first:
            reason = f"duplicate id (first read from {self._first[doc_id]})"
        if reason is None:
            self._first[doc_id] = source
            return True
        self.skipped.append(Skipped(source, reason, doc_id))
        return False

    def admit_all(self, ids: list[str], sources: list[str], reasons: list[str | None]) -> list[int]:
        """:meth:`admit` for each document in order; returns the positions of those admitted."""
        first = self._first
        if not any(reasons) and first.keys().isdisjoint(ids) and len(set(ids)) == len(ids):
            first.update(zip(ids, sources))  # the common case, at C speed
            return list(range(len(ids)))
        return [k for k, args in enumerate(zip(ids, sources, reasons)) if self.admit(*args)]

    def add(self, item: InputItem) -> Document | None:
        """The document admitted for ``item`` (kept in ``documents``), or None when it was skipped."""
        record = self.item(item)
        if isinstance(record, Pending):
            raise TypeError("Intake.add takes parsed records (read_sources(..., parse=True))")
        if isinstance(record, Skipped):
            self.skipped.append(record)
            return None
        assert isinstance(record, Document)
        if self.admit(record.id, record.source, self.text_reason(record.text, self.max_chars)):
            self.documents.append(record)
            return record
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
    """Documents with their map-stage output, one row each, in id order: what every later stage
    reads. ``texts`` is None when no later stage needs them (see :meth:`Detector.fingerprint`);
    it may read some of them again from their files when asked (:class:`dedupe.sources.Texts`)."""

    ids: list[str]
    sources: list[str]
    chars: list[int]
    dates: list[str | None]
    notes: list[tuple[str, ...]]
    sets: ShingleSets
    signatures: np.ndarray
    digests: list[bytes]
    figures: ShingleSets | None
    passages: PassageStore | None
    texts: Sequence[str] | None
    skipped: list[Skipped] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    _ROWS = ("ids", "sources", "chars", "dates", "notes", "digests", "figures", "texts")

    def __len__(self) -> int:
        return len(self.ids)

    def document(self, i: int) -> Document:
        """Row ``i`` as a :class:`Document` (its text must have been kept)."""
        assert self.texts is not None, "texts were not kept"
        meta: dict[str, Any] = {}
        if self.dates[i]:
            meta["date"] = self.dates[i]
        if self.notes[i]:
            meta["notes"] = list(self.notes[i])
        return Document(self.ids[i], self.texts[i], self.sources[i], meta)

    @property
    def documents(self) -> list[Document]:
        return [self.document(i) for i in range(len(self))]

    def take(self, rows: list[int]) -> Fingerprints:
        """These rows, in this order."""

        def column(values: Any) -> Any:
            if values is None:
                return None
            return (
                values.take(rows) if isinstance(values, (Texts, ShingleSets)) else [values[k] for k in rows]
            )

        taken = {name: column(getattr(self, name)) for name in self._ROWS}
        return Fingerprints(
            **taken,
            passages=None if self.passages is None else self.passages.take(rows),
            sets=self.sets.take(rows),
            signatures=self.signatures[np.array(rows, dtype=np.int64)],
            skipped=self.skipped,
            seconds=self.seconds,
        )

    def sorted(self) -> Fingerprints:
        """The same documents in id order (the result never depends on the order of the input)."""
        ids = self.ids
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return self if order == list(range(len(ids))) else self.take(order)

    def __add__(self, other: Fingerprints) -> Fingerprints:
        """Both sets of documents, in id order (ids must not repeat); texts, figures and passage
        fingerprints are kept when both have them."""
        joined = {
            name: None
            if getattr(self, name) is None or getattr(other, name) is None
            else getattr(self, name) + getattr(other, name)
            for name in self._ROWS
        }
        return Fingerprints(
            **joined,
            passages=None
            if self.passages is None or other.passages is None
            else self.passages + other.passages,
            sets=self.sets + other.sets,
            signatures=np.concatenate([self.signatures, other.signatures]),
            skipped=self.skipped + other.skipped,
            seconds=self.seconds,  # the same timings: the stages that follow add theirs
        ).sorted()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: the pipeline makes millions of small objects (ids,
    scores, records) that hold no cycles, and each full collection walks all of them (9 s of a
    1M-document run). Reference counting still frees everything; collection resumes after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        # the inputs' size in bytes, when known: the fingerprint stage's progress counts against it
        self.input_bytes: int | None = None
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

    def s_curve(self) -> dict[str, float]:
        """The bands' S-curve around ``lsh.threshold``: datasketch's false positive and false negative
        probabilities (areas) for the bands and rows in use, and the Jaccard at which a pair
        becomes a candidate half the time. In every run's stats (``lsh_s_curve``)."""
        fp, fn = libcache.s_curve_errors(self.config.lsh.threshold, self.bands, self.rows)
        midpoint = (1.0 - 0.5 ** (1.0 / self.bands)) ** (1.0 / self.rows)
        return {
            "false_positive_probability": round(fp, 6),
            "false_negative_probability": round(fn, 6),
            "half_found_at_jaccard": round(midpoint, 4),
        }

    def params(self) -> dict[str, Any]:
        """The effective config, with the bands and rows in use: a valid config that reproduces the run."""
        params = self.config.to_dict()
        params["lsh"]["bands"], params["lsh"]["rows"] = self.bands, self.rows
        return params

    def _tick(self, stage: str, done: int, total: int) -> None:
        checkpoint()
        if self.progress:
            self.progress(stage, done, total)

    def run(self, items: Iterable[InputItem]) -> Result:
        """The whole pipeline over one batch: fingerprint, identical sets, LSH, verify, cluster, passages."""
        with gc_paused():
            return self._run(items)

    def _run(self, items: Iterable[InputItem]) -> Result:
        fp = self.fingerprint(items)
        timings = fp.seconds
        t0 = time.perf_counter()
        verifier = self.verifier(fp)
        accepted: list[tuple[int, int]] = []
        leaders, identical_groups = self._identical(fp)
        for group in identical_groups:
            for other in group[1:]:
                verifier.score(group[0], other)
                accepted.append((group[0], other))
        timings["identical"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        local_pairs, cstats = signature_pairs(
            fp.signatures,
            self.bands,
            self.rows,
            self.config.lsh.max_bucket_size,
            self.engine.workers,
            among=None if len(leaders) == len(fp) else leaders,
        )
        pairs = leaders[local_pairs] if len(local_pairs) else local_pairs
        timings["lsh"] = time.perf_counter() - t0
        extra_stats: dict[str, Any] = {}
        if self.containment_candidates:
            t0 = time.perf_counter()
            local_pairs, kstats = containment_pairs(
                fp.signatures,
                fp.sets.sizes(),
                self.config.verify.containment_threshold,
                self.config.lsh.max_bucket_size,
                self.engine.workers,
                among=leaders,
                min_size=self.config.verify.min_containment_shingles,
            )
            if len(local_pairs):
                pairs = unique_pairs(np.concatenate([pairs.reshape(-1, 2), leaders[local_pairs]]), len(fp))
            extra_stats["containment_candidate_pairs"] = kstats.candidate_pairs
            timings["containment_lsh"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        accepted_now, rejected = self.verify(verifier, pairs)
        accepted += accepted_now
        timings["verify"] = time.perf_counter() - t0

        stats = {
            "lsh_s_curve": self.s_curve(),
            "identical_groups": len(identical_groups),
            "lsh_buckets": cstats.buckets,
            "largest_bucket": cstats.largest_bucket,
            "oversized_buckets": cstats.oversized_buckets,
            "candidate_pairs": cstats.candidate_pairs,
            **extra_stats,
            "rejected_pairs": rejected,
        }
        return self.conclude(fp, verifier, accepted, stats)

    @property
    def containment_candidates(self) -> bool:
        """Whether the LSH stage also looks for pairs of very different lengths: the containment
        rule is in use and the passage stage's seeds are not there to find them."""
        cfg = self.config
        return (
            cfg.lsh.containment_candidates and not cfg.passages.enabled and "containment" in cfg.verify.rules
        )

    def verifier(self, fp: Fingerprints) -> Verifier:
        return Verifier(fp.ids, fp.sets, fp.signatures, self.config.verify, fp.figures)

    def verify(self, verifier: Verifier, pairs: np.ndarray) -> tuple[list[tuple[int, int]], int]:
        """The verify stage over ``m x 2`` candidate pairs (in blocks, on ``run.workers`` threads):
        the accepted ones, in the pairs' order, and how many were rejected."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        accepted: list[tuple[int, int]] = []
        block = 500_000
        for lo in range(0, len(pairs), block):
            self._tick("verify", lo, len(pairs))
            part = pairs[lo : lo + block]
            accepted.extend(map(tuple, part[verifier.screen(part, self.engine.workers)].tolist()))
        if len(pairs):
            self._tick("verify", len(pairs), len(pairs))  # done: the bar ends full, its clock stops
        return accepted, len(pairs) - len(accepted)  # type: ignore[return-value]

    def conclude(
        self,
        fp: Fingerprints,
        verifier: Verifier,
        accepted: list[tuple[int, int]],
        stats: dict[str, Any],
        reported: np.ndarray | None = None,
        frequent: np.ndarray | None = None,
    ) -> Result:
        """Find shared passages, weigh their evidence, cluster and assemble the result.

        The passage stage comes first: the pairs it aligns are candidates too, its alignments can
        accept a pair the sets reject (``aligned``) and reject one whose shared text states other
        figures (a template), and they explain each cluster member against its source
        (:meth:`dedupe.verify.Verifier.evidence`, :class:`dedupe.cluster.Explainer`).

        ``reported`` (a bool per document), when given, limits the result's documents to those it
        marks, and the passage stage to pairs holding one of them (an index query: the indexed
        documents are there as evidence, not as input). ``frequent`` lists seed n-grams to pair as stars (see
        :func:`dedupe.passages.find_passages`).
        """
        timings = fp.seconds
        passages, reuse, passage_stats = [], [], {}
        explain = None
        if fp.passages is not None:
            t0 = time.perf_counter()
            self._tick("passages", 0, 1000)
            assert fp.texts is not None, "the passage stage reads the texts"
            passages, reuse, passage_stats, evidence = find_passages(
                fp.passages,
                fp.ids,
                fp.texts,
                self.config.passages,
                reported,
                frequent,
                self.engine,
                lambda done, total: self._tick("passages", done, total),
            )
            timings["passages"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            evidence, covered, template = self._evidence_on_accepted(fp, accepted, evidence)
            chars = fp.chars
            accepted, verdicts = verifier.evidence(
                accepted, evidence.pairs, covered, template, chars, self.engine.workers
            )
            if reported is not None:  # an index query lists every copy, as its LSH look-up does
                accepted = self._with_copies(fp, verifier, accepted, reported)
            stats = {**stats, **verdicts}
            store = PassageStore.of(fp.passages, self.config.passages.ngram)
            explain = Explainer(evidence, store, chars, self.config.passages)
            timings["evidence"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        clusters = self.cluster(fp, verifier, accepted, explain)
        timings["cluster"] = time.perf_counter() - t0

        too_short = (too_short_note(self.config),)
        columns = fp.ids, fp.sources, fp.chars, fp.sets.sizes().tolist(), fp.notes
        if reported is None:
            ids, sources, chars, shingles, notes = (list(column) for column in columns)
        else:
            rows = np.flatnonzero(reported).tolist()
            ids, sources, chars, shingles, notes = ([column[i] for i in rows] for column in columns)
        notes = [nt if n else nt + too_short for nt, n in zip(notes, shingles)]
        documents = Documents(ids, sources, chars, shingles, notes)
        stats = {
            "too_short": shingles.count(0),
            **stats,
            **passage_stats,
            "seconds": {k: round(v, 4) for k, v in timings.items()},
        }
        return Result(
            params=self.params(),
            documents=documents,
            skipped=fp.skipped,
            clusters=clusters,
            pairs=verifier.accepted_scores(accepted),
            passages=passages,
            reuse_clusters=reuse,
            stats=stats,
        )

    def _evidence_on_accepted(
        self, fp: Fingerprints, accepted: list[tuple[int, int]], evidence: PairEvidence
    ) -> tuple[PairEvidence, np.ndarray, np.ndarray]:
        """The passage stage's evidence, checked pair by pair: the evidence, and for each of its
        pairs the share of each side its passages reproduce and whether the pair is a template.

        The stage aligns a pair from the seeds it shares that are rare in the corpus at hand (a
        frequent seed is paired through a hub document), so what it sees of a pair depends on the
        other documents: a templated notice whose other figures stand in wording many notices
        share can look like a reprint in a large corpus and like a template alone. Each pair the
        verdicts may accept is therefore aligned again from the anchors the two share
        (:func:`dedupe.passages.aligned_pairs`): the pairs the shingle sets accepted, with those
        the stage did not align, and the pairs whose passages reproduce
        ``verify.aligned_threshold`` of the shorter text, unless no alignment could make them a
        template (identical sets; every figure of one text stands in the other, as in a trimmed
        reprint) or the stage's alignments already do. A pair is a template when either
        alignment shows it: a template the rest of the corpus hides from the stage is still seen.
        The shares stay the stage's."""
        chars = fp.chars
        if fp.passages is None:
            return evidence, evidence.covered(chars.__getitem__), evidence.template
        n = max(len(fp), 1)
        digests, figures = fp.digests, fp.figures

        def may_differ(i: int, j: int) -> bool:
            # identical shingle sets are accepted whatever their alignments say, and a text whose
            # figures all stand in the other (the same, or a trimmed reprint's) states no other
            # figure: neither is a template pair, neither needs aligning again
            if digests[i] and digests[i] == digests[j]:
                return False
            if figures is None:
                return True
            fa, fb = figures[i], figures[j]
            return intersection_size(fa, fb) < min(len(fa), len(fb))

        known = evidence.pairs[:, 0] * n + evidence.pairs[:, 1]  # sorted: pair order
        covered = evidence.covered(chars.__getitem__)
        # a pair the stage's alignments make a template stays one: only the others are checked
        flagged = known[evidence.template]  # sorted
        keys = np.array(
            [min(i, j) * n + max(i, j) for i, j in accepted if i != j and may_differ(i, j)], dtype=np.int64
        )
        keys = keys[~in_sorted(keys, flagged)].tolist()
        vcfg = self.config.verify
        if len(known) and "aligned" in vcfg.rules:
            # the pairs the aligned rule could accept: enough of the shorter text reproduced, not a
            # template, the shorter text long enough, and the figures rule not against them
            a, b = evidence.pairs[:, 0], evidence.pairs[:, 1]
            sizes = np.asarray(chars, dtype=np.int64)
            first_shorter = sizes[a] <= sizes[b]
            shorter = np.where(first_shorter, covered[:, 0], covered[:, 1])
            shingles = fp.sets.sizes()
            small = np.where(first_shorter, shingles[a], shingles[b])
            near = (
                (shorter >= vcfg.aligned_threshold)
                & ~evidence.template
                & (small >= vcfg.min_containment_shingles)
            )
            for k in np.flatnonzero(near).tolist():
                i, j = a[k], b[k]
                near[k] = may_differ(i, j) and not (
                    vcfg.distinct_figures
                    and figures is not None
                    and different_figures(figures[i], figures[j])
                )
            keys.extend(known[near].tolist())
        redo = np.unique(np.array(keys, dtype=np.int64))
        if not len(redo):
            return evidence, covered, evidence.template
        store = PassageStore.of(fp.passages, self.config.passages.ngram)
        own = PairEvidence.of(
            aligned_pairs(store, np.column_stack(np.divmod(redo, n)), self.config.passages), store
        )
        own_keys = own.pairs[:, 0] * n + own.pairs[:, 1]
        # the stage's pairs checked again: a template if either alignment says so. Their shares
        # stay the stage's: anchors (seeds found once in each text) see less of a text that
        # repeats itself than the stage's seeds do, so their shares say less
        template = evidence.template.copy()
        if len(known):
            checked = np.flatnonzero(in_sorted(known, redo))
            at = np.searchsorted(own_keys, known[checked])
            found = at < len(own_keys)
            found[found] = own_keys[at[found]] == known[checked[found]]
            template[checked[found]] |= own.template[at[found]]
        # pairs the stage did not align join the evidence with their own alignments
        new = ~in_sorted(own_keys, np.sort(known)) if len(known) else np.ones(len(own_keys), dtype=bool)
        if not new.any():
            return evidence, covered, template
        own_cols = own.alignments.cols
        extra = own.alignments.take(
            np.flatnonzero(in_sorted(own_cols[:, 0] * n + own_cols[:, 3], own_keys[new]))
        )
        joined = Alignments.concat([evidence.alignments, extra])
        joined = joined.take(np.lexsort((joined.cols[:, 3], joined.cols[:, 0])))  # pair order
        merged = PairEvidence.of(joined, store)
        # the merged evidence's rows: the stage's pairs keep what was checked above
        mk = merged.pairs[:, 0] * n + merged.pairs[:, 1]
        merged_covered = merged.covered(chars.__getitem__)
        merged_template = merged.template.copy()
        if len(known):
            at = np.searchsorted(mk, known)
            merged_covered[at] = covered
            merged_template[at] = template
        return merged, merged_covered, merged_template

    @staticmethod
    def _with_copies(
        fp: Fingerprints, verifier: Verifier, accepted: list[tuple[int, int]], reported: np.ndarray
    ) -> list[tuple[int, int]]:
        """``accepted`` with each pair repeated for every identical copy of either side (the same
        shingle set, so the same scores), where the pair holds a reported document."""
        copies: dict[bytes, list[int]] = {}
        for i, d in enumerate(fp.digests):
            if d:
                copies.setdefault(d, []).append(i)
        out = set(accepted)
        for i, j in accepted:
            for x in copies.get(fp.digests[i], [i]):
                for y in copies.get(fp.digests[j], [j]):
                    if x != y and (reported[x] or reported[y]) and verifier.passes(x, y):
                        out.add((x, y) if x < y else (y, x))
        return sorted(out)

    def cluster(
        self,
        fp: Fingerprints,
        verifier: Verifier,
        accepted: list[tuple[int, int]],
        explain: Explainer | None = None,
    ) -> list[Cluster]:
        cfg = self.config.cluster
        size = self.config.shingle.size

        def member(m: int, matched: int, source: int) -> MemberScore:
            score = verifier.member_score(m, matched, source, size)
            return score if explain is None else explain(score, m, source)

        return build_clusters(
            len(fp),
            accepted,
            fp.ids,
            fp.chars,
            fp.dates,
            cfg.representative,
            member,
            verifier.jaccard,
            fp.signatures,
            verifier.passes if cfg.split_chains else None,
        )

    def fingerprint(
        self, items: Iterable[InputItem], allow_empty: bool = False, keep_texts: bool = False
    ) -> Fingerprints:
        """The map stage and intake: documents (unique ids, in id order) with their fingerprints.

        Texts are kept when ``keep_texts`` or when the passage stage will read them; for the
        passage stage alone, the texts of JSON Lines files are not held but located, and read
        again when a passage is reported (:class:`dedupe.sources.Texts`). Raises
        :class:`NoDocumentsError` when no input item is a usable document, unless ``allow_empty``.
        """
        timings: dict[str, float] = {"read": 0.0}
        taken = Intake(self.config.input.max_chars)
        size = self.config.run.batch_size
        locate_texts = not keep_texts and self.config.passages.enabled
        keep_texts = keep_texts or self.config.passages.enabled

        def batches() -> Iterator[list[Document | Skipped | Pending]]:
            # records stream to the map stage as they are read, so reading overlaps the workers
            batch: list[Document | Skipped | Pending] = []
            count = 0
            t = time.perf_counter()
            for item in items:
                record = taken.item(item)
                batch.append(record)
                count += record.lines if isinstance(record, Pending) else 1
                if count >= size:
                    timings["read"] += time.perf_counter() - t
                    yield batch
                    t = time.perf_counter()
                    batch, count = [], 0
            timings["read"] += time.perf_counter() - t
            if batch:
                yield batch

        t0 = time.perf_counter()
        ids: list[str] = []
        sources: list[str] = []
        chars: list[int] = []
        dates: list[str | None] = []
        notes: list[tuple[str, ...]] = []
        hashes = np.uint32 if hash_width(self.config.minhash.scheme) == 32 else np.uint64  # and signatures
        sets = ShingleSetsBuilder(hashes)
        signatures = RowsBuilder(hashes, self.config.minhash.num_perm)
        digests: list[bytes] = []
        figures = ShingleSetsBuilder(np.uint64) if self.config.verify.distinct_figures else None
        passages: list[tuple[PassageBatch, list[int]]] | None = [] if self.config.passages.enabled else None
        texts: list[str | None] | None = [] if keep_texts else None
        text_paths: list[str | None] = []
        text_spans: list[np.ndarray] = []
        text_digests: list[np.ndarray] = []
        mapper = ItemMapper(self.config, keep_texts, self.fingerprinter, locate_texts)
        done_chars = 0
        for mb in self.engine.map(mapper, batches()):
            taken.skipped.extend(mb.skipped)
            admitted = taken.admit_all(mb.ids, mb.sources, mb.reasons)
            whole = len(admitted) == len(mb.ids)
            if whole:  # no document refused: rows are documents, all of them
                rows = admitted
                for column, values in ((ids, mb.ids), (sources, mb.sources), (chars, mb.chars)):
                    column.extend(values)
                dates.extend(mb.dates)
                notes.extend(mb.notes)
            else:
                row_of = np.cumsum([r is None for r in mb.reasons]) - 1  # document -> fingerprint row
                rows = [int(row_of[k]) for k in admitted]
                ids.extend(mb.ids[k] for k in admitted)
                sources.extend(mb.sources[k] for k in admitted)
                chars.extend(mb.chars[k] for k in admitted)
                dates.extend(mb.dates[k] for k in admitted)
                notes.extend(mb.notes[k] for k in admitted)
            sets.add(mb.flat, mb.offsets, rows)
            signatures.add(mb.signatures if whole else mb.signatures[rows])
            digests.extend(mb.digests if whole else (mb.digests[k] for k in rows))
            if figures is not None and mb.figures is not None:
                figures.add(*mb.figures, rows)
            if passages is not None and mb.passages is not None:
                passages.append((mb.passages, rows))
            if texts is not None and mb.texts is not None:
                texts.extend(mb.texts[k] for k in rows)
            if locate_texts:  # the mapper was asked to: every batch says where its texts are
                assert mb.text_paths is not None and mb.text_spans is not None and mb.text_digests is not None
                text_paths.extend(mb.text_paths[k] for k in rows)
                text_spans.append(mb.text_spans[rows])
                text_digests.append(mb.text_digests[rows])
            if self.input_bytes:  # the characters fingerprinted of the inputs' bytes: a total, a time left
                done_chars += sum(mb.chars)
                self._tick("fingerprint (MB)", min(done_chars, self.input_bytes), self.input_bytes)
            else:
                self._tick("fingerprint", len(ids), 0)
        if self.input_bytes:
            self._tick("fingerprint (MB)", self.input_bytes, self.input_bytes)
        timings["fingerprint"] = time.perf_counter() - t0 - timings["read"]
        skipped = taken.sorted_skipped()
        if not ids and not allow_empty:
            first = f", first: {skipped[0].source}: {skipped[0].reason})" if skipped else ")"
            raise NoDocumentsError(f"no documents to process ({len(skipped)} inputs skipped{first}")
        kept: Sequence[str] | None = texts  # type: ignore[assignment]
        if texts is not None and locate_texts:
            kept = Texts(
                texts,
                text_paths,
                np.concatenate(text_spans) if text_spans else np.empty((0, 2), dtype=np.int64),
                np.concatenate(text_digests) if text_digests else np.empty(0, dtype=np.uint64),
                chars,
                self.config.input,
            )
        return Fingerprints(
            ids,
            sources,
            chars,
            dates,
            notes,
            sets.finish(),
            signatures.finish(),
            digests,
            None if figures is None else figures.finish(),
            None if passages is None else PassageStore.build(passages, self.config.passages.ngram),
            kept,
            skipped,
            timings,
        ).sorted()

    @staticmethod
    def _identical(fp: Fingerprints) -> tuple[np.ndarray, list[list[int]]]:
        """Group documents with equal non-empty shingle sets (by their digests).

        Returns the indices LSH still has to look at (one per group, and no empty set) and the
        groups of two or more, each led by its smallest index.
        """
        sets, digests = fp.sets, fp.digests
        first: dict[bytes, int] = {}
        repeated: dict[bytes, list[int]] = {}
        for i, d in enumerate(digests):
            if d:
                k = first.setdefault(d, i)
                if k != i:
                    repeated.setdefault(d, [k]).append(i)
        leaders = set(first.values())
        groups = []
        for members in repeated.values():
            # a digest collision between different sets is split back apart by exact comparison
            while members:
                head, rest = members[0], members[1:]
                same = [m for m in rest if np.array_equal(sets[m], sets[head])]
                if same:
                    groups.append([head, *same])
                leaders.add(head)
                taken = set(same)  # a set: 40,000 copies of one text are one pass, not 40,000^2
                members = [m for m in rest if m not in taken]
        return np.array(sorted(leaders), dtype=np.int64), sorted(groups)
