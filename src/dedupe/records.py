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
    ``jaccard`` or ``containment``; it is ``None`` for a pair that was verified and rejected.
    """

    a: str
    b: str
    jaccard_estimate: float
    jaccard: float
    containment_a_in_b: float
    containment_b_in_a: float
    shared_shingles: int
    match: str | None


@dataclass(frozen=True, slots=True)
class MemberScore:
    """A cluster member's scores against the cluster's representative."""

    id: str
    jaccard_estimate: float
    jaccard: float
    containment_in_representative: float
    representative_contained: float


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
