"""Shingling: normalised text -> the sorted set of its n-gram hashes.

Each distinct token (a word, or a character for char shingles) is hashed once with
xxhash (XXH64, seeded from the config) and cached; the hash of an n-gram is then
computed for all windows at once with numpy, as a polynomial in the token hashes
(mod 2^64, so order matters) followed by the MurmurHash3 64-bit finaliser. The
result is a sorted, duplicate-free ``numpy`` array: 32-bit for the ``affine32``
and ``legacy`` MinHash schemes (their hash functions take 32-bit inputs), 64-bit
for ``affine64``.

A text with fewer tokens than the shingle size has no shingle: it is kept as a
document but never matched (see the README on short documents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import xxhash

from .config import Config, NormalizeConfig
from .normalize import _fold, normalize_text, words

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd: the polynomial base for combining token hashes
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S32 = np.uint64(32)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: an avalanching bijection on uint64 arrays."""
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


def hash_width(scheme: str) -> int:
    """Bits of the shingle hashes a MinHash scheme takes."""
    return 64 if scheme == "affine64" else 32


class Shingler:
    """Turns texts into shingle-hash sets under one config. Keeps a bounded cache of token hashes."""

    max_cache = 2_000_000

    def __init__(self, config: Config) -> None:
        self.normalize = config.normalize
        self.kind = config.shingle.kind
        self.size = config.shingle.size
        self.seed = config.minhash.seed
        self.width = hash_width(config.minhash.scheme)
        self._cache: dict[str, int] = {}

    def tokens(self, text: str) -> list[str] | str:
        """The tokens shingles are made of: words, or the characters of the normalised text."""
        return words(text, self.normalize) if self.kind == "word" else normalize_text(text, self.normalize)

    def token_hashes(self, tokens: list[str] | str) -> np.ndarray:
        cache = self._cache
        try:
            values = list(map(cache.__getitem__, tokens))
        except KeyError:
            if len(cache) > self.max_cache:
                cache.clear()
            seed = self.seed
            h = xxhash.xxh64_intdigest
            # set.difference with a dict argument tests membership per element, in C
            for t in set(tokens).difference(cache):
                cache[t] = h(t.encode("utf-8", "surrogatepass"), seed)
            values = list(map(cache.__getitem__, tokens))
        return np.array(values, dtype=np.uint64)

    def hashes(self, text: str) -> np.ndarray:
        """Sorted unique shingle hashes of ``text`` (uint32 or uint64 by scheme)."""
        return self.hashes_of_tokens(self.tokens(text))

    def hashes_batch(
        self, texts: Sequence[str], words: AsciiWords | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`hashes` of every text, concatenated, and the offsets of each text's part
        (``flat[offsets[i]:offsets[i + 1]]`` is the set of ``texts[i]``).

        Word shingles of ASCII texts are made by the compiled kernel
        (:func:`dedupe.kernels.word_shingles`) in one pass over the batch, or, when ``words``
        holds their words already (:meth:`ascii_words` of the same texts, which the passage
        stage cuts too), from those (:func:`dedupe.kernels.word_ngram_sets`); the rest take
        :meth:`hashes`. All give the same values (hypothesis tests hold them equal).
        """
        dtype = np.uint32 if self.width == 32 else np.uint64
        tables = _ascii_tables(self.normalize) if self.kind == "word" else None
        if tables is None:
            words, fast = None, []
        elif words is not None:
            fast = words.rows
        else:
            fast = [i for i, t in enumerate(texts) if t.isascii()]
        parts: list[np.ndarray | None] = [None] * len(texts)
        if words is not None and fast:
            from .kernels import word_ngram_room, word_ngram_sets

            out = np.empty(word_ngram_room(words.offsets, self.size), dtype=dtype)
            used, offsets = word_ngram_sets(words.hashes, words.offsets, self.size, self.width == 32, out)
            flat = out[:used]
        elif fast:
            from .kernels import word_shingle_room, word_shingles

            buf, starts, ends = ascii_buffer(texts, fast)
            out = np.empty(word_shingle_room(starts, ends), dtype=dtype)
            used, offsets = word_shingles(
                buf,
                starts,
                ends,
                tables[0],
                tables[1],
                self.size,
                np.uint64(self.seed),
                self.width == 32,
                self.normalize.join_hyphenated,
                out,
            )
            flat = out[:used]  # written once, in the sets' width: no copy
        if fast:
            if len(fast) == len(texts):
                return flat, offsets
            for k, i in enumerate(fast):
                parts[i] = flat[offsets[k] : offsets[k + 1]]
        for i, t in enumerate(texts):
            if parts[i] is None:
                parts[i] = self.hashes(t)
        flat, offsets = concat_with_offsets(parts, dtype)  # type: ignore[arg-type] (none is None here)
        return flat.astype(dtype, copy=False), offsets

    def ascii_words(self, texts: Sequence[str]) -> AsciiWords | None:
        """The words of the batch's ASCII texts, by one compiled pass (:func:`dedupe.kernels.word_spans`),
        as flat arrays; None when no text is ASCII or the folding is not a byte table."""
        tables = _ascii_tables(self.normalize)
        fast = [i for i, t in enumerate(texts) if t.isascii()] if tables is not None else []
        if not fast:
            return None
        from .kernels import word_spans

        assert tables is not None
        buf, doc_starts, doc_ends = ascii_buffer(texts, fast)
        hashes, starts, stops, offsets = word_spans(
            buf,
            doc_starts,
            doc_ends,
            tables[0],
            tables[1],
            np.uint64(self.seed),
            self.normalize.join_hyphenated,
        )
        return AsciiWords(fast, buf, doc_starts, doc_ends, hashes, starts, stops, offsets)

    def hashes_of_tokens(self, tokens: list[str] | str) -> np.ndarray:
        if len(tokens) < self.size:
            return np.empty(0, dtype=np.uint32 if self.width == 32 else np.uint64)
        acc = ngram_hashes(self.token_hashes(tokens), self.size)
        if self.width == 32:
            acc = (acc >> _S32).astype(np.uint32)
        return sorted_unique(acc)


@lru_cache(maxsize=16)
def _ascii_tables(cfg: NormalizeConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """For the kernel: each ASCII byte folded as :func:`dedupe.normalize._fold` folds it, and
    whether the folded byte separates words (as ``str.split`` does). None when some ASCII
    character does not fold to exactly one ASCII character (then every text takes the numpy path)."""
    table = np.arange(256, dtype=np.uint8)
    for code in range(128):
        folded = _fold(chr(code), cfg)
        if len(folded) != 1 or not folded.isascii():
            return None
        table[code] = ord(folded)
    space = np.array([chr(c).isspace() if c < 128 else False for c in range(256)], dtype=bool)
    if cfg.join_hyphenated and not space[table[ord("-")]]:
        return None  # the kernel joins at a hyphen that separates words; the Python path joins any
    return table, space


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of a 1-d array, by sort and mask: about 7x faster on a document's few hundred
    values, and far faster on millions (numpy 2.4's ``np.unique`` takes a hash-table path there:
    5.1 s against 0.08 s for 3.6M int64 values)."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def ngram_hashes(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """64-bit hash of every window of ``n`` consecutive token hashes, in position order."""
    windows = len(token_hashes) - n + 1
    if windows <= 0:
        return np.empty(0, dtype=np.uint64)
    acc = token_hashes[:windows].copy()
    for i in range(1, n):
        acc *= _MULT
        acc += token_hashes[i : i + windows]
    return fmix64(acc ^ np.uint64(n))


def concat_with_offsets(arrays: Sequence[np.ndarray], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """``arrays`` as one flat array (``dtype`` when there are none) and the offsets of each
    (``flat[offsets[i]:offsets[i + 1]]`` is ``arrays[i]``): how sets travel in a batch."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    return (np.concatenate(arrays) if len(arrays) else np.empty(0, dtype=dtype)), offsets


def ascii_buffer(texts: Sequence[str], rows: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ASCII texts ``texts[i]`` for ``i`` in ``rows`` as one byte buffer, and where each starts
    and ends in it: how the compiled kernels take a batch."""
    encoded = [texts[i].encode("ascii") for i in rows]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    ends = np.cumsum(lengths)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends - lengths, ends


@dataclass(frozen=True, slots=True)
class AsciiWords:
    """The words of a batch's ASCII texts (:meth:`Shingler.ascii_words`): text ``rows[k]`` of the
    batch is ``buf[doc_starts[k]:doc_ends[k]]``, and its words are entries
    ``offsets[k]:offsets[k + 1]`` of ``hashes`` and of the spans ``starts``, ``ends`` (int64,
    relative to the text's start)."""

    rows: list[int]
    buf: np.ndarray
    doc_starts: np.ndarray
    doc_ends: np.ndarray
    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    offsets: np.ndarray


class ShingleSets(Sequence[np.ndarray]):
    """Many documents' shingle sets in one flat array: set ``i`` is ``flat[starts[i]:ends[i]]``.

    This is how the pipeline holds the sets of a whole batch: one array, not a million small ones
    (about 100 bytes of object header each), and a layout a compiled kernel can walk
    (:meth:`dedupe.verify.Verifier.screen`). Reordering (:meth:`take`) moves the bounds, never the
    shingles. Indexing gives a read-only view.
    """

    __slots__ = ("ends", "flat", "starts")

    def __init__(self, flat: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.flat, self.starts, self.ends = flat, starts, ends

    @classmethod
    def of(cls, arrays: Sequence[np.ndarray], dtype: np.dtype | type | None = None) -> ShingleSets:
        """The sets of a list of arrays (copied into one; ``dtype``: by default the first array's)."""
        if dtype is None:
            dtype = arrays[0].dtype if len(arrays) else np.uint32
        sizes = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        ends = np.cumsum(sizes)
        flat = np.concatenate(arrays).astype(dtype, copy=False) if len(arrays) else np.empty(0, dtype=dtype)
        return cls(flat, ends - sizes, ends)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        view = self.flat[self.starts[i] : self.ends[i]]
        view.flags.writeable = False
        return view

    def __iter__(self):  # type: ignore[no-untyped-def]
        for a, b in zip(self.starts.tolist(), self.ends.tolist()):
            yield self.flat[a:b]

    def sizes(self) -> np.ndarray:
        return self.ends - self.starts

    def take(self, rows: Sequence[int] | np.ndarray) -> ShingleSets:
        """These rows, in this order (the same flat array)."""
        rows = np.asarray(rows, dtype=np.int64)
        return ShingleSets(self.flat, self.starts[rows], self.ends[rows])

    def __add__(self, other: ShingleSets) -> ShingleSets:  # type: ignore[override]
        return ShingleSets(
            np.concatenate([self.flat, other.flat.astype(self.flat.dtype, copy=False)]),
            np.concatenate([self.starts, other.starts + len(self.flat)]),
            np.concatenate([self.ends, other.ends + len(self.flat)]),
        )


class RowsBuilder:
    """Rows of ``width`` values (or single values, ``width`` None) appended batch by batch into
    one array, so that the batches' own arrays can be freed as they arrive and each value is
    copied once, as it arrives, instead of all at the end (a concatenation of a million
    documents' signatures fills 512 MB of fresh memory at once, on one thread).

    The array is reserved large and untouched (a sixteenth of the machine's memory, as address
    space: pages cost memory only once written), so it rarely has to grow; :meth:`finish` gives
    the unused tail back. Growing past the reservation doubles it (one copy). ``reserve``: values
    to reserve instead."""

    def __init__(self, dtype: np.dtype | type, width: int | None = None, reserve: int | None = None) -> None:
        self._flat = _reserve(np.dtype(dtype)) if reserve is None else np.empty(reserve, dtype=dtype)
        self._shape: tuple[int, ...] = () if width is None else (width,)  # of a row
        self._used = 0  # values, not rows

    def __len__(self) -> int:
        return self._used // (self._shape[0] if self._shape else 1)

    def add(self, rows: np.ndarray) -> None:
        if rows.shape[1:] != self._shape:
            raise ValueError(f"rows of shape {rows.shape[1:]} added to rows of shape {self._shape}")
        values = rows.reshape(-1)
        need = self._used + len(values)
        if need > len(self._flat):
            grown = np.empty(max(need, 2 * len(self._flat)), dtype=self._flat.dtype)
            grown[: self._used] = self._flat[: self._used]
            self._flat = grown
        self._flat[self._used : need] = values
        self._used = need

    def finish(self) -> np.ndarray:
        """The rows added, as one array (the builder is left empty)."""
        flat = self._flat
        flat.resize(self._used, refcheck=False)  # shrinks in place: the untouched tail is released
        self._flat = np.empty(0, dtype=flat.dtype)
        self._used = 0
        return flat.reshape(-1, *self._shape)


class ShingleSetsBuilder:
    """Collects sets batch by batch into one array (a :class:`RowsBuilder`), so the batches' own
    arrays can be freed as they arrive and the sets are copied once."""

    def __init__(self, dtype: np.dtype | type) -> None:
        self._flat = RowsBuilder(dtype)
        self._starts: list[np.ndarray] = []
        self._ends: list[np.ndarray] = []

    def add(self, flat: np.ndarray, offsets: np.ndarray, rows: Sequence[int] | np.ndarray) -> None:
        """The sets ``flat[offsets[k]:offsets[k + 1]]`` for each ``k`` in ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        lo, hi = offsets[rows], offsets[rows + 1]
        if len(rows) == len(offsets) - 1:  # every row of the batch: one copy, bounds as they are
            chunk = flat[offsets[0] : offsets[-1]]
            starts = lo - offsets[0]
        else:
            chunk = (
                np.concatenate([flat[a:b] for a, b in zip(lo.tolist(), hi.tolist())])
                if len(rows)
                else flat[:0]
            )
            sizes = hi - lo
            starts = np.cumsum(sizes) - sizes
        used = len(self._flat)
        self._flat.add(chunk)
        self._starts.append(starts + used)
        self._ends.append(starts + (hi - lo) + used)

    def finish(self) -> ShingleSets:
        flat = self._flat.finish()
        if not self._starts:
            return ShingleSets(flat, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
        return ShingleSets(flat, np.concatenate(self._starts), np.concatenate(self._ends))


def _reserve(dtype: np.dtype) -> np.ndarray:
    """An empty array as large as a sixteenth of physical memory (or less, if refused).

    Allocated without numpy's request for transparent huge pages: where the kernel compacts
    memory to make them on the first write (``defrag: madvise``), filling this array stalled.
    Copying the sets of 100k documents into it took 0.4-1.2 s with huge pages and 0.2 s without,
    on the parent's single thread while the workers waited. A sixteenth, not more: the
    reservations of a run count against the memory a fork of the process may commit (adjacent
    ones merge into one mapping), and four of a quarter each made starting the workers fail."""
    import os

    try:
        size = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 16
    except (ValueError, OSError, AttributeError):
        size = 1 << 30
    while size > 1 << 20:
        try:
            return _without_huge_pages(size // dtype.itemsize, dtype)
        except MemoryError:
            size //= 4
    return np.empty(size // dtype.itemsize, dtype=dtype)


def _without_huge_pages(n: int, dtype: np.dtype) -> np.ndarray:
    """``np.empty(n, dtype)``, numpy's huge-page advice switched off while it is made (a private
    numpy switch: without it, a plain ``np.empty``)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage as advise
    except ImportError:  # numpy 1.x keeps it in numpy.core
        try:
            from numpy.core.multiarray import _set_madvise_hugepage as advise
        except ImportError:
            return np.empty(n, dtype=dtype)
    before = advise(False)
    try:
        return np.empty(n, dtype=dtype)
    finally:
        advise(before)
