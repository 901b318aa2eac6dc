"""Normalisation: the text that shingles are taken from, and the way back to the original.

Steps, each switchable in :class:`~dedupe.config.NormalizeConfig`, in this order:

1. Unicode NFKC (ligatures, full-width and compatibility forms fold to their plain form);
2. casefold;
3. punctuation folding: characters of the Unicode categories P (punctuation), S (symbols) and
   Cc/Cs/Co/Cn (control, surrogate, private, unassigned) become spaces, Cf (format characters such
   as the soft hyphen and zero-width joiner) are removed;
4. whitespace folding: runs of whitespace become one space.

Two entry points give the same words:

* :func:`normalize_text` / :func:`words` work on the whole string at C speed; they feed the
  signatures.
* :func:`tokenize` also returns, for each word, its ``[start, end)`` character span in the
  *original* text, so that ``text[start:end]`` is the word as printed. It works per
  whitespace-separated run: NFKC never composes across whitespace, so the runs normalise to the
  same words as the whole text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .config import NormalizeConfig

_RUN = re.compile(r"\S+")
# the ASCII characters str.split() and \s treat as whitespace
_ASCII_SPACE = np.array([chr(c).isspace() for c in range(256)], dtype=bool)


class _FoldTable(dict):
    """``str.translate`` table for punctuation folding, filled lazily per code point."""

    def __missing__(self, code: int) -> str | None:
        cat = unicodedata.category(chr(code))
        if cat == "Cf":
            value: str | None = ""
        elif cat[0] in "PS" or cat in ("Cc", "Cs", "Co", "Cn"):
            value = " " if not chr(code).isspace() else chr(code)
        else:
            value = chr(code)
        self[code] = value
        return value


_FOLD = _FoldTable()


def _fold(text: str, cfg: NormalizeConfig) -> str:
    """Steps 1 to 3: NFKC, casefold, punctuation folding."""
    if cfg.nfkc and not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if cfg.casefold:
        text = text.casefold()
    if cfg.fold_punctuation:
        text = text.translate(_FOLD)
    return text


def normalize_text(text: str, cfg: NormalizeConfig) -> str:
    """The normalised form of ``text`` (whitespace folding included when configured)."""
    text = _fold(text, cfg)
    return " ".join(text.split()) if cfg.fold_whitespace else text


# a word broken at a line's end: a letter, a hyphen, the line break and any indent, a letter
_HYPHEN_BREAK = re.compile(r"(?<=[A-Za-z])-\r?\n[ \t]*(?=[A-Za-z])")


def join_hyphenated(text: str) -> tuple[str, list[int] | None]:
    """``text`` with each word broken by a hyphen at a line's end joined (``exam-\\nple`` ->
    ``example``), and, when anything was joined, the original index of each character kept."""
    if "-\n" not in text and "-\r\n" not in text:
        return text, None
    pieces, origin, at = [], [], 0
    for m in _HYPHEN_BREAK.finditer(text):
        pieces.append(text[at : m.start()])
        origin.extend(range(at, m.start()))
        at = m.end()
    if not pieces:
        return text, None
    pieces.append(text[at:])
    origin.extend(range(at, len(text)))
    return "".join(pieces), origin


# scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, Hiragana, Katakana,
# CJK ideographs (and their extensions and compatibility forms), halfwidth Katakana
_UNSPACED = (
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_PIECE = re.compile(f"[{_UNSPACED}]|[^{_UNSPACED}]+")


def split_unspaced(tokens: list[str]) -> list[str]:
    """Each token holding characters of a script written without spaces (Chinese, Japanese, Thai)
    cut into one token per such character (the rest of the token stays whole): word n-grams over
    those scripts are character n-grams, as a segmenter-free tool must read them."""
    out: list[str] = []
    for t in tokens:
        if t.isascii() or not _UNSPACED_CHAR.search(t):
            out.append(t)
        else:
            out.extend(_PIECE.findall(t))
    return out


def words(text: str, cfg: NormalizeConfig) -> list[str]:
    """The normalised words of ``text``: what word shingles are built from."""
    if cfg.join_hyphenated:
        text = join_hyphenated(text)[0]
    out = _fold(text, cfg).split()
    return split_unspaced(out) if cfg.split_unspaced and not text.isascii() else out


@dataclass(frozen=True, slots=True)
class Tokens:
    """Normalised words with their spans in the original text: ``original[starts[i]:ends[i]]``."""

    words: list[str]
    starts: list[int]
    ends: list[int]


def _clusters(run: str) -> list[tuple[int, int]]:
    """Split a run before every character that does not combine with the one before it."""
    bounds = [0]
    for i in range(1, len(run)):
        if not unicodedata.combining(run[i]):
            bounds.append(i)
    bounds.append(len(run))
    return list(zip(bounds, bounds[1:]))


def tokenize(text: str, cfg: NormalizeConfig) -> Tokens:
    """Normalised words of ``text`` with their original character spans (a word joined across a
    hyphenated line break spans the break)."""
    if cfg.join_hyphenated:
        joined, origin = join_hyphenated(text)
        if origin is not None:
            toks = _tokenize(joined, cfg)
            return Tokens(
                toks.words, [origin[a] for a in toks.starts], [origin[b - 1] + 1 for b in toks.ends]
            )
    return _tokenize(text, cfg)


def _tokenize(text: str, cfg: NormalizeConfig) -> Tokens:
    out_words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    if text.isascii():
        # ASCII casefold and punctuation folding map one character to one: spans carry over as they
        # are, and the word boundaries are the edges of the runs of non-space bytes (numpy)
        norm = _fold(text, cfg)
        solid = ~_ASCII_SPACE[np.frombuffer(norm.encode("ascii"), dtype=np.uint8)]
        edges = np.diff(np.concatenate(([False], solid, [False])).view(np.int8))
        return Tokens(norm.split(), np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist())
    for m in _RUN.finditer(text):
        run, base = m.group(), m.start()
        norm = _fold(run, cfg)
        if len(norm) == len(run) and (run.isascii() or _one_to_one(run, norm, cfg)):
            origin_start = list(range(base, base + len(run)))
            origin_end = [i + 1 for i in origin_start]
        else:
            origin_start, origin_end = [], []
            pieces = [(a, b, _fold(run[a:b], cfg)) for a, b in _clusters(run)]
            if "".join(p for _, _, p in pieces) == norm:
                for a, b, p in pieces:
                    origin_start.extend([base + a] * len(p))
                    origin_end.extend([base + b] * len(p))
            else:  # a composition across clusters (rare): every word of the run spans the whole run
                origin_start = [base] * len(norm)
                origin_end = [base + len(run)] * len(norm)
        for w in _RUN.finditer(norm):
            word, at = w.group(), w.start()
            if cfg.split_unspaced and _UNSPACED_CHAR.search(word):
                for piece in _PIECE.finditer(word):  # as split_unspaced cuts it, with its spans
                    out_words.append(piece.group())
                    starts.append(origin_start[at + piece.start()])
                    ends.append(origin_end[at + piece.end() - 1])
                continue
            out_words.append(word)
            starts.append(origin_start[at])
            ends.append(origin_end[w.end() - 1])
    return Tokens(out_words, starts, ends)


def _one_to_one(run: str, norm: str, cfg: NormalizeConfig) -> bool:
    """True when each character of ``run`` normalises on its own to the character at its position."""
    return all(_fold(c, cfg) == n for c, n in zip(run, norm))
