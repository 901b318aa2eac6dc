"""Shared passages: text reused across documents, found even when lightly edited.

Stages, in pipeline order:

1. **fingerprint** (map, per document): the normalised words with their character spans in
   the original text, a hash per word, whether each word lies inside quotation marks or is
   printed in Titlecase. A batch's fingerprints travel and stay as flat columns
   (:class:`PassageBatch`, about 18 bytes a word), held by a :class:`PassageStore`.
2. **seed** (group-by): documents sharing a seed (a word n-gram, ``passages.ngram``) become
   candidate pairs, with the positions of the shared n-grams. A seed in at most
   ``passages.max_ngram_docs`` documents pairs every two of its occurrences; one found more widely
   is paired as a star, each occurrence with the first one in its smallest document, so popular
   text costs work linear in its occurrences and is never dropped. No pair of documents is
   compared unless it shares a seed. Seeds are hashed from the words as they are grouped, one
   share of the hash range at a time; past ``passages.max_seed_pairs`` rows they are spilled to
   disk by document pair and aligned in passes, so the stage's memory stays bounded.
3. **align** (per candidate pair): seeds are chained, in order in both documents, across gaps of
   up to ``passages.max_gap`` words on either side (edits, insertions, a changed sentence
   boundary), then extended at both ends over equal words, and across edits as far as at least
   half of the words crossed are equal on both sides. A chain becomes an alignment when
   the spans share at least ``passages.min_words`` words (``passages.min_quote_words`` when
   both lie inside quotation marks: a shared quotation is strong evidence even when short)
   and their word-level similarity, ``2 x matched words / total words``, reaches
   ``passages.min_similarity``. A chain whose shared words are mostly Titlecase words
   (more than ``passages.max_name_share``) is a string of names and titles, a stock phrase of
   news writing rather than reuse, and is dropped.
4. **group**: aligned spans that mostly overlap in a document are one occurrence (a span joins
   the longest span holding at least half of it); occurrences joined by alignments form one passage group, so a passage reused by five documents is reported
   once with its five occurrences. A group is led by its longest occurrence, the canonical
   text; an occurrence belongs to it when at least ``passages.min_similarity`` of its words
   align with the canonical text (so templates chained pair by pair do not make one group).
   Each occurrence's ``similarity`` is that share, and ``coverage`` the share of the canonical
   text it reproduces.
5. **reuse clusters**: documents whose shared passages cover at least
   ``passages.reuse_min_chars`` characters of each, joined with union-find.

Offsets are character offsets into the original text: ``text[start:end]`` is the passage as
printed, from its first word to its last.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _json_str
from typing import Any

import numpy as np

from .config import PassagesConfig
from .normalize import tokenize
from .shingle import AsciiWords, Shingler, concat_with_offsets, ngram_hashes

# Opening and closing double quotation marks. Straight quotes alternate; single quotes are
# not used, because the same characters serve as apostrophes.
_QUOTE_CHARS = re.compile(r"[\"“”„«»\n]")
_OPENERS = {"“": "”", "„": "“”", "«": "»", "»": "«"}


def quote_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges ``[start, end)`` inside double quotation marks.

    A quotation left open ends at the end of its line, so one stray mark cannot swallow the rest
    of a document.
    """
    regions: list[tuple[int, int]] = []
    open_at: int | None = None
    closers = ""
    for m in _QUOTE_CHARS.finditer(text):
        ch, pos = m.group(), m.start()
        if open_at is None:
            if ch == '"':
                open_at, closers = pos, '"'
            elif ch in _OPENERS:
                open_at, closers = pos, _OPENERS[ch]
        elif ch == "\n" or ch in closers:
            end = pos if ch == "\n" else pos + 1
            if end - open_at > 1:
                regions.append((open_at, end))
            open_at = None
    if open_at is not None:
        regions.append((open_at, len(text)))
    return regions


def _offset_type(ends: np.ndarray) -> type:
    """int32 for character offsets when every one fits, else int64."""
    return np.int32 if not len(ends) or int(ends.max()) < 2**31 else np.int64


@dataclass(frozen=True, slots=True)
class PassageFingerprint:
    """What alignment needs of one document; the text itself is not kept."""

    words: np.ndarray  # uint64 hash per normalised word
    starts: np.ndarray  # character offset of each word in the original text (int32 or int64)
    ends: np.ndarray
    quoted: np.ndarray  # bool: the word lies inside quotation marks
    titled: np.ndarray  # bool: the word is printed in Titlecase (a name or a title, usually)
    ngram: int  # seed size
    # bool: the word is a figure (a digit first and no letter, a spelt-out number, a month); None: none is
    figure: np.ndarray | None = None

    @property
    def seeds(self) -> np.ndarray:
        """uint64 hash of the n-gram starting at each word (computed when asked: not stored)."""
        return ngram_hashes(self.words, self.ngram)


@dataclass(frozen=True, slots=True, eq=False)
class PassageBatch(Sequence[PassageFingerprint]):
    """The passage fingerprints of a batch of documents, as flat columns: document ``k``'s words
    are positions ``offsets[k]:offsets[k + 1]``. Six arrays, where a list of fingerprints would
    hold six per document (about 100 bytes of header each): this is how the map stage returns
    them and how the pipeline keeps them (:class:`PassageStore`). Character spans are int32 when
    every text is shorter than 2^31 characters. About 19 bytes a word."""

    words: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray
    titled: np.ndarray
    offsets: np.ndarray  # int64, one more than documents
    ngram: int
    figure: np.ndarray | None = None  # None: no word is a figure

    def __post_init__(self) -> None:
        if self.figure is None:
            object.__setattr__(self, "figure", np.zeros(len(self.words), dtype=bool))

    @classmethod
    def of(cls, fps: Sequence[PassageFingerprint], ngram: int) -> PassageBatch:
        """The fingerprints of a list, copied into columns."""
        sizes = np.fromiter((len(fp.words) for fp in fps), dtype=np.int64, count=len(fps))
        offsets = np.zeros(len(fps) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])

        def column(name: str, dtype: Any) -> np.ndarray:
            arrays = [
                np.zeros(len(fp.words), dtype) if getattr(fp, name) is None else getattr(fp, name)
                for fp in fps
            ]
            return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.empty(0, dtype=dtype)

        ends = column("ends", np.int64)
        offset_type = _offset_type(ends)
        return cls(
            column("words", np.uint64),
            column("starts", offset_type),
            ends.astype(offset_type),
            column("quoted", bool),
            column("titled", bool),
            offsets,
            ngram,
            column("figure", bool),
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, k: int) -> PassageFingerprint:  # type: ignore[override]
        a, b = int(self.offsets[k]), int(self.offsets[k + 1])
        return PassageFingerprint(
            self.words[a:b],
            self.starts[a:b],
            self.ends[a:b],
            self.quoted[a:b],
            self.titled[a:b],
            self.ngram,
            self.figure[a:b],  # type: ignore[index]
        )

    def __iter__(self):  # type: ignore[no-untyped-def]
        for k in range(len(self)):
            yield self[k]


def _ramps(sizes: np.ndarray) -> np.ndarray:
    """``0, 1, ..., sizes[k] - 1`` for each ``k``, one after the other."""
    total = int(sizes.sum())
    ends = np.cumsum(sizes)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - sizes, sizes)


class PassageStore(Sequence[PassageFingerprint]):
    """Passage fingerprints of many documents, kept in the batches the map stage made, never copied:
    document ``i`` is document ``rows[i]`` of ``batches[batch[i]]``. Reordering (:meth:`take`)
    moves the two index arrays only."""

    __slots__ = ("_first", "_groups", "_share_counts", "batch", "batches", "ngram", "rows")

    def __init__(self, batches: list[PassageBatch], batch: np.ndarray, rows: np.ndarray, ngram: int) -> None:
        self.batches, self.batch, self.rows, self.ngram = batches, batch, rows, ngram
        self._groups: list[tuple[PassageBatch, np.ndarray, np.ndarray]] | None = None
        self._first: np.ndarray | None = None
        self._share_counts: tuple[int, np.ndarray] | None = None  # (bits, seeds per batch and share)

    @classmethod
    def of(cls, fps: Sequence[PassageFingerprint] | PassageStore, ngram: int) -> PassageStore:
        """A store of these fingerprints (a store is returned as it is)."""
        if isinstance(fps, PassageStore):
            return fps
        batch = fps if isinstance(fps, PassageBatch) else PassageBatch.of(fps, ngram)
        return cls(
            [batch], np.zeros(len(batch), dtype=np.int32), np.arange(len(batch), dtype=np.int64), ngram
        )

    @classmethod
    def build(
        cls, parts: Sequence[tuple[PassageBatch, Sequence[int] | np.ndarray]], ngram: int
    ) -> PassageStore:
        """The documents ``rows`` of each ``(batch, rows)``, in that order."""
        rows = [np.asarray(r, dtype=np.int64) for _, r in parts]
        return cls(
            [b for b, _ in parts],
            np.repeat(np.arange(len(parts), dtype=np.int32), [len(r) for r in rows]),
            np.concatenate(rows) if rows else np.empty(0, dtype=np.int64),
            ngram,
        )

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> PassageFingerprint:  # type: ignore[override]
        return self.batches[self.batch[i]][self.rows[i]]

    def __iter__(self):  # type: ignore[no-untyped-def]
        for b, r in zip(self.batch.tolist(), self.rows.tolist()):
            yield self.batches[b][r]

    def take(self, rows: Sequence[int] | np.ndarray) -> PassageStore:
        """These documents, in this order (the same batches)."""
        rows = np.asarray(rows, dtype=np.int64)
        return PassageStore(self.batches, self.batch[rows], self.rows[rows], self.ngram)

    def __add__(self, other: PassageStore) -> PassageStore:  # type: ignore[override]
        other = PassageStore.of(other, self.ngram)
        return PassageStore(
            self.batches + other.batches,
            np.concatenate([self.batch, other.batch + len(self.batches)]),
            np.concatenate([self.rows, other.rows]),
            self.ngram,
        )

    def _by_batch(self) -> list[tuple[PassageBatch, np.ndarray, np.ndarray]]:
        """Per batch holding documents of this store: the batch, those documents (indices into the
        store) and their rows in the batch (found once: every pass over the seeds walks them)."""
        if self._groups is None:
            order = np.argsort(self.batch, kind="stable")
            cuts = np.searchsorted(self.batch[order], np.arange(len(self.batches) + 1))
            self._groups = [
                (batch, order[a:b], self.rows[order[a:b]])
                for batch, a, b in zip(self.batches, cuts[:-1].tolist(), cuts[1:].tolist())
                if b > a
            ]
        return self._groups

    def _firsts(self) -> np.ndarray:
        """Each document's first word's position in its batch (found once: 8 bytes a document)."""
        if self._first is None:
            first = np.empty(len(self.rows), dtype=np.int64)
            for batch, ids, rows in self._by_batch():
                first[ids] = batch.offsets[rows]
            self._first = first
        return self._first

    def _place(self, i: int) -> tuple[PassageBatch, int]:
        """Document ``i``'s batch and the position of its first word there."""
        return self.batches[self.batch[i]], int(self._firsts()[i])

    def words_of(self, i: int) -> np.ndarray:
        """Document ``i``'s word hashes (``self[i].words`` without building the fingerprint)."""
        batch, first = self._place(i)
        return batch.words[first : int(batch.offsets[self.rows[i] + 1])]

    def char_span(self, i: int, w0: int, w1: int) -> tuple[int, int]:
        """Where words ``[w0, w1)`` of document ``i`` lie in its text: the first one's start and
        the last one's end, in characters."""
        batch, first = self._place(i)
        return int(batch.starts[first + w0]), int(batch.ends[first + w1 - 1])

    def _in_batches(self, docs: np.ndarray) -> Iterator[tuple[PassageBatch, np.ndarray, np.ndarray]]:
        """For each batch holding some of ``docs``: the batch, where those documents are in
        ``docs`` and the position of each one's first word in the batch."""
        first = self._firsts()[docs]
        batch = self.batch[docs]
        order = np.argsort(batch, kind="stable")
        for at in np.split(order, np.flatnonzero(np.diff(batch[order])) + 1) if len(order) else []:
            yield self.batches[batch[at[0]]], at, first[at]

    def char_spans(self, docs: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`char_span` of many word spans at once: their start and end characters (int64)."""
        start = np.empty(len(docs), dtype=np.int64)
        end = np.empty(len(docs), dtype=np.int64)
        for src, at, first in self._in_batches(docs):
            start[at] = src.starts[first + w0[at]]
            end[at] = src.ends[first + w1[at] - 1]
        return start, end

    def word_runs(self, docs: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Words ``[w0, w1)`` of documents ``docs``, one after the other: the word hashes of span
        ``k`` are ``flat[offsets[k]:offsets[k + 1]]``."""
        sizes = (w1 - w0).astype(np.int64)
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        flat = np.empty(int(offsets[-1]), dtype=np.uint64)
        for src, at, first in self._in_batches(docs):
            n = sizes[at]
            ramp = _ramps(n)
            flat[np.repeat(offsets[at], n) + ramp] = src.words[np.repeat(first + w0[at], n) + ramp]
        return flat, offsets

    def all_quoted(self, docs: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        """Whether every word of each span ``[w0, w1)`` of ``docs`` lies inside quotation marks."""
        from .kernels import all_set

        out = np.empty(len(docs), dtype=bool)
        for src, at, first in self._in_batches(docs):
            out[at] = all_set(src.quoted, first + w0[at], first + w1[at])
        return out

    def seed_count(self) -> int:
        """How many seeds (n-gram occurrences) the documents hold."""
        return int(self._batch_seed_counts().sum())

    def _batch_seed_counts(self) -> np.ndarray:
        """How many seeds the documents of each batch of :meth:`_by_batch` hold."""
        return np.array(
            [
                int(np.maximum(batch.offsets[rows + 1] - batch.offsets[rows] - self.ngram + 1, 0).sum())
                for batch, _, rows in self._by_batch()
            ],
            dtype=np.int64,
        )

    def share_sizes(self, bits: int, threads: int = 1) -> np.ndarray:
        """How many seeds fall in each of the ``2^bits`` shares of the hash range (by top bits).

        Each batch is counted on its own (the batches shared among ``threads``: the compiled
        pass runs without the GIL), and the counts are kept: :meth:`seeds_in` places each batch's
        seeds of a share with them."""
        from .kernels import seed_shares

        groups = self._by_batch()
        if bits == 0:
            counts = self._batch_seed_counts().reshape(-1, 1)
        else:
            counts = np.zeros((len(groups), 1 << bits), dtype=np.int64)

            def count(k: int) -> None:
                batch, _, rows = groups[k]
                seed_shares(
                    batch.words,
                    batch.offsets[rows],
                    batch.offsets[rows + 1],
                    self.ngram,
                    64 - bits,
                    counts[k],
                )

            _on_threads(count, len(groups), threads)
        self._share_counts = (bits, counts)
        return counts.sum(axis=0)

    def seeds_in(
        self, bits: int, share: int, size: int, threads: int = 1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``size`` seeds whose hash's top ``bits`` are ``share`` (all of them when ``bits`` is 0):
        their hashes, documents (indices into this store, int32) and word positions (int32), each
        written once into arrays of their exact size by a compiled pass over each batch
        (:func:`dedupe.kernels.seeds_in`), batches in order. A document's seeds are contiguous,
        in position order. With the counts of :meth:`share_sizes` for these ``bits``, the
        batches are shared among ``threads``, each writing its own part of the arrays."""
        from .kernels import seeds_in

        groups = self._by_batch()
        hashes = np.empty(size, dtype=np.uint64)
        docs = np.empty(size, dtype=np.int32)
        pos = np.empty(size, dtype=np.int32)

        def write(k: int, start: int) -> int:
            """Batch ``k``'s seeds of the share, from ``start`` on; the position after them."""
            batch, ids, rows = groups[k]
            return seeds_in(
                batch.words, batch.offsets[rows], batch.offsets[rows + 1], ids.astype(np.int32),
                self.ngram, 64 - bits, share, hashes, docs, pos, start,
            )  # fmt: skip

        counted = self._share_counts
        if threads <= 1 or counted is None or counted[0] != bits:
            o = 0
            for k in range(len(groups)):
                o = write(k, o)
            assert o == size, "the share sizes were counted over the same seeds"
            return hashes, docs, pos
        ends = np.cumsum(counted[1][:, share]).tolist()
        assert not ends or ends[-1] == size, "the share sizes were counted over the same seeds"

        def fill(k: int) -> None:
            end = write(k, ends[k - 1] if k else 0)
            assert end == ends[k], "the share sizes were counted over the same seeds"

        _on_threads(fill, len(groups), threads)
        return hashes, docs, pos


def _on_threads(task: Callable[[int], None], n: int, threads: int) -> None:
    """``task(k)`` for ``k`` in ``range(n)``: in this thread, or on ``threads`` threads, each
    taking a contiguous run of ``k`` (for tasks whose compiled work releases the GIL)."""
    if threads <= 1 or n < 2:
        for k in range(n):
            task(k)
        return
    from concurrent.futures import ThreadPoolExecutor

    cuts = np.linspace(0, n, min(threads, n) + 1).astype(np.int64).tolist()

    def run(a: int, b: int) -> None:
        for k in range(a, b):
            task(k)

    with ThreadPoolExecutor(len(cuts) - 1) as pool:
        for f in [pool.submit(run, a, b) for a, b in zip(cuts, cuts[1:])]:
            f.result()


# Numbers spelt out, as figures: "three" aligns with "3" (a copy edit), and differs from "30"
NUMBER_WORDS = {
    w: str(v)
    for v, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {w: str(10 * v) for v, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
# Months are figures too (a date): a notice's "Payable April 1" differs from "Payable March 31".
# "May" is left out: it is mostly the verb.
MONTH_WORDS = "january february march april june july august september october november december".split()
_NUMBER_HASHES: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per hash seed: word hashes, figure hashes


def as_figures(words: np.ndarray, figure: np.ndarray, shingler: Shingler) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes with each spelt-out number (:data:`NUMBER_WORDS`, lower case or capitalised)
    replaced by the hash of its digits, and the figure flags with those words and the months
    (:data:`MONTH_WORDS`) set: the passage stage compares figures by value, and a template's
    "six cts" differs from "30 cts"."""
    table = _NUMBER_HASHES.get(shingler.seed)
    if table is None:
        value = NUMBER_WORDS | {m: m for m in MONTH_WORDS}
        names = [*value, *(w.capitalize() for w in value)]
        keys = shingler.token_hashes(names)
        values = shingler.token_hashes(
            [value[w.lower()] if w.islower() else value[w.lower()].capitalize() for w in names]
        )
        order = np.argsort(keys)
        table = _NUMBER_HASHES[shingler.seed] = (keys[order], values[order])
    keys, values = table
    if not len(words):
        return words, figure
    at = np.minimum(np.searchsorted(keys, words), len(keys) - 1)
    hit = keys[at] == words
    if not hit.any():
        return words, figure
    return np.where(hit, values[at], words), figure | hit


def fingerprint(text: str, shingler: Shingler, cfg: PassagesConfig) -> PassageFingerprint:
    toks = tokenize(text, shingler.normalize)
    words = shingler.token_hashes(toks.words) if toks.words else np.empty(0, dtype=np.uint64)
    starts = np.asarray(toks.starts, dtype=np.int64)
    ends = np.asarray(toks.ends, dtype=np.int64)
    fp = _fingerprint_of_words(text, words, starts, ends, cfg)
    words, figure = as_figures(fp.words, fp.figure, shingler)  # type: ignore[arg-type]
    return dataclasses.replace(fp, words=words, figure=figure)


def fingerprints(
    texts: Sequence[str], shingler: Shingler, cfg: PassagesConfig, words: AsciiWords | None = None
) -> PassageBatch:
    """:func:`fingerprint` of each text, as one batch. The ASCII texts take compiled passes over
    the whole batch: one cuts, folds and hashes their words (:meth:`dedupe.shingle.Shingler.ascii_words`),
    the same words, and one sets the words' quotation and Titlecase flags
    (:func:`dedupe.kernels.ascii_word_flags`), as :func:`quote_regions` and :func:`_titled` do
    one text at a time (hypothesis holds them equal); their columns are the batch's as they are.
    ``words``: :meth:`~dedupe.shingle.Shingler.ascii_words` of these texts, when already cut."""
    if words is None:
        words = shingler.ascii_words(texts)
    if words is None:
        return PassageBatch.of([fingerprint(t, shingler, cfg) for t in texts], cfg.ngram)
    from .kernels import ascii_word_flags

    quoted, titled, figure = ascii_word_flags(
        words.buf, words.doc_starts, words.doc_ends, words.starts, words.ends, words.offsets
    )
    hashes, figure = as_figures(words.hashes, figure, shingler)  # a copy: the shingles use words.hashes
    if len(words.rows) == len(texts):
        kind = _offset_type(words.ends)
        return PassageBatch(
            hashes,
            words.starts.astype(kind),
            words.ends.astype(kind),
            quoted,
            titled,
            words.offsets,
            cfg.ngram,
            figure,
        )
    fps: list[PassageFingerprint | None] = [None] * len(texts)
    bounds = words.offsets.tolist()
    for k, i in enumerate(words.rows):
        a, b = bounds[k], bounds[k + 1]
        fps[i] = PassageFingerprint(
            hashes[a:b],
            words.starts[a:b],
            words.ends[a:b],
            quoted[a:b],
            titled[a:b],
            cfg.ngram,
            figure[a:b],
        )
    return PassageBatch.of(
        [fingerprint(t, shingler, cfg) if fp is None else fp for fp, t in zip(fps, texts)], cfg.ngram
    )


def _fingerprint_of_words(
    text: str, words: np.ndarray, starts: np.ndarray, ends: np.ndarray, cfg: PassagesConfig
) -> PassageFingerprint:
    quoted = np.zeros(len(starts), dtype=bool)
    for a, b in quote_regions(text):
        lo, hi = np.searchsorted(starts, a, "left"), np.searchsorted(ends, b, "right")
        quoted[lo:hi] = True
    titled = _titled(text, starts, ends)
    figure = np.fromiter(
        (
            text[a].isdigit() and not any(c.isalpha() for c in text[a:b])
            for a, b in zip(starts.tolist(), ends.tolist())
        ),
        dtype=bool,
        count=len(starts),
    )  # a digit first and no letter: OCR's "1ower" for "lower" is no figure
    return PassageFingerprint(words, starts, ends, quoted, titled, cfg.ngram, figure)


def _titled(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """:func:`_is_titled` of every word; vectorised for ASCII text."""
    if not text.isascii() or not len(starts):
        return np.fromiter(
            (_is_titled(text[a:b]) for a, b in zip(starts.tolist(), ends.tolist())),
            dtype=bool,
            count=len(starts),
        )
    b = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    lower = ((b >= 97) & (b <= 122)).astype(np.int32)
    # between one word's end and the next word's start stand only spaces and punctuation, so
    # counting lower-case letters from one start to the next counts them inside the word
    has_lower = np.add.reduceat(lower, starts) > 0
    first = b[starts]
    return (first >= 65) & (first <= 90) & has_lower


def _is_titled(word: str) -> bool:
    """``Carney``, ``Minister``: a capital first letter and lowercase after it (``U.S.``, ``NATO`` are not)."""
    return word[:1].isupper() and not word.isupper()


def _json_float(x: float) -> str:
    """A share rounded to 4 decimals as ``json`` writes it."""
    return float.__repr__(round(float(x), 4))


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where a passage occurs: ``text == document_text[start:end]``, as printed."""

    doc: str
    start: int
    end: int
    similarity: float  # share of this occurrence's words aligned to the canonical text
    coverage: float  # share of the canonical text's words this occurrence reproduces
    quoted: bool  # every word lies inside quotation marks
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "similarity": round(self.similarity, 4),
            "coverage": round(self.coverage, 4),
            "quoted": self.quoted,
            "text": self.text,
        }

    def to_json(self) -> str:
        """``json`` encoding of :meth:`to_dict` (``ensure_ascii=False``), written directly: a large
        result holds hundreds of thousands of these."""
        return (
            f'{{"doc": {_json_str(self.doc)}, "start": {self.start:d}, "end": {self.end:d}, '
            f'"similarity": {_json_float(self.similarity)}, "coverage": {_json_float(self.coverage)}, '
            f'"quoted": {"true" if self.quoted else "false"}, "text": {_json_str(self.text)}}}'
        )


CATEGORIES = ("reuse", "quotation", "template", "boilerplate")  # in the order groups are listed


@dataclass(frozen=True, slots=True)
class PassageGroup:
    """One reused passage: its canonical text and every place it occurs.

    ``category`` says what the evidence makes of it (:func:`classify_groups`): ``reuse`` (text
    reused), ``quotation`` (quoted in at least two documents), ``template`` (wording shared by
    notices that state different figures: most of its alignments join documents whose aligned
    text differs in a figure) or ``boilerplate`` (navigation, bylines, footers: in many documents, at their edges,
    a small part of each)."""

    id: str
    text: str
    doc: str
    start: int
    end: int
    quotation: bool  # quoted in at least two documents
    occurrences: tuple[Occurrence, ...]
    category: str = "reuse"

    @property
    def documents(self) -> int:
        return len({o.doc for o in self.occurrences})

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "quotation": self.quotation,
            "category": self.category,
            "documents": self.documents,
            "occurrences": [o.to_dict() for o in self.occurrences],
        }

    def to_json(self) -> str:
        """``json`` encoding of :meth:`to_dict` (``ensure_ascii=False``), written directly."""
        return (
            f'{{"id": {_json_str(self.id)}, "text": {_json_str(self.text)}, "doc": {_json_str(self.doc)}, '
            f'"start": {self.start:d}, "end": {self.end:d}, "quotation": {"true" if self.quotation else "false"}, '
            f'"category": {_json_str(self.category)}, "documents": {self.documents:d}, "occurrences": [{", ".join(o.to_json() for o in self.occurrences)}]}}'
        )


@dataclass(frozen=True, slots=True)
class ReusePair:
    a: str
    b: str
    shared_chars_a: int
    shared_chars_b: int
    fraction_a: float
    fraction_b: float
    passages: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "shared_chars_a": self.shared_chars_a,
            "shared_chars_b": self.shared_chars_b,
            "fraction_a": round(self.fraction_a, 4),
            "fraction_b": round(self.fraction_b, 4),
            "passages": list(self.passages),
        }

    def to_json(self) -> str:
        """``json`` encoding of :meth:`to_dict` (``ensure_ascii=False``), written directly."""
        return (
            f'{{"a": {_json_str(self.a)}, "b": {_json_str(self.b)}, "shared_chars_a": {self.shared_chars_a:d}, '
            f'"shared_chars_b": {self.shared_chars_b:d}, "fraction_a": {_json_float(self.fraction_a)}, '
            f'"fraction_b": {_json_float(self.fraction_b)}, "passages": [{", ".join(map(_json_str, self.passages))}]}}'
        )


@dataclass(frozen=True, slots=True)
class ReuseCluster:
    id: str
    members: tuple[str, ...]
    pairs: tuple[ReusePair, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "size": len(self.members),
            "members": list(self.members),
            "pairs": [p.to_dict() for p in self.pairs],
        }

    def to_json(self) -> str:
        """``json`` encoding of :meth:`to_dict` (``ensure_ascii=False``), written directly."""
        return (
            f'{{"id": {_json_str(self.id)}, "size": {len(self.members):d}, '
            f'"members": [{", ".join(map(_json_str, self.members))}], '
            f'"pairs": [{", ".join(p.to_json() for p in self.pairs)}]}}'
        )


@dataclass(frozen=True, slots=True)
class Alignment:
    """Word spans ``[a0, a1)`` of document ``a`` and ``[b0, b1)`` of ``b`` that align (a < b).
    ``conflicts``: where the two sides state different figures: at its two ends (it is a piece of
    a longer alignment cut there, or the figures stand just past it), plus the figures one side
    replaces by others inside it (see :func:`dedupe.kernels.align_runs`; at most 127)."""

    a: int
    a0: int
    a1: int
    b: int
    b0: int
    b1: int
    similarity: float
    conflicts: int = 0


class Alignments:
    """Alignments as columns, in pair order: ``cols`` rows ``(a, a0, a1, b, b0, b1)`` (an
    ``n x 6`` int64 array), each one's ``similarity`` and ``conflicts`` (see :class:`Alignment`). Iterating gives :class:`Alignment` records; the stages that follow read
    the columns (a million records cost seconds to build, pickle and read back, the arrays almost
    nothing)."""

    __slots__ = ("cols", "conflicts", "similarity")

    def __init__(self, cols: np.ndarray, similarity: np.ndarray, conflicts: np.ndarray | None = None) -> None:
        self.cols = np.asarray(cols, dtype=np.int64).reshape(-1, 6)
        self.similarity = np.asarray(similarity, dtype=np.float64)
        self.conflicts = (
            np.zeros(len(self.cols), dtype=np.int8)
            if conflicts is None
            else np.asarray(conflicts, dtype=np.int8)
        )

    @classmethod
    def concat(cls, parts: Sequence[Alignments]) -> Alignments:
        if not parts:
            return cls(np.empty((0, 6), np.int64), np.empty(0, np.float64))
        return cls(
            np.concatenate([p.cols for p in parts]),
            np.concatenate([p.similarity for p in parts]),
            np.concatenate([p.conflicts for p in parts]),
        )

    def take(self, rows: np.ndarray) -> Alignments:
        return Alignments(self.cols[rows], self.similarity[rows], self.conflicts[rows])

    def __len__(self) -> int:
        return len(self.cols)

    def __iter__(self) -> Iterator[Alignment]:
        return map(Alignment, *self.cols.T.tolist(), self.similarity.tolist(), self.conflicts.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Alignments):
            return NotImplemented
        return (
            np.array_equal(self.cols, other.cols)
            and np.array_equal(self.similarity, other.similarity)
            and np.array_equal(self.conflicts, other.conflicts)
        )

    def __repr__(self) -> str:
        return f"Alignments({len(self)} rows)"


_SEED_SHARE = 1 << 25  # seeds grouped at once: about 1 GB of working memory, plus their pairs


class _OverBudget(Exception):
    """Raised inside :func:`seed_pairs` when one part's pairs would exceed its budget."""


def seed_pairs(
    fps: Sequence[PassageFingerprint],
    cfg: PassagesConfig,
    involving: np.ndarray | None = None,
    frequent: np.ndarray | None = None,
    threads: int = 1,
    part: tuple[int, int] = (0, 1),
    budget: int | None = None,
) -> np.ndarray:
    """Rows ``(doc_a, pos_a, doc_b, pos_b)``, doc_a < doc_b, for every shared seed, in
    (doc_a, doc_b, pos_a, pos_b) order.

    A seed found in at most ``cfg.max_ngram_docs`` documents (and at most four times as often)
    pairs every two of its occurrences in two documents. A seed found more widely is paired as a
    star: each occurrence with the seed's first occurrence in its smallest document (the hub), so
    text printed in k documents costs k rows, not k^2/2, and is never dropped for being popular.

    ``involving`` (a bool per document), when given, keeps only pairs holding a document it marks;
    ``frequent`` lists seed hashes to pair as stars whatever their frequency here (an index query
    knows frequencies over more documents than it loads). ``part``
    ``(p, P)`` keeps only the document pairs of part ``p`` of ``P`` (a hash of the pair: all rows
    of one document pair fall in one part), so the stage can make its pairs in ``P`` passes.

    Seeds are not stored: they are computed from the words, one share of the hash range at a time
    (:meth:`PassageStore.seeds_in`), so that about ``2^25`` at most are grouped at once
    whatever the corpus size. With ``budget``, raises :class:`_OverBudget` before making more as
    soon as the pairs (all parts counted) would outnumber it.
    """
    out, bound = [], 0
    for seeds in _seed_shares(fps, cfg, threads):
        room = None if budget is None else budget - bound
        pairs, share_bound = _share_pairs(*seeds, cfg, involving, frequent, room, threads, part)
        bound += share_bound
        if budget is not None and bound > budget:
            raise _OverBudget(bound)
        out.append(pairs)
        del pairs
    return _sorted_rows(out)


def seed_pair_count(
    fps: Sequence[PassageFingerprint],
    cfg: PassagesConfig,
    frequent: np.ndarray | None = None,
    threads: int = 1,
) -> int:
    """An upper bound on the rows :func:`seed_pairs` makes over all parts (a seed repeated in one
    document counts its pairs there too), counted without making any."""
    return sum(
        _share_pairs(*seeds, cfg, None, frequent, -1, threads)[1] for seeds in _seed_shares(fps, cfg, threads)
    )


def _seed_shares(
    fps: Sequence[PassageFingerprint], cfg: PassagesConfig, threads: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The seeds of ``fps``, one share of the hash range at a time (about ``_SEED_SHARE`` seeds
    each): their hashes, documents and positions (:meth:`PassageStore.seeds_in`)."""
    store = PassageStore.of(fps, cfg.ngram)
    total = store.seed_count()
    bits = max(0, int(np.ceil(np.log2(total / _SEED_SHARE)))) if total else 0
    sizes = store.share_sizes(bits, threads).tolist()
    for share, size in enumerate(sizes):
        yield store.seeds_in(bits, share, size, threads)


def _sorted_rows(parts: list[np.ndarray]) -> np.ndarray:
    """The seed rows ``(doc_a, pos_a, doc_b, pos_b)`` of all ``parts`` (emptied as they are read),
    in (doc_a, doc_b, pos_a, pos_b) order.

    When the four fit in 64 bits together (unless documents are both very many and very long),
    each part's rows are packed into one key per row by a compiled pass, the part is freed, the
    keys are sorted by numpy's vectorised sort and the rows read back from them by another pass:
    about ten times as fast as ``lexsort`` over the four columns (5 s against 51 s for the 38M
    rows of 20,000 news-like documents), and the rows are never held twice."""
    from .kernels import pack_seed_rows, unpack_seed_rows

    parts[:] = [p for p in parts if len(p)]
    if not parts:
        return np.empty((0, 4), dtype=np.int64)
    doc_bits = max(max(int(p[:, 0].max()), int(p[:, 2].max())) for p in parts).bit_length() or 1
    pos_bits = max(max(int(p[:, 1].max()), int(p[:, 3].max())) for p in parts).bit_length() or 1
    if 2 * (doc_bits + pos_bits) > 64:
        rows = np.concatenate(parts)
        parts.clear()
        return rows[np.lexsort((rows[:, 3], rows[:, 1], rows[:, 2], rows[:, 0]))]
    key = np.empty(sum(len(p) for p in parts), dtype=np.uint64)
    at = 0
    while parts:
        part = parts.pop(0)
        pack_seed_rows(part, doc_bits, pos_bits, key, at)
        at += len(part)
        del part
    key.sort()
    return unpack_seed_rows(key, doc_bits, pos_bits)


def _share_pairs(
    hashes: np.ndarray,
    docs: np.ndarray,
    pos: np.ndarray,
    cfg: PassagesConfig,
    involving: np.ndarray | None,
    frequent: np.ndarray | None,
    room: int | None,
    threads: int = 1,
    part: tuple[int, int] = (0, 1),
) -> tuple[np.ndarray, int]:
    """:func:`seed_pairs` of one share of the seeds (unsorted rows), and a bound on the rows its
    seeds make over all parts (the budget's count); none are made when that exceeds ``room``."""
    groups = _share_groups(hashes, docs, cfg, frequent, threads)
    if groups is None:
        return np.empty((0, 4), dtype=np.int64), 0
    bound = int(groups.bounds.sum())
    if room is not None and bound > room:  # never made: the caller raises or only counts
        return np.empty((0, 4), dtype=np.int64), bound
    return groups.pairs(docs, pos, involving, part), bound


@dataclass
class _ShareGroups:
    """One share's seeds grouped by hash: each occurrence's group (-1: a seed found once), and per
    group whether it is paired (``keep``: in two documents at least), as a star, its occurrences
    and a bound on the rows it makes (``bounds``)."""

    group: np.ndarray
    keep: np.ndarray
    star: np.ndarray
    sizes: np.ndarray
    bounds: np.ndarray

    def pairs(
        self,
        docs: np.ndarray,
        pos: np.ndarray,
        involving: np.ndarray | None,
        part: tuple[int, int] = (0, 1),
        groups: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """The rows of the kept groups (of ``groups``, a range of them, when given)."""
        from .kernels import seed_group_pairs

        keep = self.keep
        if groups is not None:
            keep = np.zeros_like(keep)
            keep[groups[0] : groups[1]] = self.keep[groups[0] : groups[1]]
        marked = np.zeros(0, dtype=bool) if involving is None else np.asarray(involving, dtype=bool)
        return seed_group_pairs(self.group, docs, pos, keep, self.star, self.sizes, marked, part[1], part[0])

    def ranges(self, most: int) -> list[tuple[int, int]]:
        """Consecutive ranges of groups, each making at most ``most`` rows (a group making more
        is a range of its own)."""
        ends = np.cumsum(self.bounds)
        out, g0, made = [], 0, 0
        while g0 < len(ends) and made < int(ends[-1]):
            g1 = int(np.searchsorted(ends, made + most, side="right"))
            g1 = max(g1, int(np.searchsorted(ends, made, side="right")) + 1)  # one group that makes rows
            out.append((g0, g1))
            made, g0 = int(ends[g1 - 1]), g1
        return out


def _share_groups(
    hashes: np.ndarray, docs: np.ndarray, cfg: PassagesConfig, frequent: np.ndarray | None, threads: int
) -> _ShareGroups | None:
    """One share's seeds grouped (None when no seed repeats)."""
    from .kernels import seed_groups

    # most seeds occur once: a sort of the hashes alone finds the repeated ones; the occurrences of
    # those are counted and paired by group in compiled passes, never sorted
    repeated = _repeated(hashes, threads)
    if not len(repeated):
        return None
    group = _value_index(hashes, repeated, threads)
    sizes, doc_freq = seed_groups(group, docs, len(repeated))
    keep = doc_freq >= 2
    # widely shared seeds (or seeds repeated too often to pair) are paired as stars: linear work
    star = keep & ((doc_freq > cfg.max_ngram_docs) | (sizes > 4 * cfg.max_ngram_docs))
    if frequent is not None and len(frequent):
        star |= keep & np.isin(repeated, frequent)
    sizes64 = sizes.astype(np.int64)
    bounds = np.where(star, sizes64 - 1, sizes64 * (sizes64 - 1) // 2) * keep
    return _ShareGroups(group, keep, star, sizes, bounds)


def _repeated(hashes: np.ndarray, threads: int) -> np.ndarray:
    """The values occurring more than once in ``hashes``, ascending, each once: numpy sorts the
    hashes (in two halves on two threads when there are many: its sort runs without the GIL),
    and a compiled walk over the sorted halves keeps the repeated values
    (:func:`dedupe.kernels.repeated_values`)."""
    from concurrent.futures import ThreadPoolExecutor

    from .kernels import repeated_values

    if threads <= 1 or len(hashes) < 1 << 20:
        return repeated_values(np.sort(hashes), hashes[:0])
    half = len(hashes) // 2
    with ThreadPoolExecutor(2) as pool:  # two halves whatever the threads: the walk merges two
        first, second = pool.map(np.sort, (hashes[:half], hashes[half:]))
    return repeated_values(first, second)


def _value_index(keys: np.ndarray, values: np.ndarray, threads: int) -> np.ndarray:
    """:func:`dedupe.kernels.value_index` (each key's index among the unique ``values``, or -1),
    the keys cut into one run per thread when there are many (each run probes its own table)."""
    from .kernels import value_index

    if threads <= 1 or len(keys) < 1 << 20:
        return value_index(keys, values)
    out = np.empty(len(keys), dtype=np.int32)
    cuts = np.linspace(0, len(keys), threads + 1).astype(np.int64).tolist()

    def part(k: int) -> None:
        out[cuts[k] : cuts[k + 1]] = value_index(keys[cuts[k] : cuts[k + 1]], values)

    _on_threads(part, threads, threads)
    return out


def matching_blocks(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int, int]]:
    """``(i, j, size)`` runs of equal words in ``a`` and ``b``, in order: difflib's matching blocks
    (``SequenceMatcher(None, a, b, autojunk=False)``) over word hashes, computed by a compiled
    kernel that a hypothesis test holds equal to difflib (:func:`dedupe.kernels.matching_blocks`)."""
    from .kernels import matching_blocks as blocks

    return [tuple(row) for row in blocks(a, b).tolist()]


def matched_words(a: np.ndarray, b: np.ndarray) -> int:
    """How many words of ``a`` and ``b`` align, in order."""
    return sum(size for _, _, size in matching_blocks(a, b))


def min_seeds(cfg: PassagesConfig) -> int:
    """Seeds a document pair needs before it can hold an alignment long enough to report.

    The shortest reportable alignment shares ``min(min_words, min_quote_words)`` words; when that
    exceeds the seed size, its words cannot all come from one seed (a run of k equal words holds
    k - n + 1 seeds, and shorter runs hold none), so one seed is not enough.
    """
    return 2 if min(cfg.min_words, cfg.min_quote_words) > cfg.ngram else 1


def alignable(seeds: np.ndarray, cfg: PassagesConfig) -> tuple[np.ndarray, np.ndarray]:
    """Runs of ``seeds`` rows (as :func:`seed_pairs` gives them, sorted) that belong to one document
    pair holding enough chainable seeds to make a reportable alignment: their starts and sizes.

    When a pair needs two seeds (:func:`min_seeds`), two of them must lie within ``ngram +
    max_gap`` words of each other, in order, in both documents: each seed is compared with the
    next three of its pair (more than one, so that an n-gram repeated in one document does not
    hide a link). A pair without such a link cannot chain two seeds, so it cannot hold a
    reportable alignment. One compiled pass (:func:`dedupe.kernels.alignable_runs`)."""
    from .kernels import alignable_runs

    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1, 4)
    return alignable_runs(seeds, min_seeds(cfg), cfg.ngram + cfg.max_gap, 3)


def align_all(
    fps: Sequence[PassageFingerprint],
    cfg: PassagesConfig,
    involving: np.ndarray | None = None,
    frequent: np.ndarray | None = None,
    engine: Any = None,
    stats: dict[str, Any] | None = None,
    tick: Callable[[int, int], None] | None = None,
) -> Alignments:
    """Alignments of every document pair worth aligning, in pair order.

    The seed rows are made once, share by share (:class:`_SeedRows`): held while they fit in
    ``cfg.max_seed_pairs``, past it spilled to disk by document pair and aligned in passes of about
    two thirds of the budget: slower, in bounded memory, never skipped. ``stats``, when given,
    receives the rows made, the passes and the bytes spilled.

    With an ``engine`` of several workers, the pairs are aligned in parallel: the fingerprints
    and the seed rows are published before the workers fork (so they share them instead of
    receiving copies) and each task carries only its runs' bounds; the result is the same.
    """
    workers = getattr(engine, "workers", 1) if engine is not None else 1
    found, rows, passes = [], 0, 0
    with _SeedRows(fps, cfg) as made:  # its files and directory go when the stage ends or fails
        for share in _seed_shares(fps, cfg, workers):
            made.add_share(share, involving, frequent, workers)
        parts, planned = made.rows()
        with contextlib.closing(parts):
            for p, seeds in enumerate(parts):
                passes += 1
                rows += len(seeds)
                if not len(seeds):
                    continue
                starts, sizes = alignable(seeds, cfg)

                def aligned(done: int, total: int, p: int = p) -> None:  # progress in thousandths
                    if tick is not None:
                        tick(min(1000 * p + 1000 * done // max(total, 1), 1000 * planned), 1000 * planned)

                if engine is not None and workers > 1 and len(starts) > _PARALLEL_PAIRS:
                    found.append(_align_parallel(fps, cfg, seeds, starts, sizes, engine, aligned))
                else:
                    found.append(_align_runs(fps, cfg, seeds, starts, sizes))
                    aligned(1, 1)
                del seeds
    if stats is not None:
        stats.update(
            seed_pairs=rows, passage_passes=max(passes, 1), seed_pairs_spilled_bytes=made.spilled_bytes
        )
    if len(found) <= 1:
        return found[0] if found else Alignments.concat([])
    joined = Alignments.concat(found)
    return joined.take(np.lexsort((joined.cols[:, 3], joined.cols[:, 0])))  # pair order, each pair's kept


_SPILL_FILES = 64  # files the rows are spilled to, by document pair (open at once while spilling)


class _SeedRows:
    """Where the seed rows go as the shares of seeds are grouped: kept in memory while their
    bound stays within ``passages.max_seed_pairs``, and past it spilled to disk. Then every row
    is made once, whatever the size of the corpus, and every share is grouped once.

    Spilled rows go to one of :data:`_SPILL_FILES` files by a hash of their document pair
    (:func:`dedupe.kernels.route_seed_rows`; every row of one pair in one file), as int32 (16 bytes
    a row: the seed pass makes documents and positions int32). The files are read back in passes of
    about two thirds of the budget: consecutive files together, or one file split again by the same
    hash when it alone is larger (at most :data:`_SPILL_FILES` ways: the rows of one document pair
    cannot be split, they are aligned together). (Made again for each pass, the rows cost the
    whole seed stage once per pass: 14 passes took 41 of the 72 s of 30,000 copies of one long
    story.) The files live in a temporary directory (``TMPDIR``), each removed once read, the
    directory when the stage ends or fails (use it as a context manager). Every write is checked
    and every file's size too before it is read: a full disk is the system's refusal (exit 7, the
    file named), never rows silently lost."""

    def __init__(self, fps: Sequence[PassageFingerprint], cfg: PassagesConfig) -> None:
        self.fps, self.cfg, self.budget = fps, cfg, cfg.max_seed_pairs
        self.held: list[np.ndarray] = []
        self.bound = 0  # the held rows' bound (the budget's count)
        self.dir: Any = None  # the spill directory, once the budget is passed
        self.paths: list[str] = []
        self.files: list[Any] = []
        self.sizes = np.zeros(_SPILL_FILES, dtype=np.int64)  # rows in each file
        self.spilled_bytes = 0

    def __enter__(self) -> _SeedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the spill files and remove the directory (nothing when nothing was spilled)."""
        files, self.files = self.files, []
        for f in files:
            with contextlib.suppress(OSError):  # the error that stopped the stage is the one to say
                f.close()
        if self.dir is not None:
            self.dir.cleanup()

    def add_share(
        self, seeds: tuple[np.ndarray, np.ndarray, np.ndarray], involving: Any, frequent: Any, threads: int
    ) -> None:
        """Group one share of seeds and make its rows: held while the budget allows, else spilled
        (a range of groups at a time when the share's rows alone would pass the budget)."""
        hashes, docs, pos = seeds
        groups = _share_groups(hashes, docs, self.cfg, frequent, threads)
        if groups is None:
            return
        bound = int(groups.bounds.sum())
        if self.dir is None and self.bound + bound <= self.budget:
            self.held.append(groups.pairs(docs, pos, involving))
            self.bound += bound
            return
        if self.dir is None:  # the budget is passed: what is held goes to disk first
            self._start_spilling()
        if bound <= self.budget:
            self._spill(groups.pairs(docs, pos, involving))
            return
        for span in groups.ranges(max(1, 2 * self.budget // 3)):
            self._spill(groups.pairs(docs, pos, involving, groups=span))

    def _start_spilling(self) -> None:
        import tempfile

        self.dir = tempfile.TemporaryDirectory(prefix="dedupe-seed-rows-")
        self.paths = [os.path.join(self.dir.name, f"part-{p:03d}.rows") for p in range(_SPILL_FILES)]
        self.files = [open(path, "wb") for path in self.paths]  # noqa: SIM115 (closed by close())
        while self.held:
            self._spill(self.held.pop(0))

    def _spill(self, rows: np.ndarray) -> None:
        """Append each of ``rows`` to its file."""
        with _spilling(self.dir.name):
            self.sizes += _route(rows, _SPILL_FILES, self.files)
        self.spilled_bytes += 16 * len(rows)

    def rows(self) -> tuple[Iterator[np.ndarray], int]:
        """The rows in passes, each in (doc_a, doc_b, pos_a, pos_b) order, and about how many
        passes (the progress total: empty parts of a split file are not passes)."""
        if self.dir is None:
            held, self.held = self.held, []
            return (rows for rows in [_sorted_rows(held)]), 1  # a generator: closed like the others
        files, self.files = self.files, []
        with _spilling(self.dir.name):
            for f in files:
                f.close()  # a write the system refused at the last flush raises here
        target = max(1, 2 * self.budget // 3)
        plan: list[list[int]] = [[]]  # consecutive files read together
        for p, n in enumerate(self.sizes.tolist()):
            if plan[-1] and int(self.sizes[plan[-1]].sum()) + n > target:
                plan.append([])
            plan[-1].append(p)
        totals = [int(self.sizes[g].sum()) for g in plan]
        splits = [min(_SPILL_FILES, -(-n // target)) if n > target else 1 for n in totals]
        return self._passes(plan, splits), sum(splits)

    def _passes(self, plan: list[list[int]], splits: list[int]) -> Iterator[np.ndarray]:
        for files, split in zip(plan, splits):
            if split == 1:
                rows = [_read_rows(self.paths[p], int(self.sizes[p])) for p in files]
                yield _sorted_rows(rows)
            else:  # one file larger than a pass: split again by the same hash, finer
                yield from self._split(files[0], split)

    def _split(self, p: int, split: int) -> Iterator[np.ndarray]:
        """File ``p``'s rows in up to ``split`` passes: read a pass's worth at a time and routed by
        the pair hash modulo ``_SPILL_FILES * split`` (its rows all fall on ``p`` modulo the files)."""
        path = self.paths[p]
        _check_size(path, int(self.sizes[p]))
        subs = [f"{path}.{k:02d}" for k in range(split)]
        sizes = np.zeros(split, dtype=np.int64)
        step = max(1, 2 * self.budget // 3)
        with _spilling(self.dir.name), contextlib.ExitStack() as stack:
            files = [stack.enter_context(open(sub, "wb")) for sub in subs]
            source = np.memmap(path, dtype=np.int32, mode="r").reshape(-1, 4)
            try:
                for start in range(0, len(source), step):
                    chunk = np.asarray(source[start : start + step], dtype=np.int64)
                    counts = _route(chunk, _SPILL_FILES * split, files, p, _SPILL_FILES)
                    sizes += counts.reshape(split, _SPILL_FILES)[:, p]
            finally:
                del source
        os.unlink(path)
        for sub, n in zip(subs, sizes.tolist()):
            rows = _read_rows(sub, n)
            if len(rows):
                yield _sorted_rows([rows])


def _route(rows: np.ndarray, parts: int, files: list[Any], base: int = 0, stride: int = 1) -> np.ndarray:
    """Append each of ``rows`` (as int32) to the file of its part (:func:`dedupe.kernels.route_seed_rows`):
    part ``q`` goes to ``files[(q - base) // stride]`` (``files[q]``; when file ``base`` is split
    again, its rows' parts are all ``base`` modulo the files, hence ``stride``); returns the rows
    each part got."""
    from .kernels import route_seed_rows

    counts = np.zeros(parts, dtype=np.int64)
    if not len(rows):
        return counts
    out = np.empty(rows.shape, dtype=np.int32)
    bounds = route_seed_rows(rows, parts, out)
    del rows
    for q in np.flatnonzero(np.diff(bounds)).tolist():
        files[(q - base) // stride].write(memoryview(out[bounds[q] : bounds[q + 1]]).cast("B"))
    return np.diff(bounds)


@contextlib.contextmanager
def _spilling(where: str) -> Iterator[None]:
    """The system's refusal to write spilled rows (a full disk), said with where they go."""
    try:
        yield
    except OSError as err:
        if err.filename:
            raise
        raise OSError(err.errno, f"cannot spill seed rows ({err.strerror or err})", where) from err


def _check_size(path: str, rows: int) -> None:
    """A spill file must hold the rows written to it: anything else is the system's refusal."""
    size = os.path.getsize(path)
    if size != 16 * rows:
        raise OSError(errno.EIO, f"spilled seed rows lost ({size} bytes, {16 * rows} written)", path)


def _read_rows(path: str, rows: int) -> np.ndarray:
    """A spill file's rows (checked), the file removed."""
    _check_size(path, rows)
    out = np.fromfile(path, dtype=np.int32).reshape(-1, 4)
    os.unlink(path)
    return out


_PARALLEL_PAIRS = 2000  # fewer pairs than this are aligned in process: a pool costs more
_SHARED: dict[str, Any] = {}  # the fingerprints forked workers align against


def _align_runs(
    fps: Sequence[PassageFingerprint],
    cfg: PassagesConfig,
    seeds: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
) -> Alignments:
    """Align the document pairs whose seed rows are ``seeds[starts[k] : starts[k] + sizes[k]]``.

    A pair's seeds are chained into runs of nearby seeds, each run is extended over equal words and
    across small edits, kept if long and similar enough (and not a string of names), and runs
    lying inside another of the pair are dropped. :func:`dedupe.kernels.align_runs` does all this,
    compiled, for all the pairs whose documents lie in the same two passage batches at once,
    reading the batches in place; the alignments come back in pair order.
    """
    from .kernels import align_runs

    store = PassageStore.of(fps, cfg.ngram)
    params = np.array([cfg.ngram, cfg.max_gap, min_seeds(cfg), cfg.min_words, cfg.min_quote_words], np.int64)
    limits = np.array([cfg.min_similarity, cfg.max_name_share], np.float64)
    doc_a, doc_b = seeds[starts, 0], seeds[starts, 2]
    batch_a, batch_b = store.batch[doc_a].astype(np.int64), store.batch[doc_b].astype(np.int64)
    rows_a, rows_b = store.rows[doc_a], store.rows[doc_b]
    order = np.argsort(batch_a * len(store.batches) + batch_b, kind="stable")
    cuts = np.flatnonzero(np.diff(batch_a[order] * len(store.batches) + batch_b[order])) + 1
    found, sims = [np.empty((0, 6), np.int64)], [np.empty(0, np.float64)]
    for pairs in np.split(order, cuts) if len(order) else []:
        a, b = store.batches[batch_a[pairs[0]]], store.batches[batch_b[pairs[0]]]
        rows, sim = align_runs(
            (a.words, a.quoted, a.titled, a.figure, a.offsets),
            (b.words, b.quoted, b.titled, b.figure, b.offsets),
            rows_a[pairs],
            rows_b[pairs],
            seeds,
            starts[pairs],
            sizes[pairs],
            params,
            limits,
        )
        rows[:, 0] = pairs[rows[:, 0]]  # back to the pairs' order
        found.append(rows)
        sims.append(sim)
    rows, sim = np.concatenate(found), np.concatenate(sims)
    back = np.argsort(rows[:, 0], kind="stable")  # a pair's alignments stay in their order
    rows, sim = rows[back], sim[back]
    pair = rows[:, 0]
    cols = np.column_stack([doc_a[pair], rows[:, 1], rows[:, 2], doc_b[pair], rows[:, 3], rows[:, 4]])
    return Alignments(cols, sim, rows[:, 5])


@dataclass(frozen=True)
class _AlignTask:
    """A picklable map function: aligns a slice of pair runs against the shared fingerprints
    and seed rows."""

    cfg: PassagesConfig

    def __call__(self, part: tuple[np.ndarray, np.ndarray]) -> Alignments:
        starts, sizes = part
        return _align_runs(_SHARED["fps"], self.cfg, _SHARED["seeds"], starts, sizes)


def _align_parallel(
    fps: Sequence[PassageFingerprint],
    cfg: PassagesConfig,
    seeds: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    engine: Any,
    tick: Callable[[int, int], None] | None = None,
) -> Alignments:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return _align_runs(fps, cfg, seeds, starts, sizes)
    chunk = max(200, len(starts) // (8 * engine.workers))
    parts = ((starts[c : c + chunk], sizes[c : c + chunk]) for c in range(0, len(starts), chunk))
    # published before the workers fork: each task carries only its runs' bounds (the seed rows
    # are a gigabyte at 20k reuse-heavy documents, seconds to pickle and read back)
    _SHARED.update(fps=fps, seeds=seeds)
    try:
        found = []
        for part in engine.map(_AlignTask(cfg), parts):
            found.append(part)
            if tick is not None:
                tick(min(len(found) * chunk, len(starts)), len(starts))
        return Alignments.concat(found)
    finally:
        _SHARED.clear()


def _assign_nodes(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Occurrence nodes ``(doc, lo, hi)`` (word ranges), and the node of each alignment's two sides
    (``cols``: see :class:`Alignments`).

    Two spans of a document are one occurrence when each covers at least half of the other: the
    same passage, its ends trimmed differently by different alignments; the occurrence covers
    their union. Spans are taken longest first and compared with the node's first (longest)
    span, its anchor, which never grows, so partly overlapping spans cannot chain along a document
    (:func:`dedupe.kernels.assign_nodes`). Returns the nodes (``k x 3``: doc, lo, hi), the
    distinct spans (``m x 3``) and each one's node, and each alignment's nodes (``n x 2``: side a,
    side b).
    """
    from .kernels import assign_nodes

    both = np.concatenate([cols[:, :3], cols[:, 3:]])
    # by doc, longest first, then start: the kernel's order, in which equal spans are neighbours
    # (one lexsort, against np.unique(axis=0)'s sort of rows as records and then a lexsort)
    order = np.lexsort((both[:, 1], both[:, 1] - both[:, 2], both[:, 0]))
    ordered = both[order]
    first = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)] if len(ordered) else np.zeros(0, bool)
    spans = ordered[first]
    side = np.empty(len(both), dtype=np.int64)
    side[order] = np.cumsum(first) - 1
    node_of_span, doc, lo, hi = assign_nodes(*map(np.ascontiguousarray, spans.T))
    return np.column_stack([doc, lo, hi]), spans, node_of_span, node_of_span[side].reshape(2, -1).T


def _fold_fragments(comp: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Fold each group whose occurrences mostly lie inside a longer group's occurrences into that group.

    A quotation's fragment ("agree on many things") aligns with the fragment inside each longer
    copy of the quotation; it belongs to the quotation's group, and the documents that carry only
    the fragment join that group. A group folds when at least two of its occurrences, and at least
    half, lie inside occurrences of one longer group (the one holding most of them; ties: the
    larger, then the first). Folding goes from shorter to longer canonical passages only, so it
    cannot chain; longest first, so that when a group is considered, every longer group already
    knows where it folds and containment is counted per final group.

    ``comp``: each node's group (numbered from 0, in order of the groups' smallest nodes);
    ``nodes``: ``(doc, lo, hi)`` rows. Returns each node's group after folding (the number of the
    group it folded into). The walk is compiled (:func:`dedupe.kernels.fold_groups`).
    """
    from .kernels import fold_groups

    doc, lo, hi = (np.ascontiguousarray(c) for c in nodes.T)
    groups = int(comp.max()) + 1 if len(comp) else 0
    size = np.bincount(comp, minlength=groups)
    members = np.argsort(comp, kind="stable")
    member_start = np.zeros(groups + 1, dtype=np.int64)
    np.cumsum(size, out=member_start[1:])
    length = np.maximum.reduceat((hi - lo)[members], member_start[:-1]) if groups else size  # longest span
    # each document's spans, longest group first (then by group, then node): a group reads a prefix
    entries = np.lexsort((np.arange(len(comp)), comp, -length[comp], doc))
    by_doc = doc[entries]
    run_lo, run_hi = np.searchsorted(by_doc, doc, "left"), np.searchsorted(by_doc, doc, "right")
    root = fold_groups(
        length,
        size,
        np.argsort(-length, kind="stable"),
        members,
        member_start,
        run_lo,
        run_hi,
        lo[entries],
        hi[entries],
        comp[entries],
        lo,
        hi,
    )
    return root[comp]


def group_passages(
    cols: np.ndarray,
    fps: PassageStore,
    ids: list[str],
    texts: list[str],
    min_similarity: float,
) -> tuple[list[PassageGroup], np.ndarray]:
    """Passage groups, most documents first, and the group that holds each side of each alignment
    (``cols``: the alignments, see :class:`Alignments`): an ``n x 2`` array (side a, side b) of
    indices into the groups, -1 where a side is in none."""
    if not len(cols):
        return [], np.empty((0, 2), dtype=np.int64)
    from .kernels import component_labels

    nodes, _, _, sides = _assign_nodes(cols)
    # occurrences joined by alignments, numbered by their smallest node
    comp = np.unique(component_labels(len(nodes), sides[:, 0], sides[:, 1]), return_inverse=True)[1]
    group = _fold_fragments(comp.reshape(-1), nodes)
    groups, node_group = _peel_groups(group, nodes, sides, fps, ids, texts, min_similarity)
    order = sorted(
        range(len(groups)),
        key=lambda g: (-groups[g].documents, -(groups[g].end - groups[g].start), groups[g].id),
    )
    index = np.full(len(groups) + 1, -1, dtype=np.int64)  # the last one for -1: no group
    index[order] = np.arange(len(groups))
    return [groups[g] for g in order], index[node_group[sides]]


def _peel_groups(
    comp: np.ndarray,
    nodes: np.ndarray,
    sides: np.ndarray,
    fps: PassageStore,
    ids: list[str],
    texts: list[str],
    min_similarity: float,
) -> tuple[list[PassageGroup], np.ndarray]:
    """Split each group of occurrences (``comp``: each node's group) into passage groups, each a
    leader and what resembles it.

    Alignments join occurrences pair by pair, so a component can chain through templates (an
    earnings table aligned with the next, and that one with the next) to occurrences that share
    nothing with each other. So the longest occurrence not yet placed leads a group (the most
    characters, then the smallest document id, then the earliest), and the group grows along
    alignments from it: an occurrence joins when at least ``min_similarity`` of its words align
    with the leader (a fragment of the leader does), and the walk goes on only through
    occurrences that joined. A leader that nothing resembles is dropped. An occurrence nested in a
    longer one of the same document is represented by it.

    ``nodes`` (``m x 3``: doc, w0, w1) and ``sides`` (each alignment's two nodes) come from
    :func:`_assign_nodes`. The representatives (:func:`dedupe.kernels.occurrence_reps`) and the
    walks (:func:`dedupe.kernels.peel_groups`) are compiled, over all groups at once. Returns
    the groups and, for every node, the index of the group that holds it or its representative
    (-1: none).
    """
    from .kernels import occurrence_reps, peel_groups

    m = len(nodes)
    doc, lo, hi = (np.ascontiguousarray(c) for c in nodes.T)
    # representatives: by component, document, longest first, start
    order = np.lexsort((np.arange(m), lo, lo - hi, doc, comp))
    key_c, key_d = comp[order], doc[order]
    runs = np.flatnonzero(np.r_[True, (key_c[1:] != key_c[:-1]) | (key_d[1:] != key_d[:-1]), True])
    rep = np.empty(m, dtype=np.int64)
    rep[order] = order[occurrence_reps(runs, lo[order], hi[order])]
    # the alignments between representatives, both ways, as adjacency lists
    x, y = rep[sides[:, 0]], rep[sides[:, 1]]
    apart = x != y
    src, dst = np.concatenate([x[apart], y[apart]]), np.concatenate([y[apart], x[apart]])
    adj = dst[np.argsort(src, kind="stable")]
    adj_start = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=m), out=adj_start[1:])
    # leaders: representatives by most characters, then document id, then start
    starts, ends = fps.char_spans(doc, lo, hi)
    docs_in = np.unique(doc)
    rank = np.zeros(int(docs_in[-1]) + 1, dtype=np.int64)
    rank[sorted(docs_in.tolist(), key=ids.__getitem__)] = np.arange(len(docs_in))
    is_rep = rep == np.arange(m)
    reps = np.flatnonzero(is_rep)
    leaders = reps[np.lexsort((lo[reps], rank[doc[reps]], starts[reps] - ends[reps]))]
    # only representatives are compared: the others' word runs are left empty
    words, word_start = fps.word_runs(doc, lo, np.where(is_rep, hi, lo))
    lead_of, end_of, member, score = peel_groups(
        leaders, adj_start, adj, words, word_start, doc, float(min_similarity)
    )
    member_group = np.full(m, -1, dtype=np.int64)
    sizes = np.diff(np.r_[0, end_of])
    member_group[member] = np.repeat(np.arange(len(lead_of)), sizes)
    node_group = member_group[rep]

    # the groups' records: spans as printed, similarity to the leader, quotation marks
    quoted = fps.all_quoted(doc[member], lo[member], hi[member]).tolist()
    lead = np.repeat(lead_of, sizes)
    similarity = (score / (hi[member] - lo[member])).tolist()
    coverage = (score / (hi[lead] - lo[lead])).tolist()
    m_doc, m_start, m_end = doc[member].tolist(), starts[member].tolist(), ends[member].tolist()
    # every occurrence's text, then every leader's: each document's text is read once
    printed = text_slices(
        texts,
        m_doc + doc[lead_of].tolist(),
        m_start + starts[lead_of].tolist(),
        m_end + ends[lead_of].tolist(),
    )
    groups = []
    bounds = np.r_[0, end_of].tolist()
    for g, canon in enumerate(lead_of.tolist()):
        occurrences = []
        for u in range(bounds[g], bounds[g + 1]):
            d, s, e = m_doc[u], m_start[u], m_end[u]
            occurrences.append(Occurrence(ids[d], s, e, similarity[u], coverage[u], quoted[u], printed[u]))
        occurrences.sort(key=lambda o: (o.doc, o.start))
        cd, cstart, cend = int(doc[canon]), int(starts[canon]), int(ends[canon])
        groups.append(
            PassageGroup(
                f"{ids[cd]}:{cstart}-{cend}",
                printed[len(m_doc) + g],
                ids[cd],
                cstart,
                cend,
                len({o.doc for o in occurrences if o.quoted}) >= 2,
                tuple(occurrences),
            )
        )
    return groups, node_group


def text_slices(texts: Sequence[str], docs: list[int], starts: list[int], ends: list[int]) -> list[str]:
    """``texts[docs[k]][starts[k]:ends[k]]`` for each ``k``, asking :class:`dedupe.sources.Texts` for
    each document's text once (it may read it again from its file)."""
    slices = getattr(texts, "slices", None)
    if slices is not None:
        return slices(docs, starts, ends)  # type: ignore[no-any-return]
    return [texts[d][a:b] for d, a, b in zip(docs, starts, ends)]


def reuse_clusters(
    cols: np.ndarray,
    fps: PassageStore,
    ids: list[str],
    texts: list[str],
    groups: list[PassageGroup],
    side_group: np.ndarray,
    cfg: PassagesConfig,
) -> list[ReuseCluster]:
    """Documents joined by the passages they share (``cols``: the alignments, see
    :class:`Alignments`; ``groups`` and ``side_group``: as :func:`group_passages` returns them).
    A pair's passages are the groups holding its alignments' first sides, ordered by id."""
    from .kernels import component_labels

    pairs: list[tuple[int, int, ReusePair]] = []
    length = getattr(texts, "length", None) or (lambda k: len(texts[k]))  # Texts knows, unread
    if len(cols):
        # document pairs in (a, b) order, and each alignment's pair
        keys, pair = np.unique(cols[:, 0] * len(ids) + cols[:, 3], return_inverse=True)
        shared_a = _shared_chars(fps, cols[:, 0], cols[:, 1], cols[:, 2], pair)
        shared_b = _shared_chars(fps, cols[:, 3], cols[:, 4], cols[:, 5], pair)
        # each pair's distinct groups, in order of their ids
        by_id = sorted(range(len(groups)), key=lambda g: groups[g].id)
        names = [groups[g].id for g in by_id]
        rank = np.empty(len(groups), dtype=np.int64)
        rank[by_id] = np.arange(len(groups))
        held = side_group[:, 0] >= 0
        found = np.unique(pair[held] * (len(groups) + 1) + rank[side_group[held, 0]])
        found_pair, found_rank = np.divmod(found, len(groups) + 1)
        bounds = np.searchsorted(found_pair, np.arange(len(keys) + 1)).tolist()
        found_rank = found_rank.tolist()
        for k in np.flatnonzero(np.minimum(shared_a, shared_b) >= cfg.reuse_min_chars).tolist():
            a, b = divmod(int(keys[k]), len(ids))
            sa, sb = int(shared_a[k]), int(shared_b[k])
            passages = tuple(map(names.__getitem__, found_rank[bounds[k] : bounds[k + 1]]))
            pairs.append((a, b, ReusePair(ids[a], ids[b], sa, sb, sa / length(a), sb / length(b), passages)))
    ends = np.array([(a, b) for a, b, _ in pairs], dtype=np.int64).reshape(-1, 2)
    label = component_labels(len(ids), ends[:, 0], ends[:, 1]).tolist()
    pairs_of_root: dict[int, list[ReusePair]] = defaultdict(list)
    members_of_root: dict[int, set[int]] = defaultdict(set)
    for a, b, p in pairs:
        pairs_of_root[label[a]].append(p)
        members_of_root[label[a]].update((a, b))
    clusters = []
    for root, docs in members_of_root.items():
        members = sorted(ids[k] for k in docs)
        clusters.append(ReuseCluster(members[0], tuple(members), tuple(pairs_of_root[root])))
    clusters.sort(key=lambda c: c.id)
    return clusters


def _shared_chars(
    fps: PassageStore, docs: np.ndarray, lo: np.ndarray, hi: np.ndarray, pair: np.ndarray
) -> np.ndarray:
    """Per document pair: the characters of one side that its alignments cover, overlapping word
    spans ``[lo, hi)`` of document ``docs`` merged (spans that only touch are not merged)."""
    order = np.lexsort((hi, lo, pair))  # by pair, then span, as sorted() orders them
    p, lo, hi, docs = pair[order], lo[order], hi[order], docs[order]
    step = int(hi.max()) + 1
    reach = np.maximum.accumulate(p * step + hi) - p * step  # furthest end so far in the pair
    first = np.r_[True, p[1:] != p[:-1]]
    opens = np.flatnonzero(first | (lo >= np.r_[0, reach[:-1]]))  # a span past all before it
    closes = np.r_[opens[1:], len(p)] - 1
    start, end = fps.char_spans(docs[opens], lo[opens], reach[closes])
    return np.add.reduceat(end - start, np.flatnonzero(np.r_[True, p[opens][1:] != p[opens][:-1]]))


def classify_groups(
    groups: list[PassageGroup],
    side_group: np.ndarray,
    cut: np.ndarray,
    length: Callable[[int], int],
    index: dict[str, int],
    cfg: PassagesConfig,
) -> list[PassageGroup]:
    """Each group with its :attr:`PassageGroup.category`, listed reuse and quotations first, then
    templates, then boilerplate (each by documents, longest, id).

    * ``template``: at least half of the alignments that hold it join a template pair (two
      documents that state different figures in most of the text they share: ``cut``, see
      :class:`PairEvidence`);
    * ``boilerplate``: not quoted, in more than ``max_ngram_docs`` documents, and in at least 80%
      of them at the document's head or tail (starting in its first tenth or ending in its last),
      covering less than half of it. A viral quotation or a syndicated story is frequent too, but
      sits inside the text, or is most of it: frequency alone decides nothing;
    * ``quotation``: quoted in at least two documents; else ``reuse``.

    ``side_group``: each alignment's two sides' groups; ``cut``: whether each alignment's pair
    is a template pair;
    ``length(k)``: document k's characters; ``index``: document id -> k."""
    held = np.zeros(len(groups) + 1, dtype=np.int64)  # the last one for -1: no group
    held_cut = np.zeros(len(groups) + 1, dtype=np.int64)
    np.add.at(held, side_group[:, 0], 1)
    np.add.at(held, side_group[:, 1], 1)
    np.add.at(held_cut, side_group[cut, 0], 1)
    np.add.at(held_cut, side_group[cut, 1], 1)
    out = []
    for g, group in enumerate(groups):
        if held[g] and 2 * held_cut[g] >= held[g]:
            kind = "template"
        elif group.quotation:
            kind = "quotation"
        elif group.documents > cfg.max_ngram_docs and _at_edges(group, length, index):
            kind = "boilerplate"
        else:
            kind = "reuse"
        out.append(dataclasses.replace(group, category=kind))
    rank = {k: r for r, k in enumerate(CATEGORIES)}
    rank["quotation"] = rank["reuse"]
    out.sort(key=lambda g: (rank[g.category], -g.documents, -(g.end - g.start), g.id))
    return out


def _at_edges(group: PassageGroup, length: Callable[[int], int], index: dict[str, int]) -> bool:
    """Whether at least 80% of a group's occurrences sit at their document's head or tail and
    cover less than half of it."""
    edge = 0
    for o in group.occurrences:
        n = max(1, length(index[o.doc]))
        edge += (o.start <= 0.1 * n or o.end >= 0.9 * n) and (o.end - o.start) < 0.5 * n
    return edge >= 0.8 * len(group.occurrences)


TEMPLATE_WORDS = 30  # shared words per place where figures differ, at most, in a template pair


@dataclass
class PairEvidence:
    """What the passage stage knows of each document pair holding an alignment (documents by
    index, ``a < b``): the characters of each that their alignments cover (overlaps merged), and
    whether they are a template pair (``template``: their alignments' ends show the two stating
    different figures at least once per :data:`TEMPLATE_WORDS` words they share). ``alignments`` are
    the stage's alignments, in pair order: the relation of a cluster member to its source is read
    from them (:func:`dedupe.cluster.explain`)."""

    pairs: np.ndarray  # m x 2, int64
    shared: np.ndarray  # m x 2, characters covered on each side
    template: np.ndarray  # m, bool
    alignments: Alignments
    similarity: np.ndarray | None = None  # m: the alignments' similarity, weighted by their words

    @classmethod
    def of(cls, alignments: Alignments, fps: PassageStore) -> PairEvidence:
        cols = alignments.cols
        if not len(cols):
            empty = np.empty((0, 2), dtype=np.int64)
            return cls(empty, empty.copy(), np.zeros(0, dtype=bool), alignments, np.zeros(0))
        keys, pair = np.unique(cols[:, [0, 3]], axis=0, return_inverse=True)
        pair = pair.reshape(-1)
        shared_a = _shared_chars(fps, cols[:, 0], cols[:, 1], cols[:, 2], pair)
        shared_b = _shared_chars(fps, cols[:, 3], cols[:, 4], cols[:, 5], pair)
        # a template pair: figures differ at least once per TEMPLATE_WORDS words they share (a story
        # reissued with a new dateline, or a corrected figure, differs once in hundreds)
        span_words = (cols[:, 2] - cols[:, 1]).astype(np.float64)
        words = np.bincount(pair, weights=span_words, minlength=len(keys))
        conflicts = np.bincount(pair, weights=alignments.conflicts.astype(np.float64), minlength=len(keys))
        template = (conflicts > 0) & (conflicts * TEMPLATE_WORDS >= words)
        # how closely the shared text is reproduced: the alignments' similarity, weighted by words
        similarity = np.bincount(pair, weights=span_words * alignments.similarity, minlength=len(keys))
        similarity /= np.maximum(words, 1.0)
        return cls(
            keys.astype(np.int64), np.column_stack([shared_a, shared_b]), template, alignments, similarity
        )

    def alignment_template(self) -> np.ndarray:
        """For each alignment, whether its document pair is a template pair."""
        cols = self.alignments.cols
        if not len(cols):
            return np.zeros(0, dtype=bool)
        at = np.searchsorted(
            self.pairs[:, 0] * (int(cols[:, 3].max()) + 1) + self.pairs[:, 1],
            cols[:, 0] * (int(cols[:, 3].max()) + 1) + cols[:, 3],
        )
        return self.template[at]

    def covered(self, length: Callable[[int], int]) -> np.ndarray:
        """The share of each side's text its passages reproduce: the characters they cover
        (``length(k)``: document k's characters) times how similar they are."""
        if not len(self.pairs):
            return np.empty((0, 2), dtype=np.float64)
        sizes = np.array([[length(a), length(b)] for a, b in self.pairs.tolist()], dtype=np.float64)
        share = np.minimum(self.shared / np.maximum(sizes, 1.0), 1.0)
        return share * (1.0 if self.similarity is None else self.similarity[:, None])


def aligned_pairs(
    fps: Sequence[PassageFingerprint],
    pairs: np.ndarray,
    cfg: PassagesConfig,
    anchors: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Alignments:
    """Alignments of the given document pairs (``m x 2``, ``a < b``), each from the anchors the
    two share (seeds found once in each text: :func:`dedupe.kernels.once_seeds`), whatever else the
    corpus holds: the evidence on a pair on its own, for the verdicts (a pair the passage stage did
    not align, its shared seeds paired through a hub document as widely printed text is; a pair
    it aligned only where they share rarer text) and for a cluster member's relation to its
    source. A templated notice accepted by its shingle sets is then seen stating other figures.

    ``anchors`` caches each document's anchors across calls (a cluster's source is aligned with
    each of its members in turn); without it they are cached for this call, so a document in
    many pairs (a widely printed text in every copy's pair) is read once."""
    from .kernels import once_seeds, shared_anchor_rows

    fps = PassageStore.of(fps, cfg.ngram)
    cache = {} if anchors is None else anchors
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    docs, local = np.unique(pairs, return_inverse=True)
    need = [d for d in docs.tolist() if d not in cache]
    if need:  # the anchors of the documents not seen yet, in one compiled pass
        seeds = [fps[d].seeds for d in need]
        flat, offsets = concat_with_offsets(seeds, np.uint64)
        hashes, where, starts = once_seeds(flat, offsets)
        bounds = starts.tolist()
        for k, d in enumerate(need):
            cache[d] = (hashes[bounds[k] : bounds[k + 1]], where[bounds[k] : bounds[k + 1]])
    held = [cache[d] for d in docs.tolist()]
    hashes, starts = concat_with_offsets([h for h, _ in held], np.uint64)
    where = np.concatenate([w for _, w in held]) if held else np.empty(0, dtype=np.int64)
    rows = shared_anchor_rows(hashes, where.astype(np.int64, copy=False), starts, local.reshape(-1, 2), docs)
    if not len(rows):
        return Alignments(np.empty((0, 6), dtype=np.int64), np.empty(0))
    starts, sizes = alignable(rows, cfg)
    return _align_runs(fps, cfg, rows, starts, sizes)


def find_passages(
    fps: Sequence[PassageFingerprint],
    ids: list[str],
    texts: list[str],
    cfg: PassagesConfig,
    involving: np.ndarray | None = None,
    frequent: np.ndarray | None = None,
    engine: Any = None,
    tick: Callable[[int, int], None] | None = None,
) -> tuple[list[PassageGroup], list[ReuseCluster], dict[str, Any], PairEvidence]:
    """Passage groups, reuse clusters, the stage's stats and its evidence on document pairs
    (:class:`PairEvidence`), over documents given in id order.

    ``involving`` and ``frequent``: see :func:`seed_pairs` (an index query aligns only the new
    documents with the others, and knows which n-grams are common across the whole index);
    ``engine``: aligns on its workers (see :func:`align_all`); ``tick(done, total)`` is told how
    far the alignment has gone (in thousandths, over all passes).
    """
    fps = PassageStore.of(fps, cfg.ngram)
    made: dict[str, Any] = {}
    alignments = align_all(fps, cfg, involving, frequent, engine, made, tick)
    cols = alignments.cols
    groups, side_group = group_passages(cols, fps, ids, texts, cfg.min_similarity)
    length = getattr(texts, "length", None) or (lambda k: len(texts[k]))  # Texts knows, unread
    index = {doc_id: k for k, doc_id in enumerate(ids)}
    evidence = PairEvidence.of(alignments, fps)
    templated = evidence.alignment_template()
    kinds = classify_groups(groups, side_group, templated, length, index, cfg)
    order = {g.id: r for r, g in enumerate(kinds)}
    renumber = np.array([order[g.id] for g in groups] + [-1], dtype=np.int64)
    groups, side_group = kinds, renumber[side_group]
    # templates are not reuse: the alignments of template pairs join no reuse cluster
    whole = ~templated
    clusters = reuse_clusters(cols[whole], fps, ids, texts, groups, side_group[whole], cfg)
    counts = {k: sum(g.category == k for g in groups) for k in ("template", "boilerplate")}
    if not cfg.list_boilerplate:
        groups = [g for g in groups if g.category != "boilerplate"]
    return (
        groups,
        clusters,
        {
            **made,
            "alignments": len(alignments),
            "passage_groups": len(groups),
            "template_groups": counts["template"],
            "boilerplate_groups": counts["boilerplate"],
            "reuse_clusters": len(clusters),
        },
        evidence,
    )
