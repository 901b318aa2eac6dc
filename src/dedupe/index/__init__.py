"""A persistent index: check new documents against everything seen before, without re-scanning it.

::

    from dedupe.index import Index
    with Index.open("news.db", create=True) as index:
        index.add(read_sources(["monday/"], index.config.input))
        result = index.query(read_sources(["tuesday/"], index.config.input), add=True)

An index keeps, per document, what the pipeline needs to find it again: its MinHash signature,
its LSH band keys (indexed), its passage seeds (indexed) and its text (compressed). A query runs
the same stages as ``scan`` over the new documents and the indexed documents they could match:

1. **fingerprint** (map) the new documents, as ``scan`` does;
2. **candidates**: the indexed documents that share an LSH band key with a new document (one
   index seek per band), the pairs of new documents that share one, and the indexed documents
   that share passage seeds with a new document;
3. **load** those indexed documents and fingerprint them again (shingle sets are not stored);
4. **verify, cluster, passages** over the new and loaded documents, as ``scan``, with alignments
   only for pairs holding a new document, and seed frequencies counted over the whole index.

So a query reports, for each new document, the same pairs and scores as one ``scan`` of the
index's documents and the new ones together with the index's params (a property test holds it
to that; with passages off, those params turn ``lsh.containment_candidates`` off), at a cost
that depends on the new documents and their matches, not on the size of the index.

The parameters that fingerprints depend on (normalisation, shingles, MinHash, LSH bands and rows,
passage seeds) are stored in the index; a query or an add that asks for other values is refused
with the keys named, never mixed. Thresholds (``verify.*``, ``cluster.*``, most of ``passages.*``)
are read at query time and may differ from run to run.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, from_dict
from ..errors import ConfigError
from ..lsh import band_keys, candidate_pairs
from ..passages import alignable
from ..pipeline import Detector, Fingerprints, InputItem, Intake, Progress
from ..records import Document, Skipped
from ..result import Result
from ..shingle import sorted_unique
from .sqlite import SCHEMA_VERSION, SQLiteStore, StoredBatch, as_signed
from .store import IndexStore

# Keys whose values shape the stored fingerprints: an index answers only under its own values.
# normalisation steps added after indexes were first made: an index whose config lacks one was
# fingerprinted without it, and is read so (not with today's default, which would mismatch)
LATER_NORMALIZE_KEYS = ("join_hyphenated", "split_unspaced")

FINGERPRINT_KEYS = (
    "normalize.nfkc",
    "normalize.casefold",
    "normalize.fold_punctuation",
    "normalize.fold_whitespace",
    "normalize.join_hyphenated",
    "normalize.split_unspaced",
    "shingle.kind",
    "shingle.size",
    "minhash.num_perm",
    "minhash.seed",
    "minhash.scheme",
    "lsh.threshold",
    "lsh.bands",
    "lsh.rows",
    "lsh.false_positive_weight",
    "lsh.false_negative_weight",
    "passages.ngram",
)
_LSH_TUNING = {"lsh.threshold", "lsh.false_positive_weight", "lsh.false_negative_weight"}


def _get(data: dict[str, Any], dotted: str) -> Any:
    section, _, key = dotted.partition(".")
    return data[section][key]


@dataclass(frozen=True)
class AddReport:
    """What an add did: every input item is either added or skipped with a reason."""

    documents_read: int
    added: int
    skipped: list[Skipped] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def summary_line(self) -> str:
        return (
            f"{self.documents_read} documents read; {self.added} added in {len(self.batches)} "
            f"batches, {len(self.skipped)} skipped"
        )


class Index:
    """A persistent index of documents (see the module docstring). Use :meth:`open`."""

    def __init__(self, store: IndexStore, config: Config, progress: Progress | None = None) -> None:
        self.store = store
        self.config = config = self._bands_only(config)
        self.detector = Detector(config, progress=progress)
        self.seeds_stored = config.passages.enabled

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        overrides: dict[str, Any] | None = None,
        *,
        create: bool = False,
        write: bool = False,
        progress: Progress | None = None,
    ) -> Index:
        """Open the index at ``path`` (``create``: make it when it does not exist, from the defaults
        with ``overrides``). ``overrides`` are dotted config keys the user asked for: thresholds are
        taken, a fingerprint parameter that differs from the index's is an error naming the key."""
        from .. import __version__

        overrides = dict(overrides or {})
        path = Path(path)
        if create and not path.exists():
            config = cls._bands_only(Config().replace(overrides))
            params = Detector(config).params()  # lsh bands and rows fixed for the life of the index
            store = SQLiteStore.create(path, params, __version__, exist_ok=True)
            if store is not None:
                return cls(store, from_dict(params), progress)
            # another process made it meanwhile: open that one, as if it had been there before
        store = SQLiteStore.open(path, write=write or create)
        try:
            config = cls._effective(store, overrides)
        except BaseException:
            store.close()
            raise
        return cls(store, config, progress)

    @staticmethod
    def _bands_only(config: Config) -> Config:
        """``config``, with containment candidates off when passages are off: the index stores band
        keys, not every MinHash value, so its queries then find pairs through the bands alone
        (and the params it stores and reports say so)."""
        if config.passages.enabled or not config.lsh.containment_candidates:
            return config
        return config.replace({"lsh.containment_candidates": False})

    @staticmethod
    def _effective(store: SQLiteStore, overrides: dict[str, Any]) -> Config:
        """The index's config with the user's query-time keys on top; fingerprint keys must agree."""
        stored = store.config()
        for key in LATER_NORMALIZE_KEYS:  # an index made before a key existed was made without it
            stored.setdefault("normalize", {}).setdefault(key, False)
        asked = from_dict(stored).replace(overrides)  # validated like any config
        values = asked.to_dict()
        clashes = [
            f"{key} is {_get(stored, key)!r} in the index, {_get(values, key)!r} here"
            for key in FINGERPRINT_KEYS
            if key in overrides and key not in _LSH_TUNING and _get(values, key) != _get(stored, key)
        ]
        if _LSH_TUNING & overrides.keys() and "lsh.bands" not in overrides:
            # bands x rows derive from the threshold and weights: compare what the user's values give
            tuned = Detector(asked.replace({"lsh.bands": None, "lsh.rows": None}))
            if (tuned.bands, tuned.rows) != (stored["lsh"]["bands"], stored["lsh"]["rows"]):
                clashes.append(
                    f"lsh bands x rows are {stored['lsh']['bands']} x {stored['lsh']['rows']} in the index, "
                    f"{tuned.bands} x {tuned.rows} from the lsh settings here"
                )
        if overrides.get("passages.enabled") and not stored["passages"]["enabled"]:
            clashes.append("passages.enabled is false in the index (no passage seeds stored), true here")
        if clashes:
            raise ConfigError(
                f"index {store.path} was built with other fingerprint parameters: {'; '.join(clashes)} "
                "(fingerprints made with other parameters cannot be compared; use a new index)"
            )
        keep = {k: v for k, v in overrides.items() if k not in FINGERPRINT_KEYS}
        return from_dict(stored).replace(keep)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding ------------------------------------------------------------------------------

    def add(self, items: Iterable[InputItem]) -> AddReport:
        """Add documents, one transaction per ``run.batch_size`` documents. A document whose id
        is in the index already is skipped (``index remove`` it first to replace it)."""
        t0 = time.perf_counter()
        det = self.detector
        taken = Intake(self.config.input.max_chars)
        held: list[Skipped] = []
        pending: deque[list[Document]] = deque()
        size = self.config.run.batch_size

        def admitted() -> Iterator[list[Document]]:
            batch: list[Document] = []
            for item in items:
                doc = taken.add(item)
                if doc is not None:
                    batch.append(doc)
                    if len(batch) >= size:
                        yield batch
                        batch = []
            if batch:
                yield batch

        def texts() -> Iterator[list[str]]:
            for docs in admitted():
                known = self.store.existing_ids([d.id for d in docs])
                if known:
                    held.extend(
                        Skipped(d.source, "id already in the index", d.id) for d in docs if d.id in known
                    )
                    docs = [d for d in docs if d.id not in known]
                if docs:
                    pending.append(docs)
                    yield [d.text for d in docs]

        batches, added = [], 0
        for fb in det.engine.map(det.fingerprinter, texts()):
            docs = pending.popleft()
            number, raced = self._store(docs, fb.sets, fb.signatures, fb.passages)
            batches.append(number)
            # ids another writer added since they were checked: skipped as the others were
            held.extend(Skipped(d.source, "id already in the index", d.id) for d in docs if d.id in raced)
            added += len(docs) - len(raced)
            det._tick("add", added, 0)
        skipped = sorted(taken.skipped + held, key=lambda s: (s.source, s.id or ""))
        return AddReport(added + len(skipped), added, skipped, batches, time.perf_counter() - t0)

    def _store(
        self,
        docs: list[Document],
        sets: list[np.ndarray],
        signatures: np.ndarray,
        passages: list | None,
    ) -> tuple[int, set[str]]:
        det = self.detector
        seeds = [fp.seeds for fp in passages] if (self.seeds_stored and passages is not None) else None
        return self.store.add_batch(
            StoredBatch(
                docs,
                [len(s) for s in sets],
                signatures,
                band_keys(signatures, det.bands, det.rows),
                seeds,
            )
        )

    # -- querying ----------------------------------------------------------------------------

    def query(
        self, items: Iterable[InputItem], add: bool = False, texts: dict[str, str] | None = None
    ) -> Result:
        """Near-duplicates and shared passages of new documents among the indexed ones and each
        other, as a :class:`Result` whose ``documents`` are the new documents. ``add`` then adds
        them (those whose id is not in the index yet). ``texts``, when given, is filled with the
        text of every document looked at, new and indexed (for the HTML report)."""
        q = self.detector.fingerprint(items, keep_texts=True)
        with self.store.snapshot():  # one consistent view of the index, whatever a writer adds
            result, known = self._query(q, add, texts)
        if add:
            t0 = time.perf_counter()
            result.stats["index"]["added"] = self._add_fingerprinted(q, known)
            result.stats["seconds"]["add"] = round(time.perf_counter() - t0, 4)
        return result

    def _query(self, q: Fingerprints, add: bool, texts: dict[str, str] | None) -> tuple[Result, set[str]]:
        det, cfg = self.detector, self.config
        timings = q.seconds
        t0 = time.perf_counter()
        qids = q.ids
        known = self.store.existing_ids(qids)
        indexed_before = self.store.count()
        note = (
            "id already in the index: compared with the other indexed documents, not added"
            if add
            else "id already in the index: compared with the other indexed documents"
        )
        for i, doc_id in enumerate(qids):
            if doc_id in known:
                q.notes[i] = (*q.notes[i], note)

        # candidates: band keys shared with the index, and among the new documents
        keys = band_keys(q.signatures, det.bands, det.rows)
        owners: dict[int, list[int]] = defaultdict(list)
        for qi, row in enumerate(as_signed(keys).tolist()):
            for k in row:
                owners[k].append(qi)
        lsh_pairs: set[tuple[int, int]] = set()
        for key, doc in self.store.band_matches(keys).tolist():
            for qi in owners[key]:
                lsh_pairs.add((qi, doc))
        local, cstats = candidate_pairs(keys, cfg.lsh.max_bucket_size)
        timings["lsh"] = time.perf_counter() - t0

        # passage candidates: indexed documents sharing enough seeds with a new document
        t0 = time.perf_counter()
        frequent = None
        seed_pairs: set[tuple[int, int]] = set()
        passages_on = cfg.passages.enabled and self.seeds_stored and q.passages is not None
        if passages_on:
            frequent, seed_pairs = self._seed_candidates(q)
            # the copies of a document found through passages alone are candidates too (a scan
            # pairs every copy of a set of identical documents); LSH found the others' copies
            lsh_docs = {doc for _, doc in lsh_pairs}
            twins = self.store.twins({d for _, d in seed_pairs if d not in lsh_docs}, det.bands, det.rows)
            seed_pairs |= {(qi, t) for qi, d in seed_pairs for t in twins.get(d, ())}
        timings["seeds"] = time.perf_counter() - t0

        # load the indexed documents involved (not a new document's older copy under its own id)
        t0 = time.perf_counter()
        loaded = {
            doc: d
            for doc, d in self.store.documents({doc for _, doc in lsh_pairs | seed_pairs}).items()
            if d.id not in known
        }
        old = det.fingerprint(loaded.values(), allow_empty=True, keep_texts=True)
        universe = q + old
        if texts is not None:
            texts.update(zip(universe.ids, universe.texts or ()))
        timings["load"] = time.perf_counter() - t0
        at = {doc_id: i for i, doc_id in enumerate(universe.ids)}
        q_at = np.array([at[i] for i in qids], dtype=np.int64)
        doc_at = {doc: at[d.id] for doc, d in loaded.items()}

        t0 = time.perf_counter()
        pairs = {tuple(sorted((int(q_at[i]), int(q_at[j])))) for i, j in local.tolist()}
        pairs |= {tuple(sorted((int(q_at[qi]), doc_at[doc]))) for qi, doc in lsh_pairs if doc in doc_at}
        verifier = det.verifier(universe)
        accepted, rejected = det.verify(verifier, sorted(pairs))
        timings["verify"] = time.perf_counter() - t0

        is_new = np.zeros(len(universe), dtype=bool)
        is_new[q_at] = True
        stats = {
            "lsh_s_curve": det.s_curve(),
            "lsh_buckets": cstats.buckets,
            "largest_bucket": cstats.largest_bucket,
            "oversized_buckets": cstats.oversized_buckets,
            "candidate_pairs": len(pairs),
            "rejected_pairs": rejected,
            "index": {
                "path": str(self.store.path),
                "schema_version": SCHEMA_VERSION,
                "documents": indexed_before,
                "loaded": len(loaded),
                "already_in_index": len(known),  # queried documents the index held: compared, not added
            },
        }
        result = det.conclude(universe, verifier, accepted, stats, is_new, frequent)
        return result, known

    def _seed_candidates(self, q: Fingerprints) -> tuple[np.ndarray, set[tuple[int, int]]]:
        """Seed n-grams frequent across the index and the new documents (in more than
        ``passages.max_ngram_docs``: paired as stars, as scan pairs them), and the pairs (new
        document, indexed document) to load: those whose shared rare seeds could chain into a
        reportable passage (the test ``scan`` applies before aligning), and for each frequent
        seed its hub (the document with the smallest id holding it) when that is indexed, or, when
        a new document is the hub, every indexed document holding the seed (rare: the hub of a
        widely shared n-gram is almost always among the many indexed documents)."""
        pcfg = self.config.passages
        fps = q.passages or []
        lengths = [len(fp.seeds) for fp in fps]
        if not sum(lengths):
            return np.empty(0, dtype=np.uint64), set()
        signed = as_signed(np.concatenate([fp.seeds for fp in fps]))
        owner = np.repeat(np.arange(len(fps), dtype=np.int64), lengths)
        pos = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])
        # document frequency over the new documents and the index together, as scan counts it
        hashes = sorted_unique(signed)
        per_doc = np.unique(np.stack([signed, owner], axis=1), axis=0)
        batch_df = np.bincount(np.searchsorted(hashes, per_doc[:, 0]), minlength=len(hashes))
        index_df, rows = self.store.seed_matches(hashes, pcfg.max_ngram_docs)
        common = (index_df + batch_df) > pcfg.max_ngram_docs
        frequent = hashes[common].view(np.uint64)
        rows = rows[~common[np.searchsorted(hashes, rows[:, 0])]]
        hubs: set[tuple[int, int]] = set()
        if common.any():
            # the new documents' first holder of each frequent seed (q is in id order)
            holder = {}
            for h, doc in zip(
                signed[order_all := np.argsort(signed, kind="stable")].tolist(), owner[order_all].tolist()
            ):
                holder.setdefault(h, doc)
            for h in hashes[common].tolist():
                if h not in holder:
                    continue
                first = holder[h]
                hub = self.store.seed_hub(h) if index_df[np.searchsorted(hashes, h)] else None
                holders = {int(d) for d in owner[signed == h].tolist()}
                if hub is not None and hub[1] < q.ids[first]:
                    hubs.update((d, hub[0]) for d in holders)
                elif hub is not None:
                    hubs.update((first, doc) for doc in self.store.seed_docs(h))
        # join the new documents' seed occurrences with the index's rows on the hash
        order = np.argsort(signed, kind="stable")
        lo = np.searchsorted(signed[order], rows[:, 0], "left")
        counts = np.searchsorted(signed[order], rows[:, 0], "right") - lo
        idx_rows = np.repeat(np.arange(len(rows)), counts)
        within = np.arange(len(idx_rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        q_rows = order[np.repeat(lo, counts) + within]
        seeds = np.stack([owner[q_rows], pos[q_rows], rows[idx_rows, 1], rows[idx_rows, 2]], axis=1)
        if not len(seeds):
            return frequent, hubs
        seeds = seeds[np.lexsort((seeds[:, 3], seeds[:, 1], seeds[:, 2], seeds[:, 0]))]
        starts, _ = alignable(seeds, pcfg)
        return frequent, hubs | {(int(seeds[s, 0]), int(seeds[s, 2])) for s in starts.tolist()}

    def _add_fingerprinted(self, q: Fingerprints, known: set[str]) -> int:
        """Add already fingerprinted documents (a query's), in batches, skipping ids held."""
        keep = [i for i, doc_id in enumerate(q.ids) if doc_id not in known]
        size = self.config.run.batch_size
        added = 0
        for k in range(0, len(keep), size):
            chunk = keep[k : k + size]
            _, taken = self._store(
                [q.document(i) for i in chunk],
                [q.sets[i] for i in chunk],
                q.signatures[np.array(chunk, dtype=np.int64)],
                None if q.passages is None else [q.passages[i] for i in chunk],
            )
            added += len(chunk) - len(taken)  # another writer may have added some meanwhile
        return added

    # -- maintenance -------------------------------------------------------------------------

    def remove(self, ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """Remove documents by id, in one transaction; returns (removed, not found)."""
        ids = list(dict.fromkeys(ids))
        found = self.store.lookup(ids)
        det = self.detector
        rows = []
        for id_ in ids:
            if id_ not in found:
                continue
            doc, signature, text = found[id_]
            keys = band_keys(signature[None, :], det.bands, det.rows)[0]
            seeds = None
            if self.seeds_stored:
                batch = det.fingerprinter([text])
                seeds = batch.passages[0].seeds if batch.passages else None
            rows.append((doc, keys, seeds))
        self.store.remove(rows)
        return [i for i in ids if i in found], [i for i in ids if i not in found]

    def stats(self) -> dict[str, Any]:
        """Counts, size on disk, schema version and the stored parameters."""
        params = self.store.config()
        return {
            **self.store.stats(),
            "fingerprint_params": {key: _get(params, key) for key in FINGERPRINT_KEYS},
            "passage_seeds": self.seeds_stored,
            "params": params,
        }

    def check(self) -> list[str]:
        """Problems found in the index (empty: it is sound)."""
        return self.store.check(self.config.minhash.num_perm, self.detector.bands, self.seeds_stored)


__all__ = ["FINGERPRINT_KEYS", "SCHEMA_VERSION", "AddReport", "Index", "IndexStore", "SQLiteStore"]
