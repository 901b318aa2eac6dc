"""The result of a run: documents, skipped inputs, clusters, pairs and the parameters used."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from json.encoder import encode_basestring as _encode_str
from typing import Any, overload

from .passages import PassageGroup, ReuseCluster
from .records import Cluster, DocumentInfo, MemberScore, PairScore, Skipped

# 2.0: members are scored against the document they matched (matched_to; the containments renamed),
# with their rule and relation to the source; pairs carry aligned shares and a template flag;
# passage groups a kind
SCHEMA_VERSION = "2.1"


def _round(x: float) -> float:
    return round(float(x), 6)


class Documents(Sequence[DocumentInfo]):
    """The processed documents as columns (``ids``, ``sources``, ``chars``, ``shingles``,
    ``notes``: one list each), read as a sequence of :class:`DocumentInfo` records, equal to a
    list of the same records. A record is made only when one is read: the pipeline had made a
    million frozen records for a million documents (1 to 1.7 s) that the writers only formatted, and
    :meth:`json_lines` formats the columns directly."""

    __slots__ = ("ids", "sources", "chars", "shingles", "notes")

    def __init__(
        self,
        ids: list[str],
        sources: list[str],
        chars: list[int],
        shingles: list[int],
        notes: list[tuple[str, ...]],
    ) -> None:
        self.ids, self.sources, self.chars, self.shingles, self.notes = ids, sources, chars, shingles, notes

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, k: int) -> DocumentInfo: ...

    @overload
    def __getitem__(self, k: slice) -> list[DocumentInfo]: ...

    def __getitem__(self, k: int | slice) -> DocumentInfo | list[DocumentInfo]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        return DocumentInfo(self.ids[k], self.sources[k], self.chars[k], self.shingles[k], self.notes[k])

    def __iter__(self) -> Iterator[DocumentInfo]:
        return map(DocumentInfo, self.ids, self.sources, self.chars, self.shingles, self.notes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Documents({list(self)!r})"

    def json_lines(self) -> list[str]:
        """:func:`document_json` of each document, from the columns."""
        return list(map(_document_line, self.ids, self.sources, self.chars, self.shingles, self.notes))


def documents_json(documents: Sequence[DocumentInfo]) -> list[str]:
    """:func:`document_json` of each document (by the columns when they are :class:`Documents`)."""
    if isinstance(documents, Documents):
        return documents.json_lines()
    return [document_json(d) for d in documents]


@dataclass(frozen=True)
class Result:
    """Everything a report needs. Lists are sorted: documents, clusters and pairs by id.
    ``documents`` is a sequence of :class:`DocumentInfo` (a :class:`Documents` from the pipeline)."""

    params: dict[str, Any]
    documents: Sequence[DocumentInfo]
    skipped: list[Skipped]
    clusters: list[Cluster]
    pairs: list[PairScore]
    passages: list[PassageGroup] = field(default_factory=list)
    reuse_clusters: list[ReuseCluster] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def documents_read(self) -> int:
        return len(self.documents) + len(self.skipped)

    @property
    def clustered(self) -> int:
        return sum(len(c.members) for c in self.clusters)

    def cluster_of(self) -> dict[str, str]:
        """Document id -> cluster id, for clustered documents."""
        return {m: c.id for c in self.clusters for m in c.members}

    def removed(self) -> dict[str, str]:
        """For dedup: each clustered document that is not its cluster's representative -> the representative."""
        return {m: c.representative for c in self.clusters for m in c.members if m != c.representative}

    @property
    def passages_searched(self) -> bool:
        """False when the run did not look for passages (switched off, or an engine without them)."""
        return bool(self.params.get("passages", {}).get("enabled", True)) and not isinstance(
            self.stats.get("passages"), str
        )

    def summary(self) -> dict[str, int]:
        return summary(
            len(self.documents),
            len(self.skipped),
            self.clustered,
            len(self.clusters),
            len(self.pairs),
            len(self.passages),
            len(self.reuse_clusters),
        )

    def summary_line(self) -> str:
        return summary_line(self.summary(), self.passages_searched)

    def to_dict(self, records: bool = True) -> dict[str, Any]:
        """The documented JSON structure (see README, 'JSON output'). ``records=False`` leaves the
        long lists (documents, clusters, pairs, passages, reuse clusters) as None, for a writer
        that encodes their records itself (:func:`document_json`, :func:`cluster_json`,
        :func:`pair_json`, ``to_json``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "params": self.params,
            "summary": self.summary(),
            "documents": [document_dict(d) for d in self.documents] if records else None,
            "skipped": [{"source": s.source, "id": s.id, "reason": s.reason} for s in self.skipped],
            "clusters": [cluster_dict(c) for c in self.clusters] if records else None,
            "pairs": [pair_dict(p) for p in self.pairs] if records else None,
            "passages": [p.to_dict() for p in self.passages] if records else None,
            "reuse_clusters": [c.to_dict() for c in self.reuse_clusters] if records else None,
            "stats": self.stats,
        }


def document_dict(d: DocumentInfo) -> dict[str, Any]:
    """A document as the JSON output has it."""
    out: dict[str, Any] = {"id": d.id, "source": d.source, "chars": d.chars, "shingles": d.shingles}
    if d.notes:
        out["notes"] = list(d.notes)
    return out


def document_json(d: DocumentInfo) -> str:
    """``json`` encoding of :func:`document_dict` (``ensure_ascii=False``), three times as fast:
    a million of these are most of a large result's JSON."""
    return _document_line(d.id, d.source, d.chars, d.shingles, d.notes)


def _document_line(doc_id: str, source: str, chars: int, shingles: int, notes: tuple[str, ...]) -> str:
    line = f'{{"id": {_encode_str(doc_id)}, "source": {_encode_str(source)}, "chars": {chars:d}, "shingles": {shingles:d}'
    if notes:
        return f'{line}, "notes": [{", ".join(map(_encode_str, notes))}]}}'
    return line + "}"


def summary(
    documents: int, skipped: int, clustered: int, clusters: int, pairs: int, passage_groups: int, reuse: int
) -> dict[str, int]:
    """The JSON summary's counts: what every engine reports, whether or not it holds the records."""
    return {
        "documents_read": documents + skipped,
        "documents": documents,
        "skipped": skipped,
        "clustered": clustered,
        "clusters": clusters,
        "pairs": pairs,
        "passage_groups": passage_groups,
        "reuse_clusters": reuse,
    }


def summary_line(s: dict[str, int], passages_searched: bool = True) -> str:
    """One line for people: documents read, clusters and passages."""

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    passages = (
        f"{n(s['passage_groups'], 'shared passage')}; {n(s['reuse_clusters'], 'reuse cluster')}"
        if passages_searched
        else "shared passages not searched"
    )
    return (
        f"{n(s['documents_read'], 'document')} read ({s['documents']} processed, {s['skipped']} skipped); "
        f"{n(s['clusters'], 'near-duplicate cluster')} holding {n(s['clustered'], 'document')}; {passages}"
    )


def _json_score(x: float) -> str:
    """A score rounded to 6 decimals as ``json`` writes it (NaN and infinities as json spells them)."""
    v = round(float(x), 6)
    if math.isfinite(v):
        return float.__repr__(v)
    return "NaN" if v != v else "Infinity" if v > 0 else "-Infinity"


def _json_bool(b: bool) -> str:
    return "true" if b else "false"


def _json_str_or_null(x: str | None) -> str:
    return "null" if x is None else _encode_str(x)


def member_json(s: MemberScore) -> str:
    """``json`` encoding of a cluster member's scores as :func:`cluster_dict` gives them."""
    diffs = ", ".join(
        f'{{"kind": {_encode_str(k)}, "start": {a:d}, "end": {b:d}}}' for k, a, b in s.differences
    )
    return (
        f'{{"id": {_encode_str(s.id)}, "jaccard_estimate": {_json_score(s.jaccard_estimate)}, '
        f'"jaccard": {_json_score(s.jaccard)}, '
        f'"containment_in_matched": {_json_score(s.containment_in_matched)}, '
        f'"matched_contained": {_json_score(s.matched_contained)}, '
        f'"aligned_in_matched": {_json_score(s.aligned_in_matched)}, '
        f'"matched_aligned": {_json_score(s.matched_aligned)}, '
        f'"matched_to": {_encode_str(s.matched_to)}, "match": {_json_str_or_null(s.match)}, "relation": {_encode_str(s.relation)}, '
        f'"kept": {_json_score(s.kept)}, "added_chars": {s.added_chars:d}, '
        f'"changed_words": {s.changed_words:d}, "differences": [{diffs}]}}'
    )


def cluster_json(c: Cluster) -> str:
    """``json`` encoding of :func:`cluster_dict` (``ensure_ascii=False``), written directly: a
    large result has tens of thousands of clusters, and building each one's dicts for json's
    encoder took most of their writing time. A hypothesis test holds the two equal."""
    h = c.cohesion
    return (
        f'{{"id": {_encode_str(c.id)}, "size": {len(c.members):d}, '
        f'"members": [{", ".join(map(_encode_str, c.members))}], '
        f'"representative": {_encode_str(c.representative)}, '
        f'"cohesion": {{"min_jaccard": {_json_score(h.min_jaccard)}, "mean_jaccard": {_json_score(h.mean_jaccard)}, '
        f'"exact": {_json_bool(h.exact)}}}, "scores": [{", ".join(map(member_json, c.scores))}]}}'
    )


def pair_json(p: PairScore) -> str:
    """``json`` encoding of :func:`pair_dict` (``ensure_ascii=False``), written directly."""
    return (
        f'{{"a": {_encode_str(p.a)}, "b": {_encode_str(p.b)}, "jaccard_estimate": {_json_score(p.jaccard_estimate)}, '
        f'"jaccard": {_json_score(p.jaccard)}, "containment_a_in_b": {_json_score(p.containment_a_in_b)}, '
        f'"containment_b_in_a": {_json_score(p.containment_b_in_a)}, "shared_shingles": {p.shared_shingles:d}, '
        f'"match": {_json_str_or_null(p.match)}, "aligned_a": {_json_score(p.aligned_a)}, '
        f'"aligned_b": {_json_score(p.aligned_b)}, "template": {_json_bool(p.template)}}}'
    )


def cluster_dict(c: Cluster, rounded: bool = True) -> dict[str, Any]:
    """A cluster as the JSON output has it (scores rounded to 6 decimals unless ``rounded`` is off)."""
    r = _round if rounded else float
    return {
        "id": c.id,
        "size": len(c.members),
        "members": list(c.members),
        "representative": c.representative,
        "cohesion": {
            "min_jaccard": r(c.cohesion.min_jaccard),
            "mean_jaccard": r(c.cohesion.mean_jaccard),
            "exact": c.cohesion.exact,
        },
        "scores": [member_dict(s, r) for s in c.scores],
    }


def member_dict(s: MemberScore, r: Callable[[float], float] = _round) -> dict[str, Any]:
    out = _fields_dict(s, r)
    out["differences"] = [{"kind": k, "start": a, "end": b} for k, a, b in s.differences]
    return out


def pair_dict(p: PairScore) -> dict[str, Any]:
    return _fields_dict(p, _round)


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _fields_dict(record: Any, r: Callable[[float], float]) -> dict[str, Any]:
    """A flat record's fields in order, floats through ``r`` (``dataclasses.asdict`` deep-copies
    every value, several times slower over a large result)."""
    out = {}
    for name in _field_names(type(record)):
        v = getattr(record, name)
        out[name] = r(v) if isinstance(v, float) else v
    return out
