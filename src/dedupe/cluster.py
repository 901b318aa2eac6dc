"""Clustering: accepted pairs -> connected components (union-find) -> scored clusters.

Every cluster carries its evidence: each member's scores against the representative, and
its cohesion (minimum and mean pairwise Jaccard). Union-find joins documents through chains
of accepted pairs, so a cluster can hold two members that do not match each other directly;
a low ``min_jaccard`` shows such a chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .records import Cluster, Cohesion, MemberScore

EXACT_COHESION_LIMIT = 64  # clusters up to this size get exact pairwise cohesion; larger ones, estimated


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by size."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]

    def components(self) -> list[list[int]]:
        """Components of two or more elements, each sorted, in order of their smallest element."""
        groups: dict[int, list[int]] = {}
        for x in range(len(self.parent)):
            groups.setdefault(self.find(x), []).append(x)
        return [g for g in groups.values() if len(g) > 1]


def choose_representative(
    members: Sequence[int], ids: Sequence[str], chars: Sequence[int], dates: Sequence[str | None], rule: str
) -> int:
    """The member a cluster is represented by (and dedup keeps), by a deterministic rule.

    ``longest``: most characters, then smallest id. ``earliest``: smallest date (documents
    without one come last), then most characters, then smallest id.
    """
    if rule == "earliest":
        return min(members, key=lambda m: (dates[m] is None, dates[m] or "", -chars[m], ids[m]))
    return min(members, key=lambda m: (-chars[m], ids[m]))


def build_clusters(
    n: int,
    accepted: Sequence[tuple[int, int]],
    ids: Sequence[str],
    chars: Sequence[int],
    dates: Sequence[str | None],
    rule: str,
    pair_scores: Callable[[int, int], tuple[float, float, float, float]],
    signatures: np.ndarray,
) -> list[Cluster]:
    """Scored clusters from accepted index pairs.

    ``pair_scores(i, j)`` returns (jaccard_estimate, jaccard, containment i in j, containment j in i).
    """
    uf = UnionFind(n)
    for i, j in accepted:
        uf.union(i, j)
    clusters = []
    for comp in uf.components():
        comp.sort(key=lambda m: ids[m])
        rep = choose_representative(comp, ids, chars, dates, rule)
        scores = []
        for m in comp:
            est, jac, c_m_in_rep, c_rep_in_m = pair_scores(m, rep) if m != rep else (1.0, 1.0, 1.0, 1.0)
            scores.append(MemberScore(ids[m], est, jac, c_m_in_rep, c_rep_in_m))
        clusters.append(
            Cluster(
                id=ids[comp[0]],
                members=tuple(ids[m] for m in comp),
                representative=ids[rep],
                scores=tuple(scores),
                cohesion=cohesion(comp, pair_scores, signatures),
            )
        )
    clusters.sort(key=lambda c: c.id)
    return clusters


def cohesion(comp: Sequence[int], pair_scores: Callable, signatures: np.ndarray) -> Cohesion:
    """Minimum and mean pairwise Jaccard: exact for small clusters, from signatures for large ones."""
    if len(comp) <= EXACT_COHESION_LIMIT:
        values = [pair_scores(a, b)[1] for k, a in enumerate(comp) for b in comp[k + 1 :]]
        return Cohesion(min(values), float(np.mean(values)), exact=True)
    sig = signatures[list(comp)]
    m = len(comp)
    total, lowest = 0.0, 1.0
    for k in range(m - 1):
        agree = (sig[k + 1 :] == sig[k]).mean(axis=1)
        total += float(agree.sum())
        lowest = min(lowest, float(agree.min()))
    return Cohesion(lowest, total / (m * (m - 1) / 2), exact=False)
