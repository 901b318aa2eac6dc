"""Compiled kernels (numba) for the per-document hot path: the same numbers as the numpy code, faster.

Python's per-token work (splitting a text into words, one dict look-up per word, building an
array) costs more than all the arithmetic of MinHash. These kernels take a whole batch of texts
as one byte buffer and do, in one compiled pass per document:

* :func:`word_shingles`: fold each byte with the config's table (case, punctuation), cut words at
  whitespace, hash each word with XXH64 (:func:`xxh64`, checked equal to the ``xxhash`` package),
  combine ``n`` consecutive word hashes into an n-gram hash exactly as
  :func:`dedupe.shingle.ngram_hashes` does, and sort and de-duplicate them per document;
* :func:`minhash_affine32`: datasketch's ``affine32`` permutations (MurmurHash3's 32-bit
  finaliser, then ``a_k * h + b_k mod 2^32``) and the minimum per permutation;
* :func:`figure_hashes`: the figures a text states, hashed, for the verify stage's figures rule;
* :func:`word_spans`: each word's hash and span, for the passage stage's fingerprints, and
  :func:`ascii_word_flags`: whether each word is quoted or Titlecase;
* :func:`band_keys`, :func:`band_column`, :func:`group_pairs`: LSH band keys (all bands, or one
  band's column) and the pairs of rows sharing a key (the group-by), without the GIL so that
  bands can be shared among threads;
* :func:`pair_intersections`: the verify stage's exact overlap for a whole batch of candidate pairs;
* :func:`seed_shares`, :func:`seeds_in`, :func:`repeated_values`, :func:`seed_groups`,
  :func:`seed_group_pairs`: the passage stage's seeds, hashed from the words (batches shared
  among threads), grouped and paired share by share, then sorted as packed
  keys (:func:`pack_seed_rows`, :func:`unpack_seed_rows`) and cut into the runs of document
  pairs worth aligning (:func:`alignable_runs`); past the stage's budget, routed to their part's
  spill file by document pair (:func:`route_seed_rows`);
* :func:`align_runs` (with :func:`extend` and :func:`matching_blocks`): the passage stage's
  alignment of all document pairs of two passage batches at once;
* :func:`once_seeds`, :func:`shared_anchor_rows`: the anchors (seeds found once in a text) each of
  many document pairs shares, for a pair aligned on its own (:func:`dedupe.passages.aligned_pairs`);
* :func:`assign_nodes`, :func:`component_labels`, :func:`fold_groups`, :func:`occurrence_reps`,
  :func:`peel_groups`: the passage groups, over arrays of all occurrences at once (the
  occurrences the aligned spans make, their components, fragments folded into longer passages,
  and the walks from each group's leader).

Only ASCII texts go through :func:`word_shingles` (one byte is one character, so the folding is a
table); other texts take the numpy path. Tests hold both paths equal with hypothesis. Kernels are
compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def _writable(directory: Path) -> bool:
    """Whether files can be made in ``directory`` (made if missing), as numba's cache must."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def cache_fallback(tree: Path, user: Path) -> str | None:
    """Where numba should cache the kernels when it cannot itself: None when the package's own
    ``__pycache__`` (``tree``) or numba's user-wide cache (``user``) takes files, else a private
    directory under the system's temporary one. Without it, an install directory and a HOME that
    are both read-only make every command fail ("cannot cache function")."""
    if _writable(tree) or _writable(user):
        return None
    fallback = (
        Path(tempfile.gettempdir()) / f"dedupe-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    )
    try:
        fallback.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return str(fallback)


def _use_cache_fallback() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    try:
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no HOME and no passwd entry
        home = Path(tempfile.gettempdir()) / "no-home"
    fallback = cache_fallback(Path(__file__).parent / "__pycache__", home / "numba")
    if fallback:
        os.environ["NUMBA_CACHE_DIR"] = fallback
        if "numba" in sys.modules:  # numba read its environment when it was imported
            from numba.core import config

            config.reload_config()


_use_cache_fallback()

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402


def _skip_blas_probe() -> None:
    """Spare numba's start-up its BLAS probe, which imports ``scipy.linalg`` (0.15-0.25 s of every
    run, about a third of loading numba; scipy is installed as datasketch's dependency).

    ``numba.np.arraymath`` asks ``ensure_blas()`` once, as it is imported when the first kernel
    loads, only to choose how ``np.convolve``/``np.correlate`` take inner products in compiled code
    (BLAS's dot or a plain loop); none of these kernels calls them. Importing that module here with
    the probe answering "no BLAS" makes them take the loop, in this process. Everything else is
    unchanged: ``np.dot`` and ``np.linalg`` in compiled code still load BLAS when they are first
    compiled. Nothing is changed when scipy's BLAS is already imported (the probe is then free) or
    when numba's layout is not the one expected."""
    if "scipy.linalg.cython_blas" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.np import linalg
    except ImportError:
        return
    probe = getattr(linalg, "ensure_blas", None)
    if probe is None:
        return

    def no_blas() -> None:
        raise ImportError("BLAS not probed (dedupe.kernels)")

    linalg.ensure_blas = no_blas
    try:
        from numba.np import arraymath

        if getattr(arraymath, "ensure_blas", None) is no_blas:
            arraymath.ensure_blas = probe
    except Exception:  # noqa: BLE001 - any failure leaves numba to probe as usual
        pass
    finally:
        linalg.ensure_blas = probe


_skip_blas_probe()

_P1 = np.uint64(11400714785074694791)
_P2 = np.uint64(14029467366897019727)
_P3 = np.uint64(1609587929392839161)
_P4 = np.uint64(9650029242287828579)
_P5 = np.uint64(2870177450012600261)
_MULT = np.uint64(0x9E3779B97F4A7C15)  # as dedupe.shingle._MULT
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)


@njit(inline="always")
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(inline="always")
def _read(b, p, size):
    """``size`` bytes at ``p``, little-endian."""
    v = np.uint64(0)
    for i in range(size):
        v |= np.uint64(b[p + i]) << np.uint64(8 * i)
    return v


@njit(inline="always")
def _round(acc, lane):
    acc = acc + lane * _P2
    return _rotl(acc, 31) * _P1


@njit(inline="always")
def _merge(acc, v):
    acc ^= _round(np.uint64(0), v)
    return acc * _P1 + _P4


@njit(cache=True)
def xxh64(b, start, end, seed):
    """XXH64 of the bytes ``b[start:end]`` (a uint8 array) with a uint64 ``seed``."""
    p = start
    n = end - start
    if n >= 32:
        v1 = seed + _P1 + _P2
        v2 = seed + _P2
        v3 = seed
        v4 = seed - _P1
        while p <= end - 32:
            v1 = _round(v1, _read(b, p, 8))
            v2 = _round(v2, _read(b, p + 8, 8))
            v3 = _round(v3, _read(b, p + 16, 8))
            v4 = _round(v4, _read(b, p + 24, 8))
            p += 32
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _merge(_merge(_merge(_merge(h, v1), v2), v3), v4)
    else:
        h = seed + _P5
    h += np.uint64(n)
    while p + 8 <= end:
        h ^= _round(np.uint64(0), _read(b, p, 8))
        h = _rotl(h, 27) * _P1 + _P4
        p += 8
    if p + 4 <= end:
        h ^= _read(b, p, 4) * _P1
        h = _rotl(h, 23) * _P2 + _P3
        p += 4
    while p < end:
        h ^= np.uint64(b[p]) * _P5
        h = _rotl(h, 11) * _P1
        p += 1
    h ^= h >> np.uint64(33)
    h *= _P2
    h ^= h >> np.uint64(29)
    h *= _P3
    return h ^ (h >> np.uint64(32))


@njit(inline="always")
def _fmix64(h):
    h ^= h >> np.uint64(33)
    h *= _M1
    h ^= h >> np.uint64(33)
    h *= _M2
    return h ^ (h >> np.uint64(33))


@njit(inline="always")
def _is_letter(b):
    return (b >= 65 and b <= 90) or (b >= 97 and b <= 122)


@njit  # called out of line: the rare path stays out of the byte loop
def _line_break_join(buf, p, end):
    """When the hyphen ``buf[p]`` ends a line inside a word (a letter before it; after it the line
    break, any indent and a letter), the position of that letter; else -1."""
    if not _is_letter(buf[p - 1]):
        return -1
    q = p + 1
    if q < end and buf[q] == 13:
        q += 1
    if q >= end or buf[q] != 10:
        return -1
    q += 1
    while q < end and (buf[q] == 32 or buf[q] == 9):
        q += 1
    if q < end and _is_letter(buf[q]):
        return q
    return -1


_MAX_BREAKS = 64  # line breaks joined inside one word; past it (64 lines of one word) the word is cut there, where the Python tokenizer would go on joining


@njit(inline="always")
def _word_table(table, space):
    """One look-up per byte: ``table[b]`` (the folded byte), or 256 when it folds to a separator
    (``space``)."""
    out = np.empty(256, np.uint16)
    for b in range(256):
        out[b] = 256 if space[table[b]] else table[b]
    return out


@njit(inline="always")
def _cut_words(buf, start, end, table, seed, packed, hashes, word_start, word_end, o, join):
    """The words of ``buf[start:end]``: each byte folded by ``table`` (:func:`_word_table`: the
    folded byte, or 256 for a byte that folds to a separator), words cut at separators; with ``join``, a word broken by a hyphen at a line's end
    (:func:`_line_break_join`; the hyphen must fold to a separator) is one word, the break left out
    of its bytes (at most :data:`_MAX_BREAKS` a word). Each word's XXH64 hash (of its folded bytes,
    gathered in ``packed``, a scratch buffer as long as the longest word) and its span relative to
    ``start`` are written from position ``o`` on; returns the position after them.

    Two tight loops, over separators and over a word's bytes, each byte read and folded once."""
    p = start
    while p < end:
        c = table[buf[p]]
        if c > 255:
            p += 1
            continue
        word = p
        w = 0
        nbreaks = 0
        while True:
            packed[w] = c
            w += 1
            p += 1
            if p >= end:
                break
            c = table[buf[p]]
            if c > 255:
                if join and buf[p] == 45 and nbreaks < _MAX_BREAKS:  # a hyphen ending a word: rare
                    q = _line_break_join(buf, p, end)
                    if q >= 0:
                        nbreaks += 1
                        p = q
                        c = table[buf[p]]  # the letter after the break: the word's next byte
                        continue
                break
        hashes[o] = xxh64(packed, 0, w, seed)
        word_start[o] = word - start
        word_end[o] = p - start
        o += 1
    return o


@njit(cache=True)
def word_spans(buf, starts, ends, table, space, seed, join):
    """The words of each document ``buf[starts[d]:ends[d]]``, cut and folded as
    :func:`word_shingles` cuts them: each word's XXH64 hash (of its folded bytes) and its span
    ``[start, end)`` relative to the document's start. Returns the three arrays, concatenated, and
    ``offsets`` (document ``d`` holds entries ``offsets[d]:offsets[d + 1]``)."""
    ndocs = len(starts)
    cap = 0
    longest = 0
    for d in range(ndocs):
        cap += (ends[d] - starts[d]) // 2 + 1
        longest = max(longest, ends[d] - starts[d])
    packed = np.empty(longest + 1, np.uint8)
    folding = _word_table(table, space)
    hashes = np.empty(cap, np.uint64)
    word_start = np.empty(cap, np.int64)
    word_end = np.empty(cap, np.int64)
    offsets = np.zeros(ndocs + 1, np.int64)
    o = 0
    for d in range(ndocs):
        o = _cut_words(buf, starts[d], ends[d], folding, seed, packed, hashes, word_start, word_end, o, join)
        offsets[d + 1] = o
    return hashes[:o].copy(), word_start[:o].copy(), word_end[:o].copy(), offsets


@njit(cache=True, nogil=True)
def ascii_word_flags(buf, doc_starts, doc_ends, word_start, word_end, offsets):
    """For the words of each ASCII document ``buf[doc_starts[d]:doc_ends[d]]`` (as :func:`word_spans`
    gives them: spans relative to the document, document ``d``'s words at
    ``offsets[d]:offsets[d + 1]``), three flags, as :func:`dedupe.passages.quote_regions` and
    :func:`dedupe.passages._titled` set them for one text:

    * ``quoted``: the word lies inside a quotation. In ASCII the only marks are straight double
      quotes, which alternate; a quotation left open ends at the end of its line (one that spans
      only its mark holds nothing), or at the end of the text;
    * ``titled``: its first letter is A-Z and a letter a-z follows before the next word starts
      (or the text ends);
    * ``figure``: its first character is a digit 0-9 and it holds no letter (OCR's ``1ower`` for
      ``lower`` is no figure)."""
    n = len(word_start)
    quoted = np.zeros(n, np.bool_)
    titled = np.zeros(n, np.bool_)
    figure = np.zeros(n, np.bool_)
    for d in range(len(doc_starts)):
        base = doc_starts[d]
        size = doc_ends[d] - base
        w0 = offsets[d]
        w1 = offsets[d + 1]
        for k in range(w0, w1):
            first = buf[base + word_start[k]]
            if first >= 48 and first <= 57:  # a figure: a digit first, and no letter in it
                figure[k] = True
                for p in range(base + word_start[k] + 1, base + word_end[k]):
                    if _is_letter(buf[p]):
                        figure[k] = False
                        break
            if first >= 65 and first <= 90:
                stop = word_start[k + 1] if k + 1 < w1 else size
                for p in range(base + word_start[k], base + stop):
                    if buf[p] >= 97 and buf[p] <= 122:
                        titled[k] = True
                        break
        w = w0  # quotations come in order: the words before this one are done
        open_at = -1
        for p in range(size + 1):
            a = -1
            b = -1
            if p == size:
                if open_at >= 0:
                    a = open_at
                    b = size
            else:
                c = buf[base + p]
                if c == 34:
                    if open_at < 0:
                        open_at = p
                    else:
                        a = open_at
                        b = p + 1
                        open_at = -1
                elif c == 10 and open_at >= 0:
                    if p - open_at > 1:
                        a = open_at
                        b = p
                    open_at = -1
            if a >= 0:
                while w < w1 and word_start[w] < a:
                    w += 1
                while w < w1 and word_end[w] <= b:
                    quoted[w] = True
                    w += 1
    return quoted, titled, figure


@njit(inline="always")
def _radix_sort32(seg, tmp):
    """Sort ``seg`` (uint64 values below 2^32) in place: four counting passes of 8 bits, through
    ``tmp`` (at least as long). For a document's few hundred shingles it is about four times as
    fast as a comparison sort."""
    n = len(seg)
    src = seg
    dst = tmp[:n]
    count = np.empty(257, np.int64)
    for shift in range(0, 32, 8):
        count[:] = 0
        sh = np.uint64(shift)
        for i in range(n):
            count[((src[i] >> sh) & np.uint64(255)) + np.uint64(1)] += 1
        for b in range(256):
            count[b + 1] += count[b]
        for i in range(n):
            b = (src[i] >> sh) & np.uint64(255)
            dst[count[b]] = src[i]
            count[b] += 1
        src, dst = dst, src
    # four passes: the sorted values are back in seg


@njit(inline="always")
def _ngram_hash(tokens, i, n, nn):
    """The hash of the ``n`` token hashes from ``tokens[i]`` (``nn`` is ``n`` as uint64), as
    :func:`dedupe.shingle.ngram_hashes` computes it."""
    acc = tokens[i]
    for k in range(1, n):
        acc = acc * _MULT + tokens[i + k]
    return _fmix64(acc ^ nn)


@njit(cache=True, nogil=True)
def seed_shares(words, starts, ends, n, shift, counts):
    """Add to ``counts[v]`` the number of word n-gram hashes (seeds) of the documents
    ``words[starts[d]:ends[d]]`` whose top bits, ``hash >> shift``, are ``v``: the sizes of the
    shares in which the passage stage groups the seeds."""
    nn = np.uint64(n)
    sh = np.uint64(shift)
    for d in range(len(starts)):
        for i in range(starts[d], ends[d] - n + 1):
            counts[_ngram_hash(words, i, n, nn) >> sh] += 1


@njit(cache=True, nogil=True)
def seeds_in(words, starts, ends, doc_ids, n, shift, share, hashes, docs, pos, o):
    """Write from position ``o`` on the seeds of the documents ``words[starts[d]:ends[d]]`` (word
    n-gram hashes, as :func:`dedupe.shingle.ngram_hashes` computes them) whose top bits,
    ``hash >> shift``, are ``share`` (every seed when ``shift`` is 64): each hash, its document's
    id ``doc_ids[d]`` and its position in the document, in document then position order. Returns
    the position after them."""
    nn = np.uint64(n)
    every = shift >= 64
    sh = np.uint64(min(shift, 63))
    top = np.uint64(share)
    for d in range(len(starts)):
        a = starts[d]
        for i in range(a, ends[d] - n + 1):
            h = _ngram_hash(words, i, n, nn)
            if every or h >> sh == top:
                hashes[o] = h
                docs[o] = doc_ids[d]
                pos[o] = i - a
                o += 1
    return o


@njit(cache=True)
def word_shingles(buf, starts, ends, table, space, n, seed, width32, join, out):
    """Sorted unique word n-gram hashes of each document ``buf[starts[d]:ends[d]]``.

    ``table`` folds a byte (case, punctuation), ``space[c]`` says whether a folded byte separates
    words. The hashes of all documents are written into ``out`` (uint32 or uint64; at least
    :func:`word_shingle_room` long), concatenated; returns how many, and ``offsets`` (document
    ``d`` holds ``out[offsets[d]:offsets[d + 1]]``). ``width32`` keeps the top 32 bits, as the
    ``affine32`` and ``legacy`` schemes take (into a uint32 ``out``: written once, not copied).
    """
    ndocs = len(starts)
    longest = 0
    for d in range(ndocs):
        longest = max(longest, ends[d] - starts[d])
    offsets = np.zeros(ndocs + 1, np.int64)
    tokens = np.empty(longest // 2 + 2, np.uint64)
    work = np.empty(longest // 2 + 2, np.uint64)
    scratch = np.empty(longest // 2 + 2, np.uint64)
    nn = np.uint64(n)
    o = 0
    spans = np.empty(longest // 2 + 2, np.int64)  # word spans: not needed here
    packed = np.empty(longest + 1, np.uint8)
    folding = _word_table(table, space)
    for d in range(ndocs):
        count = _cut_words(buf, starts[d], ends[d], folding, seed, packed, tokens, spans, spans, 0, join)
        o = _ngram_set(tokens, 0, count, n, nn, width32, out, o, work, scratch)
        offsets[d + 1] = o
    return o, offsets


def word_shingle_room(starts: np.ndarray, ends: np.ndarray) -> int:
    """How long :func:`word_shingles`' ``out`` must be for these documents: a word and its
    separator take two bytes at least, so a document of ``k`` bytes holds at most ``k // 2 + 1``
    n-grams."""
    return int(((np.asarray(ends) - np.asarray(starts)) // 2 + 1).sum()) if len(starts) else 0


@njit(cache=True, nogil=True)
def word_ngram_sets(words, word_offsets, n, width32, out):
    """:func:`word_shingles`' output from the documents' word hashes as :func:`word_spans` gives
    them (document ``d``'s words at ``words[word_offsets[d]:word_offsets[d + 1]]``), for a batch
    whose words are already cut for the passage stage: the same n-gram hashes, sorted and unique,
    written into ``out`` (at least :func:`word_ngram_room` long). Returns how many, and the
    offsets of each document's."""
    ndocs = len(word_offsets) - 1
    longest = 0
    for d in range(ndocs):
        longest = max(longest, word_offsets[d + 1] - word_offsets[d])
    offsets = np.zeros(ndocs + 1, np.int64)
    work = np.empty(longest + 1, np.uint64)
    scratch = np.empty(longest + 1, np.uint64)
    nn = np.uint64(n)
    o = 0
    for d in range(ndocs):
        o = _ngram_set(
            words,
            word_offsets[d],
            word_offsets[d + 1] - word_offsets[d],
            n,
            nn,
            width32,
            out,
            o,
            work,
            scratch,
        )
        offsets[d + 1] = o
    return o, offsets


def word_ngram_room(word_offsets: np.ndarray, n: int) -> int:
    """How long :func:`word_ngram_sets`' ``out`` must be: a document of ``k`` words holds
    ``k - n + 1`` n-grams."""
    counts = np.diff(np.asarray(word_offsets)) - n + 1
    return int(np.maximum(counts, 0).sum())


@njit(inline="always")
def _ngram_set(tokens, first, count, n, nn, width32, out, o, work, scratch):
    """The sorted unique hashes of the word n-grams of ``tokens[first:first + count]`` (the top 32
    bits with ``width32``), made in ``work`` (uint64, at least ``count`` long) and written from
    ``out[o]`` on, in ``out``'s width; returns the position after them."""
    windows = count - n + 1
    if windows <= 0:
        return o
    for i in range(windows):
        acc = _ngram_hash(tokens, first + i, n, nn)
        if width32:
            acc >>= np.uint64(32)
        work[i] = acc
    seg = work[:windows]
    if width32:
        _radix_sort32(seg, scratch)
    else:
        seg.sort()
    out[o] = seg[0]
    kept = 1
    for i in range(1, windows):
        if seg[i] != seg[i - 1]:
            out[o + kept] = seg[i]
            kept += 1
    return o + kept


@njit(cache=True)
def minhash_affine32(hashes, offsets, a, b):
    """Signatures (``ndocs x len(a)`` uint32) of the sets ``hashes[offsets[d]:offsets[d + 1]]``
    under datasketch's ``affine32`` permutations ``(a, b)``; an empty set gives all 2^32 - 1."""
    ndocs = len(offsets) - 1
    perms = len(a)
    sig = np.empty((ndocs, perms), np.uint32)
    mixed = np.empty(len(hashes), np.uint32)
    for j in range(len(hashes)):
        h = np.uint32(hashes[j])
        h ^= h >> np.uint32(16)
        h = np.uint32(h * np.uint32(0x85EBCA6B))
        h ^= h >> np.uint32(13)
        h = np.uint32(h * np.uint32(0xC2B2AE35))
        mixed[j] = h ^ (h >> np.uint32(16))
    # Each document's minima are kept in one row of ``perms`` values and every shingle updates
    # the whole row: the loop over the permutations is contiguous and vectorises (a multiply, an
    # add and a min per lane), four shingles at a time so that the row is read and written once
    # for four. ``np.uint32(x * a_k + b_k)`` keeps the low 32 bits of the product, which wraps
    # mod 2^32 as datasketch's affine32 does. (Taking each permutation's minimum over the
    # document with an array expression, as this did, made a temporary array per document and
    # permutation: 4 to 7 times slower.)
    acc = np.empty(perms, np.uint32)
    for d in range(ndocs):
        lo, hi = offsets[d], offsets[d + 1]
        acc[:] = np.uint32(0xFFFFFFFF)  # an empty set's signature
        j = lo
        while j + 3 < hi:
            x0, x1, x2, x3 = mixed[j], mixed[j + 1], mixed[j + 2], mixed[j + 3]
            for k in range(perms):
                ak, bk = a[k], b[k]
                v = min(
                    min(np.uint32(x0 * ak + bk), np.uint32(x1 * ak + bk)),
                    min(np.uint32(x2 * ak + bk), np.uint32(x3 * ak + bk)),
                )
                acc[k] = min(acc[k], v)
            j += 4
        while j < hi:
            x = mixed[j]
            for k in range(perms):
                acc[k] = min(acc[k], np.uint32(x * a[k] + b[k]))
            j += 1
        sig[d, :] = acc
    return sig


@njit(cache=True)
def figure_hashes(buf, starts, ends):
    """The figures of each ASCII document ``buf[starts[d]:ends[d]]`` as :func:`dedupe.verify.figures`
    finds them (``\\d(?:[\\d.,/-]*\\d)?`` without its commas), each hashed with XXH64 (seed 0),
    sorted and unique per document. Returns them concatenated, and the offsets of each document's."""
    ndocs = len(starts)
    out = np.empty(len(buf) // 2 + ndocs + 1, np.uint64)  # a figure and its separator take 2 bytes
    offsets = np.zeros(ndocs + 1, np.int64)
    scratch = np.empty(len(buf) + 1, np.uint8)
    o = 0
    for d in range(ndocs):
        first = o
        p = starts[d]
        end = ends[d]
        while p < end:
            c = buf[p]
            if c < 48 or c > 57:
                p += 1
                continue
            last = p  # the figure ends at its last digit, as the regex backtracks to one
            q = p + 1
            while q < end:
                c = buf[q]
                if 48 <= c <= 57:
                    last = q
                elif c != 46 and c != 44 and c != 47 and c != 45:  # . , / -
                    break
                q += 1
            size = 0
            for r in range(p, last + 1):
                if buf[r] != 44:
                    scratch[size] = buf[r]
                    size += 1
            out[o] = xxh64(scratch, 0, size, np.uint64(0))
            o += 1
            p = last + 1
        seg = out[first:o]
        seg.sort()
        kept = 0
        for i in range(len(seg)):
            if kept == 0 or seg[i] != seg[kept - 1]:
                seg[kept] = seg[i]
                kept += 1
        o = first + kept
        offsets[d + 1] = o
    return out[:o].copy(), offsets


@njit(cache=True)
def intersection_size(a, b):
    """``|a & b|`` for two sorted arrays (of multisets: each value counted as often as both
    hold it): one merge pass."""
    i = j = count = 0
    while i < len(a) and j < len(b):
        if a[i] < b[j]:
            i += 1
        elif b[j] < a[i]:
            j += 1
        else:
            count += 1
            i += 1
            j += 1
    return count


@njit(cache=True, nogil=True)
def band_keys(signatures, bands, rows):
    """LSH band keys (see :func:`dedupe.lsh.band_keys`) in one pass without temporaries: each
    band's values folded into a 64-bit key, the band mixed in. Tests hold it equal to the same
    formula written with numpy arrays."""
    n = signatures.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    for i in range(n):
        for b in range(bands):
            acc = np.uint64(0)
            for r in range(rows):
                acc = _fmix64(acc * _MULT + np.uint64(signatures[i, b * rows + r]))
            out[i, b] = _fmix64(acc ^ np.uint64(b))
    return out


@njit(cache=True, nogil=True)
def band_column(signatures, among, band, rows):
    """The keys of one band (as :func:`band_keys` makes them) for the rows ``among`` of
    ``signatures``: one band's column, without a key matrix or a copy of the rows, and without
    the GIL, so that bands can be made on threads."""
    out = np.empty(len(among), dtype=np.uint64)
    first = band * rows
    for k in range(len(among)):
        i = among[k]
        acc = np.uint64(0)
        for r in range(rows):
            acc = _fmix64(acc * _MULT + np.uint64(signatures[i, first + r]))
        out[k] = _fmix64(acc ^ np.uint64(band))
    return out


@njit(inline="always")
def _value_table(values):
    """An open-addressing hash table of ``values`` (unique): slots of values and their indices,
    small enough to stay in cache."""
    size = 16
    while size < 4 * len(values):
        size *= 2
    mask = np.uint64(size - 1)
    table = np.empty(size, dtype=np.uint64)
    index = np.full(size, -1, dtype=np.int64)
    for k in range(len(values)):
        v = np.uint64(values[k])
        h = _fmix64(v) & mask
        while index[h] >= 0:
            h = (h + np.uint64(1)) & mask
        index[h] = k
        table[h] = v
    return table, index, mask


@njit(inline="always")
def _lookup(table, index, mask, key):
    """The index of ``key`` among the table's values, or -1."""
    k = np.uint64(key)
    h = _fmix64(k) & mask
    while index[h] >= 0:
        if table[h] == k:
            return index[h]
        h = (h + np.uint64(1)) & mask
    return -1


@njit(cache=True, nogil=True)
def rows_in(keys, values):
    """The rows (ascending) whose key is one of ``values`` (unique), probed once per row in a hash
    table of the values."""
    table, index, mask = _value_table(values)
    out = np.empty(len(keys), dtype=np.int64)
    m = 0
    for r in range(len(keys)):
        if _lookup(table, index, mask, keys[r]) >= 0:
            out[m] = r
            m += 1
    return out[:m]


@njit(cache=True, nogil=True)
def value_index(keys, values):
    """For each key, the index of its value in ``values`` (unique), or -1 (int32)."""
    table, index, mask = _value_table(values)
    out = np.empty(len(keys), dtype=np.int32)
    for r in range(len(keys)):
        out[r] = _lookup(table, index, mask, keys[r])
    return out


@njit(cache=True, nogil=True)
def repeated_values(a, b):
    """The values that occur at least twice in the sorted arrays ``a`` and ``b`` together,
    ascending, each once: one merge-like walk over both (a sort's halves, sorted on two threads)."""
    out = np.empty((len(a) + len(b)) // 2, a.dtype)
    i = j = m = 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and a[i] <= b[j]):
            v = a[i]
        else:
            v = b[j]
        count = 0
        while i < len(a) and a[i] == v:
            i += 1
            count += 1
        while j < len(b) and b[j] == v:
            j += 1
            count += 1
        if count > 1:
            out[m] = v
            m += 1
    return out[:m].copy()


@njit(cache=True, nogil=True)
def seed_groups(group, docs, groups):
    """Per group ``0 .. groups - 1`` (``group[r]`` of each occurrence, -1 for none): how many
    occurrences it has and in how many documents. A document's occurrences must be contiguous (as
    :func:`seeds_in` gives them), so that counting changes of document counts documents."""
    sizes = np.zeros(groups, np.int64)
    freq = np.zeros(groups, np.int64)
    last = np.full(groups, -1, np.int64)
    for r in range(len(group)):
        g = group[r]
        if g >= 0:
            sizes[g] += 1
            if last[g] != docs[r]:
                freq[g] += 1
                last[g] = docs[r]
    return sizes, freq


@njit(inline="always")
def _pair_part(da, db, parts):
    """The part of ``parts`` the document pair ``(da, db)`` (da < db) falls in: a hash of the
    pair, so that every seed row of one pair lands in one part, and parts are even in size
    whatever documents are hubs."""
    h = (np.uint64(da) * np.uint64(0x9E3779B97F4A7C15)) ^ (np.uint64(db) * np.uint64(0xC2B2AE3D27D4EB4F))
    h ^= h >> np.uint64(29)
    return np.int64(h % np.uint64(parts))


@njit(inline="always")
def _in_part(da, db, parts, part):
    """Whether the document pair ``(da, db)`` falls in ``part`` of ``parts`` (:func:`_pair_part`)."""
    return parts <= 1 or _pair_part(da, db, parts) == part


@njit(cache=True, nogil=True)
def route_seed_rows(rows, parts, out):
    """Seed rows (``n x 4``: doc_a, pos_a, doc_b, pos_b) by the part of their document pair
    (:func:`_pair_part`), copied into ``out`` (``n x 4``, any integer type wide enough): a counting
    sort, stable within a part. Returns where each part starts in ``out`` (``parts + 1`` bounds)."""
    n = len(rows)
    part = np.empty(n, np.int64)
    bounds = np.zeros(parts + 1, np.int64)
    for i in range(n):
        p = _pair_part(rows[i, 0], rows[i, 2], parts)
        part[i] = p
        bounds[p + 1] += 1
    for p in range(parts):
        bounds[p + 1] += bounds[p]
    at = bounds[:-1].copy()
    for i in range(n):
        k = at[part[i]]
        at[part[i]] = k + 1
        for c in range(4):
            out[k, c] = rows[i, c]
    return bounds


@njit(inline="always")
def _put(out, m, write, da, pa, db, pb):
    if write:
        out[m, 0], out[m, 1], out[m, 2], out[m, 3] = da, pa, db, pb


@njit(inline="always")
def _cross_pairs(members, start, star, docs, pos, marked, parts, part, out, write):
    """Count (and, with ``write``, list in ``out``) the pairs of each group's members in two
    documents, holding a marked document when ``marked`` is not empty, in ``part`` of ``parts``.

    A group marked ``star`` pairs each occurrence with its hub only: the first occurrence in the
    group's smallest document (linear in occurrences); the others, every two occurrences."""
    use_marked = len(marked) > 0
    m = 0
    for g in range(len(start) - 1):
        if star[g]:
            hub = -1
            for x in range(start[g], start[g + 1]):
                i = members[x]
                if hub < 0 or docs[i] < docs[hub]:
                    hub = i
            dh = docs[hub]
            for x in range(start[g], start[g + 1]):
                j = members[x]
                dj = docs[j]
                if dj == dh or (use_marked and not (marked[dh] or marked[dj])):
                    continue
                if not _in_part(dh, dj, parts, part):
                    continue
                _put(out, m, write, dh, pos[hub], dj, pos[j])
                m += 1
            continue
        for x in range(start[g], start[g + 1]):
            i = members[x]
            di = docs[i]
            for y in range(x + 1, start[g + 1]):
                j = members[y]
                dj = docs[j]
                if di == dj or (use_marked and not (marked[di] or marked[dj])):
                    continue
                if di < dj:
                    if _in_part(di, dj, parts, part):
                        _put(out, m, write, di, pos[i], dj, pos[j])
                        m += 1
                elif _in_part(dj, di, parts, part):
                    _put(out, m, write, dj, pos[j], di, pos[i])
                    m += 1
    return m


@njit(cache=True, nogil=True)
def seed_group_pairs(group, docs, pos, keep, star, sizes, marked, parts, part):
    """Rows ``(doc_a, pos_a, doc_b, pos_b)``, doc_a < doc_b, of the occurrences of each kept group
    (``keep``, ``sizes`` per group as :func:`seed_groups` counts them) in two documents: every two
    of them, or for a ``star`` group each one with the hub (see :func:`_cross_pairs`); with
    ``marked`` (a bool per document) not empty, only pairs holding a marked document; only the
    document pairs in ``part`` of ``parts`` (:func:`_in_part`). The occurrences are placed by
    group with one counting pass, not sorted."""
    start = np.zeros(len(keep) + 1, np.int64)
    for g in range(len(keep)):
        start[g + 1] = start[g] + (sizes[g] if keep[g] else 0)
    fill = start[:-1].copy()
    members = np.empty(start[-1], np.int64)
    for r in range(len(group)):
        g = group[r]
        if g >= 0 and keep[g]:
            members[fill[g]] = r
            fill[g] += 1
    out = np.empty((0, 4), np.int64)
    n = _cross_pairs(members, start, star, docs, pos, marked, parts, part, out, False)
    out = np.empty((n, 4), np.int64)
    _cross_pairs(members, start, star, docs, pos, marked, parts, part, out, True)
    return out


@njit(cache=True, nogil=True)
def group_pairs(sorted_keys, order, max_group):
    """The pairs of rows sharing a key, as :func:`dedupe.grouping.pairs_in_groups` lists them,
    from keys sorted by a stable argsort (``order``), so each group's rows are in ascending order.
    ``max_group < 0``: no cap. Returns the pairs and (groups, largest, oversized)."""
    n = len(sorted_keys)
    run_start = np.empty(n // 2 + 1, dtype=np.int64)  # the groups of two or more rows
    run_end = np.empty(n // 2 + 1, dtype=np.int64)
    total = 0
    groups = largest = oversized = 0
    s = 0
    while s < n:
        e = s + 1
        while e < n and sorted_keys[e] == sorted_keys[s]:
            e += 1
        m = e - s
        if m > 1:
            run_start[groups] = s
            run_end[groups] = e
            groups += 1
            largest = max(largest, m)
            if max_group >= 0 and m > max_group:
                oversized += 1
                total += 2 * m - 3
            else:
                total += m * (m - 1) // 2
        s = e
    out = np.empty((total, 2), dtype=np.int64)
    k = 0
    for g in range(groups):
        s = run_start[g]
        e = run_end[g]
        if max_group >= 0 and e - s > max_group:
            for q in range(s + 1, e):  # a star around the first row
                out[k, 0] = order[s]
                out[k, 1] = order[q]
                k += 1
            for q in range(s + 1, e - 1):  # and each row with the next
                out[k, 0] = order[q]
                out[k, 1] = order[q + 1]
                k += 1
        else:
            for p in range(s, e):
                for q in range(p + 1, e):
                    out[k, 0] = order[p]
                    out[k, 1] = order[q]
                    k += 1
    return out, groups, largest, oversized


@njit(cache=True, nogil=True)
def skewed_pairs(sorted_keys, rows, sizes, min_ratio, max_group, n):
    """The pairs of rows sharing a key whose set sizes differ by ``min_ratio`` or more, as codes
    ``low * n + high`` (rows ``low < high``): the containment candidates one MinHash value gives
    (:func:`dedupe.lsh.containment_pairs`). ``rows`` are ordered by key and, within a key, by
    size (a stable sort by key of rows sorted by size), so each short row meets its long partners
    as one run of its group. Groups larger than ``max_group`` (a value common to many texts,
    boilerplate) give no pairs. Returns the codes and how many groups were too large."""
    m = len(sorted_keys)
    total = 0
    oversized = 0
    out = np.empty(0, dtype=np.int64)
    for phase in range(2):  # count, then fill
        if phase == 1:
            out = np.empty(total, dtype=np.int64)
        k = 0
        s = 0
        while s < m:
            e = s + 1
            while e < m and sorted_keys[e] == sorted_keys[s]:
                e += 1
            if e - s > max_group:
                if phase == 0:
                    oversized += 1
            elif e - s > 1:
                hi = s + 1
                for a in range(s, e):
                    need = min_ratio * sizes[rows[a]]
                    if hi <= a:
                        hi = a + 1
                    while hi < e and sizes[rows[hi]] < need:
                        hi += 1
                    if phase == 0:
                        total += e - hi
                    else:
                        x = rows[a]
                        for b in range(hi, e):
                            y = rows[b]
                            out[k] = min(x, y) * n + max(x, y)
                            k += 1
            s = e
    return out, oversized


@njit(cache=True, nogil=True)
def pair_intersections(flat, starts, ends, left, right, need):
    """``|A & B|`` for each pair of sets ``(left[k], right[k])`` of a flat store
    (:class:`dedupe.shingle.ShingleSets`): the verify stage's merge, over a whole batch of pairs in
    one call, without the GIL (so threads can share the pairs).

    The merge is branch-free (which side advances is arithmetic, not a jump the CPU must guess).
    A pair stops early, with -1, once even sharing every remaining value could not bring its
    count to ``need[k]`` (0: always count to the end)."""
    out = np.empty(len(left), dtype=np.int64)
    for k in range(len(left)):
        i = starts[left[k]]
        i_end = ends[left[k]]
        j = starts[right[k]]
        j_end = ends[right[k]]
        target = need[k]
        count = 0
        while i < i_end and j < j_end:
            if count + min(i_end - i, j_end - j) < target:
                count = -1
                break
            x = flat[i]
            y = flat[j]
            count += x == y
            i += x <= y
            j += y <= x
        out[k] = count
    return out


@njit(cache=True)
def _longest_match(a, b, alo, ahi, blo, bhi, values, where, first, lens, stamps, generation):
    """difflib's ``find_longest_match`` without junk: the longest common run of ``a[alo:ahi]`` and
    ``b[blo:bhi]``, the one ending first in ``a`` (then in ``b``) among equally long ones.

    As difflib does, it walks only the places where words match: for each word of ``a``, the
    positions of that word in ``b`` (``values``: b's distinct words, sorted; ``where[first[v] :
    first[v + 1]]``: word ``v``'s positions, ascending), each extending the run that ended just
    before it on the previous row. Two rows of run lengths by position in ``b`` (``lens``), each
    entry valid only under its stamp (this call's ``generation`` and the row), so nothing is
    cleared between rows or calls: the work is the matches, not ``len(a) x len(b)`` cells."""
    besti, bestj, bestsize = alo, blo, 0
    base = generation * (len(a) + 2)
    for i in range(alo, ahi):
        v = np.searchsorted(values, a[i])
        if v == len(values) or values[v] != a[i]:
            continue
        row, before = i & 1, (i - 1) & 1
        for t in range(first[v], first[v + 1]):
            j = where[t]
            if j < blo:
                continue
            if j >= bhi:
                break
            k = 1
            if j > 0 and stamps[before, j - 1] == base + i - 1:
                k = lens[before, j - 1] + 1
            lens[row, j] = k
            stamps[row, j] = base + i
            if k > bestsize:
                besti, bestj, bestsize = i - k + 1, j - k + 1, k
    return besti, bestj, bestsize


@njit(cache=True)
def _longest_match_cells(a, b, alo, ahi, blo, bhi, prev, cur):
    """:func:`_longest_match` by filling every cell: cheaper for small spans (the windows
    :func:`extend` matches), where building b's index would cost more than the cells."""
    besti, bestj, bestsize = alo, blo, 0
    width = bhi - blo
    for t in range(width + 1):
        prev[t] = 0
    for i in range(alo, ahi):
        cur[0] = 0
        ai = a[i]
        for j in range(blo, bhi):
            if b[j] == ai:
                k = prev[j - blo] + 1
                cur[j - blo + 1] = k
                if k > bestsize:
                    besti, bestj, bestsize = i - k + 1, j - k + 1, k
            else:
                cur[j - blo + 1] = 0
        prev, cur = cur, prev
    return besti, bestj, bestsize


_SMALL_CELLS = 4096  # below this many cells, matching_blocks fills them (no index of b)


@njit(cache=True)
def matching_blocks(a, b):
    """``difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()`` for two integer
    arrays, without the final empty block: an ``m x 3`` array of ``(i, j, size)`` runs, in order.
    Equal arrays (a passage copied word for word, the common case) are one block, found without
    a search; otherwise a span of up to ``_SMALL_CELLS`` cells is searched cell by cell, a larger
    one through difflib's index of b (matching words only)."""
    la, lb = len(a), len(b)
    if la == lb and la > 0:
        same = True
        for i in range(la):
            if a[i] != b[i]:
                same = False
                break
        if same:
            whole = np.empty((1, 3), np.int64)
            whole[0, 0], whole[0, 1], whole[0, 2] = 0, 0, la
            return whole
    small = la * lb <= _SMALL_CELLS
    if small:  # every cell is filled: no index of b (a placeholder)
        where = np.empty(0, np.int64)
        values = np.empty(0, b.dtype)
        first = np.zeros(1, np.int64)
    else:  # b's index: its words' positions grouped by word, ascending within a word
        where = np.argsort(b, kind="mergesort")
        distinct = 0
        for t in range(lb):
            distinct += t == 0 or b[where[t]] != b[where[t - 1]]
        values = np.empty(distinct, b.dtype)
        first = np.empty(distinct + 1, np.int64)
        d = 0
        for t in range(lb):
            if t == 0 or b[where[t]] != b[where[t - 1]]:
                values[d] = b[where[t]]
                first[d] = t
                d += 1
        first[distinct] = lb
    width = 1 if small else max(lb, 1)
    lens = np.zeros((2, width), np.int64)
    stamps = np.full((2, width), -1, np.int64)
    prev = np.zeros(lb + 1, np.int64)
    cur = np.zeros(lb + 1, np.int64)
    generation = 0
    found = np.empty((min(la, lb) + 1, 3), np.int64)
    count = 0
    stack = np.empty((2 * (min(la, lb) + 1) + 2, 4), np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = 0, la, 0, lb
    top = 1
    while top:
        top -= 1
        alo, ahi, blo, bhi = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        if small or (ahi - alo) * (bhi - blo) <= _SMALL_CELLS:
            i, j, k = _longest_match_cells(a, b, alo, ahi, blo, bhi, prev, cur)
        else:
            i, j, k = _longest_match(a, b, alo, ahi, blo, bhi, values, where, first, lens, stamps, generation)
            generation += 1
        if k:
            found[count, 0], found[count, 1], found[count, 2] = i, j, k
            count += 1
            if alo < i and blo < j:
                stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = alo, i, blo, j
                top += 1
            if i + k < ahi and j + k < bhi:
                stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = i + k, ahi, j + k, bhi
                top += 1
    return _ordered_blocks(found, count)


@njit(cache=True)
def _ordered_blocks(found, count):
    """The ``count`` blocks found, in order of i, adjacent ones joined (as difflib returns them)."""
    # in order of i (blocks never overlap: in order in a is in order in b); an insertion sort,
    # as blocks are few and come nearly in order
    for r in range(1, count):
        i, j, k = found[r, 0], found[r, 1], found[r, 2]
        u = r - 1
        while u >= 0 and found[u, 0] > i:
            found[u + 1, 0], found[u + 1, 1], found[u + 1, 2] = found[u, 0], found[u, 1], found[u, 2]
            u -= 1
        found[u + 1, 0], found[u + 1, 1], found[u + 1, 2] = i, j, k
    out = np.empty((count, 3), np.int64)
    n = 0
    for r in range(count):
        i, j, k = found[r, 0], found[r, 1], found[r, 2]
        if n and out[n - 1, 0] + out[n - 1, 2] == i and out[n - 1, 1] + out[n - 1, 2] == j:
            out[n - 1, 2] += k  # adjacent runs, as difflib joins them
        else:
            out[n, 0], out[n, 1], out[n, 2] = i, j, k
            n += 1
    return out[:n]


@njit(cache=True)
def extend(wa, wb, a1, b1, max_gap, min_run):
    """Move the end ``(a1, b1)`` of an alignment forward over equal words, then across edits: to
    the furthest end, within ``max_gap + min_run`` words, up to which at least half of the words
    (and at least ``min_run``) are equal on both sides. Words changed, dropped or inserted near the
    end of a passage are crossed; a chance match after a long stretch of other text is not. Run on
    reversed words, it moves the start backwards."""
    window = max_gap + min_run
    while True:
        while a1 < len(wa) and b1 < len(wb) and wa[a1] == wb[b1]:
            a1 += 1
            b1 += 1
        ta, tb = wa[a1 : a1 + window], wb[b1 : b1 + window]
        if len(ta) == 0 or len(tb) == 0:
            return a1, b1
        blocks = matching_blocks(ta, tb)
        best_a, best_b, matched = -1, -1, 0
        for r in range(len(blocks)):
            i, j, k = blocks[r, 0], blocks[r, 1], blocks[r, 2]
            matched += k
            if matched >= min_run and 2 * matched >= max(i, j) + k:
                best_a, best_b = i + k, j + k
        if best_a < 0:
            return a1, b1
        a1 += best_a
        b1 += best_b


@njit
def _all(flags, lo, hi):
    for i in range(lo, hi):
        if not flags[i]:
            return False
    return True


@njit
def _name_share(titled, offset, blocks, side, matched):
    if matched == 0:
        return 1.0
    names = 0
    for r in range(len(blocks)):
        lo = offset + blocks[r, side]
        for i in range(lo, lo + blocks[r, 2]):
            names += titled[i]
    return names / matched


@njit
def _any(flags, lo, hi):
    for i in range(lo, hi):
        if flags[i]:
            return True
    return False


@njit
def _figures_apart(words_x, figure_x, x0, x1, words_y, figure_y, y0, y1):
    """Whether words ``[x0, x1)`` hold a figure that words ``[y0, y1)`` do not."""
    for i in range(x0, x1):
        if figure_x[i]:
            seen = False
            for j in range(y0, y1):
                if figure_y[j] and words_y[j] == words_x[i]:
                    seen = True
                    break
            if not seen:
                return True
    return False


@njit
def _figure_cuts(blocks, words_a, figure_a, at_a, words_b, figure_b, at_b, cuts):
    """Where an alignment changes a figure: after block ``r`` when the words between it and the
    next block state a figure on each side that the other side does not (``words_a[at_a + i]``:
    positions as the blocks give them; a figure the matcher only skipped is on both sides).
    Writes ``cuts[r]`` for each block (the last one never cuts); returns how many cut."""
    count = 0
    for r in range(len(blocks)):
        cuts[r] = False
        if r + 1 < len(blocks):
            a0, a1 = at_a + blocks[r, 0] + blocks[r, 2], at_a + blocks[r + 1, 0]
            b0, b1 = at_b + blocks[r, 1] + blocks[r, 2], at_b + blocks[r + 1, 1]
            if _figures_apart(words_a, figure_a, a0, a1, words_b, figure_b, b0, b1) and _figures_apart(
                words_b, figure_b, b0, b1, words_a, figure_a, a0, a1
            ):
                cuts[r] = True
                count += 1
    return count


@njit
def _differ_at(words_a, figure_a, x0, x1, words_b, figure_b, y0, y1):
    """Whether words ``[x0, x1)`` of a and ``[y0, y1)`` of b each state a figure the other does not."""
    return _figures_apart(words_a, figure_a, x0, x1, words_b, figure_b, y0, y1) and _figures_apart(
        words_b, figure_b, y0, y1, words_a, figure_a, x0, x1
    )


@njit
def _flagged(words, flags, lo, hi):
    """The values among words ``[lo, hi)`` that ``flags`` marks, sorted (a multiset): each run of
    adjacent flagged words is one value, its words' hashes combined in order, so that "1.2" (the
    words 1, 2) is not "2.1" and "7,024,000" is one figure."""
    k = 0
    for i in range(lo, hi):
        k += flags[i] and (i == lo or not flags[i - 1])
    out = np.empty(k, np.uint64)
    k = 0
    i = lo
    while i < hi:
        if flags[i]:
            h = words[i]
            i += 1
            while i < hi and flags[i]:
                h = (h * _MULT) ^ words[i]
                i += 1
            out[k] = h
            k += 1
        else:
            i += 1
    out.sort()
    return out


@njit
def _replaced(words_a, flags_a, a0, a1, words_b, flags_b, b0, b1):
    """How many flagged words (figures) of words ``[a0, a1)`` of a and ``[b0, b1)`` of b are
    replaced by others: the smaller of the two sides' flagged words the other side's span does
    not hold (as multisets). A reprint states its source's figures, with a slip or two; a
    templated notice states other ones throughout, wherever the matcher pairs its words."""
    fa = _flagged(words_a, flags_a, a0, a1)
    fb = _flagged(words_b, flags_b, b0, b1)
    common = intersection_size(fa, fb)
    return min(len(fa) - common, len(fb) - common)


@njit
def _grow_found(found, found_sim, order, kept, need):
    """The per-pair work arrays of :func:`align_runs`, grown to hold ``need`` alignments."""
    size = max(need, 2 * len(found))
    f2 = np.empty((size, found.shape[1]), np.int64)
    s2 = np.empty(size, np.float64)
    for t in range(len(found)):
        for c in range(found.shape[1]):
            f2[t, c] = found[t, c]
        s2[t] = found_sim[t]
    return f2, s2, np.empty(size, np.int64), np.empty(size, np.int64)


@njit(cache=True, nogil=True)
def align_runs(batch_a, batch_b, rows_a, rows_b, seeds, starts, sizes, params, similarity):
    """Align many document pairs at once: chain each pair's seeds, extend the chains, test them.

    ``batch_a``, ``batch_b``: the columns ``(words, quoted, titled, figure, offsets)`` of the
    passage batches holding the pairs' first and second documents (the same batch twice, or two),
    read in place; ``rows_a``, ``rows_b``: each pair's documents in them; ``seeds``: rows
    ``(doc_a, pos_a, doc_b, pos_b)`` as :func:`dedupe.passages.seed_pairs` gives them (sorted;
    only the positions are read); ``starts``, ``sizes``: each pair's rows; ``params``: ``ngram,
    max_gap, min_seeds, min_words, min_quote_words``; ``similarity``: ``min_similarity,
    max_name_share``.

    An extended chain whose two sides state different figures at one place (words between two
    matching blocks that hold, on each side, a figure the other side does not: a templated notice,
    not a reprint) is cut there, and each piece is tested on its own. ``conflicts`` counts the
    ends of an alignment (0 to 2) where the two sides state different figures: a cut, or the two
    words just past it (:func:`_differ_at`), plus the figures replaced inside it
    (:func:`_replaced`: a chance match of one digit must not hide a changed figure).

    Returns ``m x 6`` rows ``(pair, a0, a1, b0, b1, conflicts)`` and their similarities, pair by pair. A
    hypothesis test holds this equal to a Python reference (in tests/test_kernels.py).
    """
    words_a, quoted_a, titled_a, figure_a, offsets_a = batch_a
    words_b, quoted_b, titled_b, figure_b, offsets_b = batch_b
    n, max_gap, needed, min_words, min_quote_words = params[0], params[1], params[2], params[3], params[4]
    min_similarity, max_name_share = similarity[0], similarity[1]
    reach = n + max_gap
    capacity = 1
    for p in range(len(sizes)):
        capacity = max(capacity, sizes[p])
    # chains of the pair in hand: first_a, first_b, last_a, last_b, seeds
    chain = np.empty((capacity, 5), np.int64)
    spans = np.empty((capacity, 4), np.int64)  # the extended spans of the pair in hand
    active = np.empty(capacity, np.int64)
    done = np.empty(capacity, np.int64)
    found = np.empty((capacity, 5), np.int64)
    found_sim = np.empty(capacity, np.float64)
    order = np.empty(capacity, np.int64)
    kept = np.empty(capacity, np.int64)
    cuts = np.empty(16, np.bool_)
    out = np.empty((max(16, len(starts)), 6), np.int64)
    out_sim = np.empty(len(out), np.float64)
    count = 0
    for p in range(len(starts)):
        s, k = starts[p], sizes[p]
        oa, ob = offsets_a[rows_a[p]], offsets_b[rows_b[p]]
        wa = words_a[oa : offsets_a[rows_a[p] + 1]]
        wb = words_b[ob : offsets_b[rows_b[p] + 1]]
        chains = n_active = n_done = 0
        for r in range(s, s + k):
            pa, pb = seeds[r, 1], seeds[r, 3]
            still = 0
            for t in range(n_active):
                c = active[t]
                if pa - chain[c, 2] <= reach:
                    active[still] = c
                    still += 1
                else:
                    done[n_done] = c
                    n_done += 1
            n_active = still
            best, best_skew = -1, 0
            for t in range(n_active):
                c = active[t]
                da, db = pa - chain[c, 2], pb - chain[c, 3]
                if 0 < da <= reach and 0 < db <= reach:
                    skew = abs(da - db)
                    if best < 0 or skew < best_skew:
                        best, best_skew = c, skew
            if best < 0:
                chain[chains, 0], chain[chains, 1], chain[chains, 2], chain[chains, 3] = pa, pb, pa, pb
                chain[chains, 4] = 1
                active[n_active] = chains
                n_active += 1
                chains += 1
            else:
                chain[best, 2], chain[best, 3] = pa, pb
                chain[best, 4] += 1
        for t in range(n_active):
            done[n_done] = active[t]
            n_done += 1
        la_doc, lb_doc = len(wa), len(wb)
        ra, rb = wa[::-1].copy(), wb[::-1].copy()  # contiguous: one compiled extend, not two
        nfound = 0
        n_spans = 0
        for t in range(n_done):
            c = done[t]
            if chain[c, 4] < needed:
                continue
            a1, b1 = extend(wa, wb, chain[c, 2] + n, chain[c, 3] + n, max_gap, 2)
            ea, eb = extend(ra, rb, la_doc - chain[c, 0], lb_doc - chain[c, 1], max_gap, 2)
            a0, b0 = la_doc - ea, lb_doc - eb
            if min(a1 - a0, b1 - b0) < min(min_words, min_quote_words):
                continue
            # chains of one passage broken by a repeated stretch (a table's rows) often extend to
            # the same span: its pieces are made once (the copies would be dropped as contained)
            seen = False
            for u in range(n_spans):
                if spans[u, 0] == a0 and spans[u, 1] == a1 and spans[u, 2] == b0 and spans[u, 3] == b1:
                    seen = True
                    break
            if seen:
                continue
            spans[n_spans, 0], spans[n_spans, 1], spans[n_spans, 2], spans[n_spans, 3] = a0, a1, b0, b1
            n_spans += 1
            blocks = matching_blocks(wa[a0:a1], wb[b0:b1])
            nb = len(blocks)
            if len(cuts) < nb:
                cuts = np.empty(2 * nb, np.bool_)
            cut = _figure_cuts(blocks, words_a, figure_a, oa + a0, words_b, figure_b, ob + b0, cuts) > 0
            lo = 0
            while lo < nb:
                hi = lo
                while hi < nb - 1 and not cuts[hi]:
                    hi += 1
                if cut:  # a piece: from the start of block lo to the end of block hi
                    pa0, pb0 = a0 + blocks[lo, 0], b0 + blocks[lo, 1]
                    pa1, pb1 = a0 + blocks[hi, 0] + blocks[hi, 2], b0 + blocks[hi, 1] + blocks[hi, 2]
                else:  # the whole alignment, as extended
                    pa0, pa1, pb0, pb1 = a0, a1, b0, b1
                piece = blocks[lo : hi + 1]
                first, last = lo, hi
                lo = hi + 1
                la, lb = pa1 - pa0, pb1 - pb0
                min_len = min_words
                if _all(quoted_a, oa + pa0, oa + pa1) and _all(quoted_b, ob + pb0, ob + pb1):
                    min_len = min_quote_words
                if min(la, lb) < min_len:
                    continue
                matched = 0
                for q in range(len(piece)):
                    matched += piece[q, 2]
                sim = 2 * matched / (la + lb)
                if matched < min_len or sim < min_similarity:
                    continue
                share = min(
                    _name_share(titled_a, oa + a0, piece, 0, matched),
                    _name_share(titled_b, ob + b0, piece, 1, matched),
                )
                if share > max_name_share:
                    continue
                if nfound == len(found):
                    found, found_sim, order, kept = _grow_found(found, found_sim, order, kept, nfound + 1)
                found[nfound, 0], found[nfound, 1], found[nfound, 2], found[nfound, 3] = pa0, pa1, pb0, pb1
                # where the figures differ at its ends: a cut, or the two words just past it
                if first > 0 and cuts[first - 1]:
                    before = True
                else:
                    before = _differ_at(
                        words_a, figure_a, oa + max(pa0 - 2, 0), oa + pa0,
                        words_b, figure_b, ob + max(pb0 - 2, 0), ob + pb0,
                    )  # fmt: skip
                if last < nb - 1:
                    after = True
                else:
                    after = _differ_at(
                        words_a, figure_a, oa + pa1, oa + min(pa1 + 2, la_doc),
                        words_b, figure_b, ob + pb1, ob + min(pb1 + 2, lb_doc),
                    )  # fmt: skip
                inner = _replaced(
                    words_a, figure_a, oa + pa0, oa + pa1, words_b, figure_b, ob + pb0, ob + pb1
                )
                found[nfound, 4] = min(before + after + inner, 127)
                found_sim[nfound] = sim
                nfound += 1
        # _drop_contained: longest first (then by start), stable; keep those not inside a kept one
        for t in range(nfound):
            order[t] = t
        for t in range(1, nfound):  # insertion sort: stable, and a pair holds few alignments
            x = order[t]
            u = t - 1
            while u >= 0 and _before(found, x, order[u]):
                order[u + 1] = order[u]
                u -= 1
            order[u + 1] = x
        n_kept = 0
        for t in range(nfound):
            x = order[t]
            inside = False
            for u in range(n_kept):
                y = kept[u]
                if (
                    found[y, 0] <= found[x, 0]
                    and found[x, 1] <= found[y, 1]
                    and found[y, 2] <= found[x, 2]
                    and found[x, 3] <= found[y, 3]
                ):
                    inside = True
                    break
            if not inside:
                kept[n_kept] = x
                n_kept += 1
        for t in range(1, n_kept):  # then in order of (a0, b0), stable
            x = kept[t]
            u = t - 1
            while u >= 0 and (
                found[x, 0] < found[kept[u], 0]
                or (found[x, 0] == found[kept[u], 0] and found[x, 2] < found[kept[u], 2])
            ):
                kept[u + 1] = kept[u]
                u -= 1
            kept[u + 1] = x
        if count + n_kept > len(out):
            grown = np.empty((2 * (count + n_kept), 6), np.int64)
            grown_sim = np.empty(len(grown), np.float64)
            for t in range(count):  # loops: slice assignment costs seconds to compile
                for c in range(6):
                    grown[t, c] = out[t, c]
                grown_sim[t] = out_sim[t]
            out, out_sim = grown, grown_sim
        for t in range(n_kept):
            x = kept[t]
            out[count, 0] = p
            for c in range(5):
                out[count, c + 1] = found[x, c]
            out_sim[count] = found_sim[x]
            count += 1
    return out[:count], out_sim[:count]


@njit
def _before(found, x, y):
    """Does alignment ``x`` sort before ``y`` by (a0 - a1, a0, b0)?"""
    kx, ky = found[x, 0] - found[x, 1], found[y, 0] - found[y, 1]
    if kx != ky:
        return kx < ky
    if found[x, 0] != found[y, 0]:
        return found[x, 0] < found[y, 0]
    return found[x, 2] < found[y, 2]


@njit(cache=True, nogil=True)
def assign_nodes(doc, lo, hi):
    """Occurrence nodes of aligned word spans ``[lo, hi)`` of documents ``doc``: the spans sorted by
    document, then longest first, then by start, without repeats (see
    :func:`dedupe.passages._assign_nodes`). A span joins the first node of its document whose
    first (anchor) span and it each cover at least half of the other, and widens that node to
    their union; otherwise it opens a node. Returns each span's node and the nodes' documents,
    starts and ends, numbered in the order they open."""
    n = len(doc)
    node = np.empty(n, np.int64)
    node_doc = np.empty(n, np.int64)
    node_lo = np.empty(n, np.int64)
    node_hi = np.empty(n, np.int64)
    anchor_lo = np.empty(n, np.int64)
    anchor_hi = np.empty(n, np.int64)
    anchor_node = np.empty(n, np.int64)
    nodes = anchors = 0
    for i in range(n):
        if i == 0 or doc[i] != doc[i - 1]:
            anchors = 0
        best = -1
        for t in range(anchors):
            overlap = min(hi[i], anchor_hi[t]) - max(lo[i], anchor_lo[t])
            if 2 * overlap >= max(hi[i] - lo[i], anchor_hi[t] - anchor_lo[t]):
                best = anchor_node[t]
                node_lo[best] = min(node_lo[best], lo[i])
                node_hi[best] = max(node_hi[best], hi[i])
                break
        if best < 0:
            best = nodes
            anchor_lo[anchors], anchor_hi[anchors], anchor_node[anchors] = lo[i], hi[i], best
            anchors += 1
            node_doc[best], node_lo[best], node_hi[best] = doc[i], lo[i], hi[i]
            nodes += 1
        node[i] = best
    return node, node_doc[:nodes], node_lo[:nodes], node_hi[:nodes]


@njit(cache=True, nogil=True)
def all_set(flags, lo, hi):
    """Whether ``flags[lo[k]:hi[k]]`` are all set, for each ``k``."""
    out = np.empty(len(lo), np.bool_)
    for k in range(len(lo)):
        out[k] = _all(flags, lo[k], hi[k])
    return out


@njit(cache=True, nogil=True)
def occurrence_reps(runs, lo, hi):
    """The occurrence representing each of a passage group's nodes (see
    :func:`dedupe.passages._peel_groups`). The nodes come sorted by group, document, longest first,
    then start; ``runs`` bounds the runs of one group and document. A node is represented by the
    first node kept before it in its run that holds at least half of it, else it is kept and
    represents itself. Returns each node's representative (an index into this order)."""
    rep = np.empty(len(lo), np.int64)
    kept = np.empty(len(lo), np.int64)
    for r in range(len(runs) - 1):
        nk = 0
        for i in range(runs[r], runs[r + 1]):
            rep[i] = i
            for t in range(nk):
                j = kept[t]
                if 2 * (min(hi[i], hi[j]) - max(lo[i], lo[j])) >= hi[i] - lo[i]:
                    rep[i] = j
                    break
            if rep[i] == i:
                kept[nk] = i
                nk += 1
    return rep


@njit(inline="always")
def _push_neighbours(k, adj_start, adj, seen, placed, t, stack, top):
    """Push node ``k``'s neighbours not yet seen in walk ``t`` nor placed; returns the new top."""
    for e in range(adj_start[k], adj_start[k + 1]):
        j = adj[e]
        if seen[j] != t and not placed[j]:
            seen[j] = t
            stack[top] = j
            top += 1
    return top


@njit(cache=True, nogil=True)
def peel_groups(leaders, adj_start, adj, words, word_start, node_doc, min_similarity):
    """Passage groups grown from leaders (see :func:`dedupe.passages._peel_groups`).

    ``leaders`` are tried in order; one already placed in a group is passed over. A group grows
    from its leader along the adjacency (``adj[adj_start[k]:adj_start[k + 1]]``, node indices) to
    the nodes not yet placed, with ``words[word_start[k]:word_start[k + 1]]``, of which at least
    ``min_similarity`` align with the leader's words (:func:`matching_blocks`, after a bound: how
    many of them occur in the leader at all), and goes on only through nodes that joined. A group
    within one document (``node_doc``) is dropped; its nodes stay placed. Returns each group's
    leader and the end of its members, the members in groups, and each member's aligned words
    (the leader's: all of its words)."""
    n = len(node_doc)
    placed = np.zeros(n, np.bool_)
    seen = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    member = np.empty(n, np.int64)
    score = np.empty(n, np.int64)
    lead_of = np.empty(len(leaders), np.int64)
    end_of = np.empty(len(leaders), np.int64)
    m = groups = 0
    for t in range(len(leaders)):
        lead = leaders[t]
        if placed[lead]:
            continue
        placed[lead] = True
        seen[lead] = t
        canon = words[word_start[lead] : word_start[lead + 1]]
        vocabulary = np.sort(canon)
        first = m
        member[m], score[m] = lead, len(canon)
        m += 1
        top = _push_neighbours(lead, adj_start, adj, seen, placed, t, stack, 0)
        while top:
            top -= 1
            k = stack[top]
            ws = words[word_start[k] : word_start[k + 1]]
            need = min_similarity * len(ws)
            at = np.searchsorted(vocabulary, ws)
            bound = 0
            for u in range(len(ws)):
                if at[u] < len(vocabulary) and vocabulary[at[u]] == ws[u]:
                    bound += 1
            if bound < need:
                continue
            blocks = matching_blocks(ws, canon)
            matched = 0
            for r in range(len(blocks)):
                matched += blocks[r, 2]
            if matched < need:
                continue
            member[m], score[m] = k, matched
            m += 1
            placed[k] = True
            top = _push_neighbours(k, adj_start, adj, seen, placed, t, stack, top)
        single = True
        for u in range(first + 1, m):
            if node_doc[member[u]] != node_doc[lead]:
                single = False
                break
        if single:
            m = first
        else:
            lead_of[groups], end_of[groups] = lead, m
            groups += 1
    return lead_of[:groups], end_of[:groups], member[:m], score[:m]


@njit(cache=True, nogil=True)
def component_labels(n, xs, ys):
    """Connected components of ``0..n-1`` joined by the pairs ``(xs[k], ys[k])`` (union-find with
    path halving): each element's label, the smallest element of its component. A root is
    always joined under the smaller root, so every link points to a smaller element and one pass
    in increasing order reads the labels."""
    parent = np.arange(n)
    for k in range(len(xs)):
        a, b = xs[k], ys[k]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    for i in range(n):
        parent[i] = parent[parent[i]]
    return parent


@njit(cache=True, nogil=True)
def fold_groups(length, size, order, members, member_start, run_lo, run_hi, e_lo, e_hi, e_comp, lo, hi):
    """Fold fragment groups into longer groups (see :func:`dedupe.passages._fold_fragments`).

    Groups are taken in ``order`` (longest canonical passage first). Group ``c`` has nodes
    ``members[member_start[c]:member_start[c + 1]]``, ``size[c]`` of them, spans ``[lo, hi)``;
    node ``k``'s document holds the entries ``run_lo[k]:run_hi[k]`` (``e_lo``, ``e_hi``,
    ``e_comp``: every node's span and group), longest group first. A group folds into the
    longer group whose occurrences hold at least half of most of its occurrences (ties: the
    larger, then the first group), when they hold at least two and at least half of them.
    Returns each group's final group."""
    groups = len(length)
    parent = np.arange(groups)
    counts = np.zeros(groups, np.int64)
    mark = np.full(groups, -1, np.int64)
    touched = np.empty(groups, np.int64)
    for c in order:
        longer = length[c]
        nt = 0
        for u in range(member_start[c], member_start[c + 1]):
            k = members[u]
            for e in range(run_lo[k], run_hi[k]):
                cj = e_comp[e]
                if length[cj] <= longer:
                    break
                if 2 * (min(hi[k], e_hi[e]) - max(lo[k], e_lo[e])) >= hi[k] - lo[k]:
                    r = cj
                    while parent[r] != r:
                        r = parent[r]
                    if mark[r] != u:  # once per occurrence
                        mark[r] = u
                        if counts[r] == 0:
                            touched[nt] = r
                            nt += 1
                        counts[r] += 1
        if nt:
            best = touched[0]
            for t in range(1, nt):
                r = touched[t]
                if counts[r] > counts[best] or (
                    counts[r] == counts[best]
                    and (size[r] > size[best] or (size[r] == size[best] and r < best))
                ):
                    best = r
            if counts[best] >= 2 and 2 * counts[best] >= size[c]:
                parent[c] = best
            for t in range(nt):
                counts[touched[t]] = 0
    for c in range(groups):
        r = c
        while parent[r] != r:
            r = parent[r]
        parent[c] = r
    return parent


@njit(cache=True, nogil=True)
def pack_seed_rows(rows, doc_bits, pos_bits, out, at):
    """Seed rows ``(doc_a, pos_a, doc_b, pos_b)`` as keys ``doc_a | doc_b | pos_a | pos_b`` (most
    significant first, ``doc_bits`` and ``pos_bits`` wide), written to ``out[at:]``: sorting the
    keys sorts the rows by (doc_a, doc_b, pos_a, pos_b)."""
    db, pb = np.uint64(doc_bits), np.uint64(pos_bits)
    for i in range(len(rows)):
        k = (np.uint64(rows[i, 0]) << db) | np.uint64(rows[i, 2])
        k = (k << pb) | np.uint64(rows[i, 1])
        out[at + i] = (k << pb) | np.uint64(rows[i, 3])


@njit(cache=True, nogil=True)
def unpack_seed_rows(keys, doc_bits, pos_bits):
    """The rows :func:`pack_seed_rows` packed, read back from their keys."""
    out = np.empty((len(keys), 4), np.int64)
    db, pb = np.uint64(doc_bits), np.uint64(pos_bits)
    doc_mask = (np.uint64(1) << db) - np.uint64(1)
    pos_mask = (np.uint64(1) << pb) - np.uint64(1)
    for i in range(len(keys)):
        k = keys[i]
        out[i, 3] = np.int64(k & pos_mask)
        k >>= pb
        out[i, 1] = np.int64(k & pos_mask)
        k >>= pb
        out[i, 2] = np.int64(k & doc_mask)
        out[i, 0] = np.int64(k >> db)
    return out


@njit(cache=True, nogil=True)
def once_seeds(seeds, offsets):
    """Each document's anchors: the seeds found exactly once in it (a seed a text repeats, as a
    refrain, would pair every occurrence with every other), by hash, with their positions.
    ``seeds``, ``offsets``: document ``d``'s seed hashes at ``seeds[offsets[d]:offsets[d + 1]]``,
    in text order. Returns the hashes, positions and offsets of each document's anchors."""
    n = len(offsets) - 1
    hashes = np.empty(len(seeds), np.uint64)
    where = np.empty(len(seeds), np.int64)
    starts = np.zeros(n + 1, np.int64)
    o = 0
    for d in range(n):
        seg = seeds[offsets[d] : offsets[d + 1]]
        order = np.argsort(seg, kind="mergesort")
        i = 0
        while i < len(seg):
            j = i + 1
            while j < len(seg) and seg[order[j]] == seg[order[i]]:
                j += 1
            if j == i + 1:
                hashes[o] = seg[order[i]]
                where[o] = order[i]
                o += 1
            i = j
        starts[d + 1] = o
    return hashes[:o].copy(), where[:o].copy(), starts


@njit(cache=True, nogil=True)
def shared_anchor_rows(hashes, where, starts, pairs, docs):
    """The anchors (:func:`once_seeds`: document ``d``'s at ``starts[d]:starts[d + 1]``) each pair
    of documents shares: for each row ``(x, y)`` of ``pairs``, rows ``(docs[x], pos_x, docs[y],
    pos_y)``, pair by pair in the order given, each pair's by position in its first document."""
    total = 0
    for k in range(len(pairs)):
        x, y = pairs[k, 0], pairs[k, 1]
        total += intersection_size(hashes[starts[x] : starts[x + 1]], hashes[starts[y] : starts[y + 1]])
    rows = np.empty((total, 4), np.int64)
    o = 0
    for k in range(len(pairs)):
        x, y = pairs[k, 0], pairs[k, 1]
        first = o
        i, j = starts[x], starts[y]
        while i < starts[x + 1] and j < starts[y + 1]:
            if hashes[i] < hashes[j]:
                i += 1
            elif hashes[j] < hashes[i]:
                j += 1
            else:
                rows[o, 0], rows[o, 1], rows[o, 2], rows[o, 3] = docs[x], where[i], docs[y], where[j]
                o += 1
                i += 1
                j += 1
        if o - first > 1:
            by = np.argsort(rows[first:o, 1])
            part = rows[first:o].copy()
            for t in range(o - first):
                rows[first + t] = part[by[t]]
    return rows


@njit(cache=True, nogil=True)
def alignable_runs(seeds, min_seeds, reach, look):
    """Runs of sorted seed rows ``(doc_a, pos_a, doc_b, pos_b)`` of one document pair that hold at
    least ``min_seeds`` rows and, when that is more than one, two seeds within ``reach`` words of
    each other, in order, in both documents (each compared with the next ``look`` of its pair):
    their starts and sizes (see :func:`dedupe.passages.alignable`)."""
    n = len(seeds)
    starts = np.empty(n, np.int64)
    sizes = np.empty(n, np.int64)
    m = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and seeds[j, 0] == seeds[i, 0] and seeds[j, 2] == seeds[i, 2]:
            j += 1
        ok = j - i >= min_seeds
        if ok and min_seeds > 1:
            ok = False
            for x in range(i, j):
                for y in range(x + 1, min(x + look + 1, j)):
                    da, db = seeds[y, 1] - seeds[x, 1], seeds[y, 3] - seeds[x, 3]
                    if 0 < da <= reach and 0 < db <= reach:
                        ok = True
                        break
                if ok:
                    break
        if ok:
            starts[m], sizes[m] = i, j - i
            m += 1
        i = j
    return starts[:m].copy(), sizes[:m].copy()


def compiled() -> bool:
    """Whether numba's cache holds the core kernels as this source defines them. A fresh install
    compiles them on first use (about 20 s): the command line says so first. Unknown, and taken as
    compiled, when ``NUMBA_CACHE_DIR`` moves the cache elsewhere."""
    import os
    from pathlib import Path

    if os.environ.get("NUMBA_CACHE_DIR"):
        return True
    source = Path(__file__)
    cache = source.parent / "__pycache__"
    stamp = source.stat().st_mtime  # an index older than the source is stale: numba compiles again
    for kernel in (minhash_affine32, align_runs):  # compiled by every default scan, whatever its texts
        line = kernel.py_func.__code__.co_firstlineno
        found = cache.glob(f"kernels.{kernel.py_func.__name__}-{line}.py*.nbi")
        if not any(f.stat().st_mtime >= stamp for f in found):
            return False
    return True
