"""The index's storage on an embedded SQLite file: no server, one file (plus WAL while in use).

Schema (version :data:`SCHEMA_VERSION`, also in ``PRAGMA user_version``)::

    meta       key -> value: schema_version, config (JSON: the parameters fingerprints depend on
               and the defaults for queries), created, dedupe_version
    batches    batch, added (UTC ISO time), documents: one row per committed batch
    documents  doc (row id), id (unique), source, meta (JSON: date, notes), chars, shingles,
               batch, signature (num_perm little-endian uint32), text (zlib-compressed UTF-8)
    bands      (key, doc): one row per LSH band of each document, the key as a signed 64-bit
               integer; WITHOUT ROWID, so the primary key is the only b-tree: a band look-up is
               one index seek
    seeds      (hash, doc, pos): each passage seed n-gram of each document and its word position,
               for shared passages: document frequencies, and which documents can chain two
               shared seeds (see ``passages.alignable``); only when passages are enabled
    hubs       hash -> doc: for each seed held by two documents or more, the holder whose id is
               smallest (a frequent seed's hub, found in one look-up); kept by add and remove
               (version 2)

Shingle sets are not stored: they are recomputed from the text for the few indexed documents a
query verifies, which costs less than keeping them. Writes go in one transaction per batch, in
WAL mode, so readers query while a writer adds, and a killed writer leaves the batches it
committed and nothing else. ``synchronous=NORMAL``: a process crash loses nothing committed; a
power loss can lose the last batches, never the file's integrity.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexStoreError, InputError, OutputError
from ..lsh import band_keys
from ..records import Document
from ..shingle import sorted_unique

SCHEMA_VERSION = 2
APPLICATION_ID = 0x64647570  # "ddup": marks the file as a dedupe index
_CHUNK = 500  # values per IN (...) look-up

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE batches (
    batch INTEGER PRIMARY KEY,
    added TEXT NOT NULL,
    documents INTEGER NOT NULL
);
CREATE TABLE documents (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    meta TEXT NOT NULL,
    chars INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    batch INTEGER NOT NULL REFERENCES batches(batch),
    signature BLOB NOT NULL,
    text BLOB NOT NULL
);
CREATE TABLE bands (key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)) WITHOUT ROWID;
CREATE TABLE seeds (
    hash INTEGER NOT NULL, doc INTEGER NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (hash, doc, pos)
) WITHOUT ROWID;
CREATE TABLE hubs (hash INTEGER PRIMARY KEY, doc INTEGER NOT NULL);
"""
# hubs: for each seed n-gram held by two documents or more, the holder whose id is smallest (its
# hub: a scan pairs a frequent seed's other holders with it). Kept by every add and remove, so a
# query finds a hub in one look-up, however many documents hold the seed; a seed held by one
# document (most of them) needs no row.

_HUBS_FROM_SEEDS = """
SELECT hash, doc FROM (
    SELECT s.hash, s.doc, row_number() OVER (PARTITION BY s.hash ORDER BY d.id) AS r,
        count(*) OVER (PARTITION BY s.hash) AS n
    FROM (SELECT DISTINCT hash, doc FROM seeds) s JOIN documents d ON d.doc = s.doc
) WHERE r = 1 AND n >= 2
"""


def _add_hubs(conn: sqlite3.Connection) -> None:
    """Version 1 to 2: the hubs table, filled from the seeds."""
    conn.execute("CREATE TABLE hubs (hash INTEGER PRIMARY KEY, doc INTEGER NOT NULL)")
    conn.execute("INSERT INTO hubs (hash, doc) " + _HUBS_FROM_SEEDS)


# Upgrades from an older schema: MIGRATIONS[v] turns a version-v index into version v + 1, inside
# the writer's transaction; an index whose version has no path here is refused with a message
# saying so.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _add_hubs}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def encode_text(text: str) -> bytes:
    # surrogatepass: a lone surrogate read from a JSON escape round-trips unchanged
    return zlib.compress(text.encode("utf-8", "surrogatepass"), 6)


def decode_text(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8", "surrogatepass")


def stored(text: str) -> str | bytes:
    """An id or source as SQLite takes it: the string itself, or, when it holds a lone surrogate
    (a file name that is not UTF-8, a JSON escape like "\\ud800"), its bytes by surrogatepass, a
    BLOB (SQLite's strings are UTF-8 and refuse it). :func:`unstored` reads it back unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


def unstored(value: str | bytes) -> str:
    """The string :func:`stored` was given."""
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


def _id_key(value: str | bytes) -> tuple[int, str | bytes]:
    """A stored id as SQLite orders it: text (UTF-8 bytes, so code points) before blobs."""
    return (1, value) if isinstance(value, bytes) else (0, value)


def as_signed(values: np.ndarray) -> np.ndarray:
    """uint64 keys as the signed 64-bit integers SQLite stores."""
    return np.ascontiguousarray(values, dtype=np.uint64).view(np.int64)


@dataclass(frozen=True)
class StoredBatch:
    """One batch to commit: documents with their signatures, band keys and seeds (uint64)."""

    documents: Sequence[Document]
    shingles: Sequence[int]
    signatures: np.ndarray  # n x num_perm uint32
    keys: np.ndarray  # n x bands uint64
    seeds: Sequence[np.ndarray] | None


class SQLiteStore:
    """One index file. Open it with :meth:`create` or :meth:`open`; close it with :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @staticmethod
    def _connect_read_only(path: Path) -> sqlite3.Connection:
        """An index on media nothing can write (a read-only file system): opened as immutable, so
        SQLite needs neither its lock nor its shared-memory file beside it."""
        from urllib.parse import quote

        uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    @classmethod
    def create(
        cls, path: str | Path, config: dict[str, Any], dedupe_version: str, exist_ok: bool = False
    ) -> SQLiteStore | None:
        """Make a new index. It is built under a temporary name and linked into place, so a
        process killed while creating it leaves no half-made index behind. The temporary file is
        made by ``mkstemp`` (an unpredictable name, opened exclusively: a symlink planted there is
        never followed). When another process makes the index first: an error, or None with
        ``exist_ok`` (the caller opens that one)."""
        path = Path(path)
        if path.exists():
            if exist_ok:
                return None
            raise IndexStoreError(f"{path}: exists already")
        if not path.parent.is_dir():
            raise InputError(f"index {path}: folder {path.parent} does not exist")
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
        os.close(fd)  # an empty file: SQLite makes a new database in it
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)  # mkstemp makes 0600: an index is shared as an ordinary file
        tmp = Path(name)
        try:
            conn = cls._connect(tmp)
            conn.execute("PRAGMA journal_mode = WAL")
            # tables, meta and the header's marks in one transaction: a file is an index or is not
            conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("config", json.dumps(config, sort_keys=True)),
                    ("created", _now()),
                    ("dedupe_version", dedupe_version),
                ],
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
            conn.close()  # the last connection checkpoints the WAL into the file and removes it
            os.link(tmp, path)  # unlike a rename, fails when another process made the index meanwhile
        except FileExistsError:
            if exist_ok:
                return None
            raise IndexStoreError(f"{path}: exists already") from None
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(tmp) + suffix).unlink(missing_ok=True)
        return cls.open(path, write=True)

    @classmethod
    def open(cls, path: str | Path, write: bool = False) -> SQLiteStore:
        """Open an existing index; an older schema is upgraded when ``write`` and a path exists."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"no index at {path} (`dedupe index add {path} PATH...` creates one)")
        if path.is_dir():
            raise InputError(f"index {path}: is a directory, not an index file")
        read_only_media = not os.access(path.parent, os.W_OK)  # a read-only file system, say
        if read_only_media and write:
            raise OutputError(f"index {path}: its folder cannot be written (a read-only file system?)")
        wal = Path(str(path) + "-wal")
        if read_only_media and wal.exists() and wal.stat().st_size:
            # opened immutable, SQLite would not read the commits still in the log: stale answers
            raise IndexStoreError(
                f"index {path}: has commits not yet merged from {wal.name}, and its folder cannot be "
                "written: open it once where it can be (any dedupe index command merges them)"
            )
        try:
            conn = cls._connect_read_only(path) if read_only_media else cls._connect(path)
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise IndexStoreError(f"{path}: not a dedupe index ({err})") from None
        if app_id != APPLICATION_ID:
            conn.close()
            raise IndexStoreError(f"{path}: not a dedupe index")
        store = cls(path, conn)
        if version > SCHEMA_VERSION:
            conn.close()
            raise IndexStoreError(
                f"{path}: index schema version {version} was written by a newer dedupe; "
                f"this one reads versions up to {SCHEMA_VERSION} (upgrade dedupe)"
            )
        if version < SCHEMA_VERSION:
            store.upgrade(version, write)
        return store

    def upgrade(self, version: int, write: bool) -> None:
        missing = [v for v in range(version, SCHEMA_VERSION) if v not in MIGRATIONS]
        if missing:
            self.close()
            raise IndexStoreError(
                f"{self.path}: index schema version {version} cannot be upgraded to {SCHEMA_VERSION} "
                f"(no migration from version {missing[0]}); rebuild it with `dedupe index add`"
            )
        if not write:
            self.close()
            raise IndexStoreError(
                f"{self.path}: index schema version {version} is older than {SCHEMA_VERSION}; "
                "open it for writing once (`dedupe index add`, or `dedupe index check --upgrade`) to upgrade it"
            )
        with self.transaction():
            # another writer may have upgraded it while this one waited for the write lock: the
            # version is read again inside the transaction, and only the steps left are taken
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for v in range(version, SCHEMA_VERSION):
                MIGRATIONS[v](self.conn)
                self.conn.execute(f"PRAGMA user_version = {v + 1}")
            self.conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        self.conn.close()

    # -- reading ---------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        try:
            return dict(self.conn.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as err:
            raise IndexStoreError(f"{self.path}: damaged index ({err})") from None

    def config(self) -> dict[str, Any]:
        return json.loads(self.meta()["config"])

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def _chunked(self, sql: str, values: Sequence[Any]) -> Iterator[tuple]:
        for k in range(0, len(values), _CHUNK):
            chunk = values[k : k + _CHUNK]
            yield from self.conn.execute(sql.format(",".join("?" * len(chunk))), chunk)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        found = self._chunked("SELECT id FROM documents WHERE id IN ({})", [stored(i) for i in ids])
        return {unstored(r[0]) for r in found}

    def band_matches(self, keys: np.ndarray) -> np.ndarray:
        """``m x 2`` int64 rows ``(key, doc)`` of the indexed documents holding any of ``keys``."""
        wanted = sorted_unique(as_signed(keys.ravel())).tolist()
        rows = list(self._chunked("SELECT key, doc FROM bands WHERE key IN ({})", wanted))
        return np.array(rows, dtype=np.int64).reshape(-1, 2)

    def seed_matches(self, hashes: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """For each of the distinct ``hashes`` (as signed integers), how many indexed documents hold it (counted
        up to ``cap + 1``), and ``(hash, doc, pos)`` rows for those held by at most ``cap``
        documents (the rest is boilerplate, not worth pairing)."""
        counts = np.zeros(len(hashes), dtype=np.int64)
        rows: list[tuple[int, int, int]] = []
        cur = self.conn.cursor()
        limit = 4 * (cap + 1)  # repeats inside a document: more rows than documents
        for k, h in enumerate(hashes.tolist()):
            found = cur.execute("SELECT doc, pos FROM seeds WHERE hash = ? LIMIT ?", (h, limit)).fetchall()
            docs = len({d for d, _ in found})
            if len(found) == limit:  # long run of rows: count documents exactly, up to cap + 1
                docs = cur.execute(
                    "SELECT count(*) FROM (SELECT DISTINCT doc FROM seeds WHERE hash = ? LIMIT ?)",
                    (h, cap + 1),
                ).fetchone()[0]
                found = (
                    []
                    if docs > cap
                    else cur.execute("SELECT doc, pos FROM seeds WHERE hash = ?", (h,)).fetchall()
                )
            counts[k] = docs
            if docs <= cap:
                rows.extend((h, d, p) for d, p in found)
        return counts, np.array(rows, dtype=np.int64).reshape(-1, 3)

    def twins(self, docs: Iterable[int], bands: int, rows: int) -> dict[int, list[int]]:
        """For each of ``docs``, the other indexed documents with the same signature (an identical
        shingle set has one): looked up by the first band key, then compared."""
        out: dict[int, list[int]] = {}
        cur = self.conn.cursor()
        for doc in sorted(set(docs)):
            (sig,) = cur.execute("SELECT signature FROM documents WHERE doc = ?", (doc,)).fetchone()
            signature = np.frombuffer(sig, dtype="<u4").reshape(1, -1)
            key = int(as_signed(band_keys(signature, bands, rows))[0, 0])
            same = cur.execute(
                "SELECT d.doc FROM bands b JOIN documents d ON d.doc = b.doc "
                "WHERE b.key = ? AND d.signature = ? AND d.doc != ?",
                (key, sig, doc),
            ).fetchall()
            if same:
                out[doc] = [d for (d,) in same]
        return out

    def seed_hub(self, h: int) -> tuple[int, str] | None:
        """The indexed document holding seed ``h`` (signed) whose id is smallest, with that id: the
        hub a scan pairs the seed's other occurrences with when it is frequent. One look-up in the
        hubs table, whatever the seed's document frequency."""
        row = self.conn.execute(
            "SELECT h.doc, d.id FROM hubs h JOIN documents d ON d.doc = h.doc WHERE h.hash = ?", (h,)
        ).fetchone()
        if row is None:  # held by one document at most: that one
            row = self.conn.execute(
                "SELECT d.doc, d.id FROM seeds s JOIN documents d ON d.doc = s.doc WHERE s.hash = ? LIMIT 1",
                (h,),
            ).fetchone()
        return None if row is None else (int(row[0]), unstored(row[1]))

    def _first_holder(self, h: int) -> int | None:
        """The hub of seed ``h`` found from the seeds (O(its document frequency)): for a removal."""
        row = self.conn.execute(
            "SELECT d.doc FROM seeds s JOIN documents d ON d.doc = s.doc WHERE s.hash = ? "
            "ORDER BY d.id LIMIT 1",
            (h,),
        ).fetchone()
        return None if row is None else int(row[0])

    def seed_docs(self, h: int) -> list[int]:
        """Every indexed document holding seed ``h`` (signed)."""
        return [d for (d,) in self.conn.execute("SELECT DISTINCT doc FROM seeds WHERE hash = ?", (h,))]

    def documents(self, docs: Iterable[int]) -> dict[int, Document]:
        out = {}
        for doc, id_, source, meta, text in self._chunked(
            "SELECT doc, id, source, meta, text FROM documents WHERE doc IN ({})", sorted(set(docs))
        ):
            out[doc] = Document(unstored(id_), decode_text(text), unstored(source), json.loads(meta))
        return out

    def stats(self) -> dict[str, Any]:
        meta = self.meta()
        q = self.conn.execute
        documents = self.count()
        files = [Path(str(self.path) + s) for s in ("", "-wal", "-shm")]
        size = sum(f.stat().st_size for f in files if f.exists())
        page_size = q("PRAGMA page_size").fetchone()[0]
        pages = q("PRAGMA page_count").fetchone()[0]
        free = q("PRAGMA freelist_count").fetchone()[0]
        last = q("SELECT batch, added, documents FROM batches ORDER BY batch DESC LIMIT 1").fetchone()
        return {
            "path": str(self.path),
            "schema_version": int(meta["schema_version"]),
            "dedupe_version": meta.get("dedupe_version"),
            "created": meta.get("created"),
            "documents": documents,
            "batches": q("SELECT count(*) FROM batches").fetchone()[0],
            "last_batch": {"batch": last[0], "added": last[1], "documents": last[2]} if last else None,
            "band_rows": q("SELECT count(*) FROM bands").fetchone()[0],
            "seed_rows": q("SELECT count(*) FROM seeds").fetchone()[0],
            "text_bytes": q("SELECT coalesce(sum(length(text)), 0) FROM documents").fetchone()[0],
            "bytes_on_disk": size,
            "bytes_in_use": (pages - free) * page_size,
            "bytes_per_document": round(size / documents) if documents else None,
        }

    # -- writing ---------------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """A write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``."""
        return _Transaction(self.conn, "BEGIN IMMEDIATE")

    def snapshot(self) -> _Transaction:
        """A read transaction: every read inside it sees the index as one commit left it, whatever
        a writer commits meanwhile (WAL)."""
        return _Transaction(self.conn, "BEGIN")

    def add_batch(self, batch: StoredBatch) -> tuple[int, set[str]]:
        """Commit one batch in one transaction; returns its batch number and the ids not stored
        because the index held them by then: the ids are checked again inside the write
        transaction, so two writers adding the same id never both store it (nor fail on it)."""
        with self.transaction():
            taken = self.existing_ids([d.id for d in batch.documents])
            if taken:
                keep = [k for k, d in enumerate(batch.documents) if d.id not in taken]
                batch = StoredBatch(
                    [batch.documents[k] for k in keep],
                    [batch.shingles[k] for k in keep],
                    batch.signatures[keep],
                    batch.keys[keep],
                    None if batch.seeds is None else [batch.seeds[k] for k in keep],
                )
            number = self._insert(batch)
        return number, taken

    def _insert(self, batch: StoredBatch) -> int:
        """Insert one batch (inside the caller's write transaction); returns its number."""
        docs = batch.documents
        sigs = np.ascontiguousarray(batch.signatures, dtype="<u4")
        keys = as_signed(batch.keys)
        cur = self.conn.cursor()
        cur.execute("INSERT INTO batches (added, documents) VALUES (?, ?)", (_now(), len(docs)))
        number = cur.lastrowid
        first = (cur.execute("SELECT coalesce(max(doc), 0) FROM documents").fetchone()[0]) + 1
        rows = []
        for k, d in enumerate(docs):
            meta = {key: d.meta[key] for key in ("date", "notes") if d.meta.get(key)}
            rows.append(
                (
                    first + k,
                    stored(d.id),
                    stored(d.source),
                    json.dumps(meta),
                    len(d.text),
                    int(batch.shingles[k]),
                    number,
                    sigs[k].tobytes(),
                    encode_text(d.text),
                )
            )
        cur.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        doc_ids = np.arange(first, first + len(docs), dtype=np.int64)
        cur.executemany(
            "INSERT OR IGNORE INTO bands VALUES (?, ?)",
            zip(keys.ravel().tolist(), np.repeat(doc_ids, keys.shape[1]).tolist()),
        )
        if batch.seeds is not None:
            lengths = [len(s) for s in batch.seeds]
            if sum(lengths):
                hashes = as_signed(np.concatenate(batch.seeds))
                holders = np.repeat(doc_ids, lengths)
                cur.executemany(
                    "INSERT INTO seeds VALUES (?, ?, ?)",
                    zip(
                        hashes.tolist(),
                        holders.tolist(),
                        np.concatenate([np.arange(n) for n in lengths]).tolist(),
                    ),
                )
                self._update_hubs(cur, hashes, holders - first, [d.id for d in docs], doc_ids)
        return number

    @staticmethod
    def _update_hubs(
        cur: sqlite3.Cursor, hashes: np.ndarray, holders: np.ndarray, ids: Sequence[str], doc_ids: np.ndarray
    ) -> None:
        """After a batch's seeds are stored: the hubs of the seeds it holds (``holders``: the batch
        position of each seed's document). A seed gets its row when a second document holds it
        (in this batch, or an earlier one), with the holder whose id is smallest; a row is
        taken over by a batch document of a smaller id. Ids compare as SQLite compares what
        :func:`stored` makes of them: text by code point, and text before bytes."""
        ranks = np.empty(len(ids), dtype=np.int64)
        ranks[sorted(range(len(ids)), key=lambda k: _id_key(stored(ids[k])))] = np.arange(len(ids))
        order = np.lexsort((ranks[holders], hashes))
        hashes, holders = hashes[order], holders[order]
        first = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
        # documents of this batch holding each seed: more than one makes the seed shared already
        changes = np.r_[True, (hashes[1:] != hashes[:-1]) | (holders[1:] != holders[:-1])]
        per_hash = np.add.reduceat(changes.astype(np.int64), first)
        oldest = int(doc_ids[0]) if len(doc_ids) else 0
        # one set-wise statement over the batch's seeds (a temporary table), not one per seed
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS batch_hubs (hash INTEGER PRIMARY KEY, doc INTEGER, n INTEGER)"
        )
        cur.execute("DELETE FROM batch_hubs")
        cur.executemany(
            "INSERT INTO batch_hubs VALUES (?, ?, ?)",
            zip(hashes[first].tolist(), doc_ids[holders[first]].tolist(), per_hash.tolist()),
        )
        # the batch's first holder, or the one earlier holder when its id is smaller; an existing
        # row is kept unless the batch's holder has the smaller id
        cur.execute(
            "INSERT INTO hubs (hash, doc) "
            "SELECT t.hash, (SELECT d.doc FROM documents d WHERE d.doc IN "
            "  (t.doc, (SELECT s.doc FROM seeds s WHERE s.hash = t.hash AND s.doc < ? LIMIT 1)) "
            "  ORDER BY d.id LIMIT 1) "
            "FROM batch_hubs t WHERE t.n >= 2 OR EXISTS (SELECT 1 FROM seeds s WHERE s.hash = t.hash AND s.doc < ?) "
            "ON CONFLICT (hash) DO UPDATE SET doc = excluded.doc "
            "WHERE (SELECT id FROM documents WHERE doc = excluded.doc) "
            "< (SELECT id FROM documents WHERE doc = hubs.doc)",
            (oldest, oldest),
        )
        cur.execute("DELETE FROM batch_hubs")

    def remove(self, rows: Sequence[tuple[int, np.ndarray, np.ndarray | None]]) -> None:
        """Remove documents ``(doc, band keys, seeds)`` in one transaction; their batches keep their
        counts of documents added."""
        with self.transaction():
            cur = self.conn.cursor()
            for doc, keys, seeds in rows:
                cur.executemany(
                    "DELETE FROM bands WHERE key = ? AND doc = ?",
                    ((k, doc) for k in as_signed(keys).tolist()),
                )
                if seeds is not None:
                    cur.executemany(
                        "DELETE FROM seeds WHERE hash = ? AND doc = ? AND pos = ?",
                        ((h, doc, p) for p, h in enumerate(as_signed(seeds).tolist())),
                    )
                    # the seeds this document was the hub of pass to their next holder, or lose
                    # their row when one holder is left
                    for h in sorted_unique(as_signed(seeds)).tolist():
                        if cur.execute("SELECT 1 FROM hubs WHERE hash = ? AND doc = ?", (h, doc)).fetchone():
                            left = cur.execute(
                                "SELECT count(*) FROM (SELECT DISTINCT doc FROM seeds WHERE hash = ? LIMIT 2)",
                                (h,),
                            ).fetchone()[0]
                            if left < 2:
                                cur.execute("DELETE FROM hubs WHERE hash = ?", (h,))
                            else:
                                cur.execute(
                                    "UPDATE hubs SET doc = ? WHERE hash = ?", (self._first_holder(h), h)
                                )
                cur.execute("DELETE FROM documents WHERE doc = ?", (doc,))

    def lookup(self, ids: Sequence[str]) -> dict[str, tuple[int, np.ndarray, str]]:
        """id -> (doc, signature, text) for the ids held."""
        out = {}
        for doc, id_, sig, text in self._chunked(
            "SELECT doc, id, signature, text FROM documents WHERE id IN ({})", [stored(i) for i in ids]
        ):
            out[unstored(id_)] = (doc, np.frombuffer(sig, dtype="<u4"), decode_text(text))
        return out

    def check(self, num_perm: int, bands: int, seeds: bool) -> list[str]:
        """Problems found: SQLite's integrity check, then the index's own invariants."""
        q = self.conn.execute
        problems = [r[0] for r in q("PRAGMA integrity_check") if r[0] != "ok"]
        if problems:
            return problems
        problems += [f"foreign key: {r}" for r in q("PRAGMA foreign_key_check")]
        meta = self.meta()
        for key in ("schema_version", "config", "created"):
            if key not in meta:
                problems.append(f"meta: {key} missing")
        bad_sig = q(
            "SELECT count(*) FROM documents WHERE length(signature) != ?", (4 * num_perm,)
        ).fetchone()[0]
        if bad_sig:
            problems.append(f"{bad_sig} documents have a signature of the wrong length")
        # one pass over each table (the band and seed keys lead with the hash, not the document)
        docs = {r[0] for r in q("SELECT doc FROM documents")}
        band_counts = dict(q("SELECT doc, count(*) FROM bands GROUP BY doc").fetchall())
        wrong = sum(1 for d in docs if band_counts.get(d, 0) != bands)
        if wrong:
            problems.append(f"{wrong} documents do not have exactly {bands} band keys")
        orphans = len(band_counts.keys() - docs)
        if orphans:
            problems.append(f"band keys of {orphans} documents that are not in the index")
        orphans = len({r[0] for r in q("SELECT DISTINCT doc FROM seeds")} - docs)
        if orphans:
            problems.append(f"passage seeds of {orphans} documents that are not in the index")
        if not seeds and q("SELECT count(*) FROM seeds").fetchone()[0]:
            problems.append("seeds stored although passages are disabled")
        # a row may outlive its seed's second holder (a removal), but never name the wrong hub
        stale = q(
            "SELECT count(*) FROM hubs h WHERE h.doc != (SELECT d.doc FROM seeds s JOIN documents d "
            "ON d.doc = s.doc WHERE s.hash = h.hash ORDER BY d.id LIMIT 1) "
            "OR NOT EXISTS (SELECT 1 FROM seeds s WHERE s.hash = h.hash)"
        ).fetchone()[0]
        missing = q(
            f"SELECT count(*) FROM ({_HUBS_FROM_SEEDS} EXCEPT SELECT hash, doc FROM hubs)"
        ).fetchone()[0]
        if stale or missing:
            problems.append(
                f"seed hubs out of date: {missing} seeds lack their hub, {stale} hub rows are wrong"
            )
        over = q(
            "SELECT count(*) FROM batches b WHERE documents < (SELECT count(*) FROM documents d WHERE d.batch = b.batch)"
        ).fetchone()[0]
        if over:
            problems.append(f"{over} batches hold more documents than they added")
        return problems


class _Transaction:
    """``begin`` ... ``COMMIT``, rolled back on any exception (Ctrl-C included)."""

    def __init__(self, conn: sqlite3.Connection, begin: str) -> None:
        self.conn, self.begin = conn, begin

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute(self.begin)
        return self.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
