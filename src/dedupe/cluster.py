"""Clustering: accepted pairs -> connected components (union-find) -> scored clusters.

Union-find joins documents through chains of accepted pairs, so a component can hold two
documents that do not match each other at all: templated notices, each a little like the next.
With ``cluster.split_chains`` (the default) a component whose members do not all pass the
acceptance rule against one center is split into stars. The center is the document with the
most accepted pairs (the wire story its reprints each match; ties by the representative rule);
it takes every remaining document that passes against it directly, then the next center does,
and so on; a document that passes against no center is left unclustered. So every member of a
reported cluster matches its center by the rule itself, and no cluster is a chain.

Each cluster has a source, its representative (the earliest by date, else the fullest text),
which ``dedup`` keeps. Every member carries its evidence (:class:`~dedupe.records.MemberScore`):
the document it was matched to (the center; the center itself, to the source) with its scores
against that document and the rule that accepted the pair, so no printed score contradicts the
printed rule; and what it is to the source (identical, reprint, trimmed, extended, edited) with
the spans that differ. The cluster's cohesion is its minimum and mean pairwise Jaccard.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .records import Cluster, Cohesion, MemberScore

EXACT_COHESION_LIMIT = 64  # clusters up to this size get exact pairwise cohesion; larger ones, estimated
COHESION_SAMPLE = 32  # a larger cluster's minimum: every member against its first 32 members


def components(n: int, pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    """The connected components of ``0..n-1`` joined by ``pairs`` that hold two or more elements,
    each sorted, in order of their smallest element: by the compiled union-find
    (:func:`dedupe.kernels.component_labels`, each element labelled by its component's smallest
    element) and numpy, so a million documents cost one pass, not a million Python calls (the
    tests hold it equal to a plain Python union-find)."""
    if not len(pairs):
        return []
    from .kernels import component_labels

    ends = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    labels = component_labels(n, ends[:, 0], ends[:, 1])
    members = np.flatnonzero(np.bincount(labels, minlength=n)[labels] > 1)
    if not len(members):
        return []
    members = members[np.argsort(labels[members], kind="stable")]  # by component, each ascending
    cuts = np.flatnonzero(np.diff(labels[members])) + 1
    return [part.tolist() for part in np.split(members, cuts)]


def representative_key(
    m: int, ids: Sequence[str], chars: Sequence[int], dates: Sequence[str | None], rule: str
) -> tuple:
    """Sort key of the representative rule: the smallest key represents a cluster.

    ``longest``: most characters, then smallest id. ``earliest``: smallest date (documents
    without one come last), then most characters, then smallest id.
    """
    if rule == "earliest":
        return (dates[m] is None, dates[m] or "", -chars[m], ids[m])
    return (-chars[m], ids[m])


def choose_representative(
    members: Sequence[int], ids: Sequence[str], chars: Sequence[int], dates: Sequence[str | None], rule: str
) -> int:
    """The member a cluster is represented by (and dedup keeps)."""
    return min(members, key=lambda m: representative_key(m, ids, chars, dates, rule))


def _stars(
    comp: list[int], order_key: Callable[[int], Any], passes: Callable[[int, int], bool]
) -> list[list[int]]:
    """Split a component into stars whose every member passes against its center."""
    remaining = sorted(comp, key=order_key)
    out = []
    while len(remaining) > 1:
        center, rest = remaining[0], remaining[1:]
        members = [center] + [m for m in rest if passes(center, m)]
        if len(members) > 1:
            out.append(members)
        remaining = [m for m in rest if m not in set(members)]
    return out


def build_clusters(
    n: int,
    accepted: Sequence[tuple[int, int]],
    ids: Sequence[str],
    chars: Sequence[int],
    dates: Sequence[str | None],
    rule: str,
    member: Callable[[int, int, int], MemberScore],
    jaccard: Callable[[int, int], float],
    signatures: np.ndarray,
    passes: Callable[[int, int], bool] | None = None,
) -> list[Cluster]:
    """Scored clusters from accepted index pairs.

    ``member(m, matched, source)`` gives member m's :class:`MemberScore`: its scores against the
    document it was matched to, and its relation to the cluster's source (``m == source``: the
    source's own); ``jaccard(i, j)`` the exact Jaccard of a pair; ``passes(i, j)``, when given,
    splits chained components into stars whose every member passes against the center (see the
    module docstring).
    """
    groups = components(n, accepted)
    degree = np.bincount(np.asarray(accepted, dtype=np.int64).ravel(), minlength=n).tolist() if groups else []

    def order_key(m: int) -> tuple:
        # the best connected document first (a wire story is matched by each of its reprints)
        return (-degree[m], *representative_key(m, ids, chars, dates, rule))

    centers: list[int | None] = []
    if passes is not None:
        split = []
        for comp in groups:
            center = min(comp, key=order_key)
            if all(m == center or passes(center, m) for m in comp):
                split.append(comp)
            else:
                split.extend(_stars(comp, order_key, passes))
        groups = split
        centers = [min(comp, key=order_key) for comp in groups]
    else:
        centers = [None] * len(groups)
    clusters = []
    for comp, center in zip(groups, centers):
        comp.sort(key=lambda m: ids[m])
        rep = choose_representative(comp, ids, chars, dates, rule)

        def matched(m: int, center: int | None = center, rep: int = rep) -> int:
            # a member was matched to its star's center, the center to the source (it passes
            # against every member); without stars (split_chains off), to the source
            return rep if center is None or m == center else center

        clusters.append(
            Cluster(
                id=ids[comp[0]],
                members=tuple(ids[m] for m in comp),
                representative=ids[rep],
                scores=tuple(member(m, matched(m), rep) for m in comp),
                cohesion=cohesion(comp, jaccard, signatures),
            )
        )
    clusters.sort(key=lambda c: c.id)
    return clusters


def cohesion(comp: Sequence[int], jaccard: Callable[[int, int], float], signatures: np.ndarray) -> Cohesion:
    """Minimum and mean pairwise Jaccard: exact for small clusters; for large ones, from signatures,
    in time linear in the members: the mean over all pairs, the minimum over each member against
    the first :data:`COHESION_SAMPLE` members (``exact`` is False)."""
    if len(comp) == 2:  # most clusters: one pair, its Jaccard both the minimum and the mean
        value = jaccard(comp[0], comp[1])
        return Cohesion(value, float(value), exact=True)
    if len(comp) <= EXACT_COHESION_LIMIT:
        values = [jaccard(a, b) for k, a in enumerate(comp) for b in comp[k + 1 :]]
        return Cohesion(min(values), float(np.mean(values)), exact=True)
    sig = signatures[list(comp)]
    m, perms = sig.shape
    # the mean over all pairs, in linear time: a slot's agreeing pairs are its equal values, paired
    agreeing = 0
    for p in range(perms):
        counts = np.unique(sig[:, p], return_counts=True)[1].astype(np.int64)
        agreeing += int((counts * (counts - 1) // 2).sum())
    mean = agreeing / (perms * m * (m - 1) / 2)
    # the minimum over every member against the first COHESION_SAMPLE ones (all pairs would be
    # quadratic: 20,000 copies of one text took 20 s): at most the mean, as a minimum must be
    lowest = 1.0
    for k in range(min(COHESION_SAMPLE, m - 1)):
        lowest = min(lowest, float((sig[k + 1 :] == sig[k]).mean(axis=1).min()))
    return Cohesion(min(lowest, mean), mean, exact=False)


_DIFF_LIMIT = 3000  # words: longer aligned spans are diffed by their similarity alone


class Explainer:
    """What each cluster member is to its source, read from the passages the two share: the
    source's text they do not cover was dropped, the member's text they do not cover was added,
    and inside each aligned span the words that differ were changed (a compiled diff of the two
    spans' words, :func:`dedupe.kernels.matching_blocks`). Spans are characters of the texts.

    ``evidence``: the passage stage's :class:`~dedupe.passages.PairEvidence`; ``store``: the
    documents' passage fingerprints; ``chars``: each document's characters; ``cfg``: the passage
    settings, to align a member with its source when no alignment joins them yet (a member
    matched to the star's center, not to the source)."""

    def __init__(self, evidence: Any, store: Any, chars: Sequence[int], cfg: Any = None) -> None:
        self.store, self.chars, self.cfg = store, chars, cfg
        cols = evidence.alignments.cols
        self.cols, self.similarity = cols, evidence.alignments.similarity
        self.n = max(len(chars), 1)
        self.keys = cols[:, 0] * self.n + cols[:, 3]  # in pair order: sorted
        self.anchors: dict[int, Any] = {}  # the sources' anchors, kept while their members are aligned

    def __call__(self, score: MemberScore, m: int, rep: int) -> MemberScore:
        if m == rep or score.relation == "identical":  # the source's own shingle set: nothing to show
            return score
        a, b = (m, rep) if m < rep else (rep, m)
        lo, hi = np.searchsorted(self.keys, [a * self.n + b, a * self.n + b + 1])
        rows, similarity = self.cols[lo:hi], self.similarity[lo:hi]
        if lo == hi and self.cfg is not None:  # not aligned yet: align the two now
            from .passages import aligned_pairs

            extra = aligned_pairs(self.store, np.array([[a, b]]), self.cfg, self.anchors)
            self.anchors.pop(m, None)  # a member is aligned once; its source, with each member
            rows, similarity = extra.cols, extra.similarity
        if not len(rows):  # no passage between them: the relation the scores show
            added = max(0, self.chars[m] - self.chars[rep]) if score.relation == "extended" else 0
            return dataclasses.replace(score, added_chars=added)
        m_first = a == m
        m_spans = rows[:, 1:3] if m_first else rows[:, 4:6]
        s_spans = rows[:, 4:6] if m_first else rows[:, 1:3]
        diffs: list[tuple[str, int, int]] = []
        changed = 0
        store = self.store
        words_m, words_s = store.words_of(m), store.words_of(rep)
        for (m0, m1), (s0, s1), sim in zip(m_spans.tolist(), s_spans.tolist(), similarity.tolist()):
            if sim >= 1.0 and m1 - m0 == s1 - s0:
                continue
            if max(m1 - m0, s1 - s0) > _DIFF_LIMIT:
                changed += round((1 - sim) * ((m1 - m0) + (s1 - s0)) / 2)
                continue
            for gm0, gm1, gs0, gs1 in _gaps(words_m[m0:m1], words_s[s0:s1]):
                if gm1 > gm0 and gs1 > gs0:
                    span = ("changed", *store.char_span(m, m0 + gm0, m0 + gm1))
                    if span not in diffs:  # two alignments of a pair may overlap: counted once
                        diffs.append(span)
                        changed += max(gm1 - gm0, gs1 - gs0)
                elif gm1 > gm0:
                    diffs.append(("added", *store.char_span(m, m0 + gm0, m0 + gm1)))
                else:
                    diffs.append(("dropped", *store.char_span(rep, s0 + gs0, s0 + gs1)))
        for w0, w1 in _uncovered(s_spans, len(words_s)):
            diffs.append(("dropped", *store.char_span(rep, w0, w1)))
        for w0, w1 in _uncovered(m_spans, len(words_m)):
            diffs.append(("added", *store.char_span(m, w0, w1)))
        kinds = {k for k, _, _ in diffs}
        if score.match == "identical":
            relation = "identical"
        elif not kinds and not changed:
            relation = "reprint"
        elif kinds == {"dropped"} and not changed:
            relation = "trimmed"
        elif kinds == {"added"} and not changed:
            relation = "extended"
        else:
            relation = "edited"
        dropped = sum(e - s for k, s, e in diffs if k == "dropped")
        added = sum(e - s for k, s, e in diffs if k == "added")
        source_chars = max(1, self.chars[rep])
        return dataclasses.replace(
            score,
            relation=relation,
            kept=max(0.0, 1.0 - dropped / source_chars),
            added_chars=added,
            changed_words=changed,
            differences=tuple(sorted(set(diffs), key=lambda d: (d[0] != "dropped", d[1], d[2], d[0]))),
        )


def _gaps(x: np.ndarray, y: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The runs of ``x`` and ``y`` between their matching blocks: ``(x0, x1, y0, y1)``, either side
    possibly empty, never both."""
    from .kernels import matching_blocks

    out = []
    i = j = 0
    for bi, bj, k in [*matching_blocks(x, y).tolist(), [len(x), len(y), 0]]:
        if bi > i or bj > j:
            out.append((i, bi, j, bj))
        i, j = bi + k, bj + k
    return out


def _uncovered(spans: np.ndarray, size: int) -> list[tuple[int, int]]:
    """The word ranges of ``[0, size)`` that no span ``[w0, w1)`` covers."""
    out, at = [], 0
    for w0, w1 in sorted(spans.tolist()):
        if w0 > at:
            out.append((at, w0))
        at = max(at, w1)
    if at < size:
        out.append((at, size))
    return out
