"""Typed, immutable records that flow between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Document:
    """One input document. ``text`` is kept verbatim: every offset dedupe reports indexes it."""

    id: str
    text: str
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that did not become a document, and why. ``id`` is None when none could be read."""

    source: str
    reason: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the result says about a processed document."""

    id: str
    source: str
    chars: int
    shingles: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PairScore:
    """The evidence for one verified pair of documents (``a`` < ``b`` by id).

    ``match`` names the rule that accepted the pair: ``identical`` (same shingle set),
    ``jaccard``, ``containment`` or ``aligned`` (shared passages cover enough of the shorter
    text); it is ``None`` for a pair that was verified and rejected. ``aligned_a`` and
    ``aligned_b`` are the shares of each text that the passages the two share reproduce (the
    characters they cover times their word similarity; 0 when none were found, or the passages
    were not searched); ``template``: the two state
    different figures in text they share (rejected whatever the scores).
    """

    a: str
    b: str
    jaccard_estimate: float
    jaccard: float
    containment_a_in_b: float
    containment_b_in_a: float
    shared_shingles: int
    match: str | None
    aligned_a: float = 0.0
    aligned_b: float = 0.0
    template: bool = False


@dataclass(frozen=True, slots=True)
class MemberScore:
    """A cluster member's evidence: the document it was matched to (``matched_to``: its star's
    center, or the source), its scores against that document and the rule that accepted the pair (``match``; None for
    the source itself), and what it is to the cluster's source (its representative):

    ``relation``: ``source``, ``identical`` (the same shingle set), ``reprint`` (the same text,
    laid out or punctuated differently), ``trimmed`` (a part of the source: ``kept`` says how much
    of it), ``extended`` (the source with text added: ``added_chars``) or ``edited`` (words changed,
    dropped or added: ``changed_words``). ``differences``: ``(kind, start, end)`` character spans,
    ``dropped`` in the source's text, ``added`` and ``changed`` in the member's (empty when the
    passages were not searched: the relation then comes from the scores alone)."""

    id: str
    jaccard_estimate: float
    jaccard: float
    containment_in_matched: float
    matched_contained: float
    # the share of the member, and of the document it matched, that the passages the two share
    # reproduce (the figures the aligned rule reads; 0 when the passages were not searched)
    aligned_in_matched: float = 0.0
    matched_aligned: float = 0.0
    matched_to: str = ""
    match: str | None = None
    relation: str = "source"
    kept: float = 1.0
    added_chars: int = 0
    changed_words: int = 0
    differences: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Cohesion:
    """How tightly a cluster holds together: pairwise Jaccard over its members."""

    min_jaccard: float
    mean_jaccard: float
    exact: bool


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group of near-duplicates. ``id`` is its smallest member id, so it never depends on input order."""

    id: str
    members: tuple[str, ...]
    representative: str
    scores: tuple[MemberScore, ...]
    cohesion: Cohesion
