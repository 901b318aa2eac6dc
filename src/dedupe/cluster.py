"""Clustering: accepted pairs -> connected components (union-find) -> scored clusters.

Union-find joins documents through chains of accepted pairs, so a component can hold two
documents that do not match each other at all: templated notices, each a little like the next.
With ``cluster.split_chains`` (the default) a component whose members do not all pass the
acceptance rule against one center is split into stars. The center is the document with the
most accepted pairs (the wire story its reprints each match; ties by the representative rule);
it takes every remaining document that passes against it directly, then the next center does,
and so on; a document that passes against no center is left unclustered. So every member of a
reported cluster matches its center by the rule itself, and no cluster is a chain.

Every cluster carries its evidence: each member's scores against the representative, and
its cohesion (minimum and mean pairwise Jaccard).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .records import Cluster, Cohesion, MemberScore

EXACT_COHESION_LIMIT = 64  # clusters up to this size get exact pairwise cohesion; larger ones, estimated


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
    pair_scores: Callable[[int, int], tuple[float, float, float, float]],
    signatures: np.ndarray,
    passes: Callable[[int, int], bool] | None = None,
) -> list[Cluster]:
    """Scored clusters from accepted index pairs.

    ``pair_scores(i, j)`` returns (jaccard_estimate, jaccard, containment i in j, containment j in i);
    ``passes(i, j)``, when given, splits chained components into stars (see the module docstring).
    """
    groups = components(n, accepted)
    if passes is not None:
        degree = np.bincount(np.asarray(accepted, dtype=np.int64).ravel(), minlength=n).tolist()

        def order_key(m: int) -> tuple:
            # the best connected document first (a wire story is matched by each of its reprints)
            return (-degree[m], *representative_key(m, ids, chars, dates, rule))

        split = []
        for comp in groups:
            center = min(comp, key=order_key)
            if all(m == center or passes(center, m) for m in comp):
                split.append(comp)
            else:
                split.extend(_stars(comp, order_key, passes))
        groups = split
    clusters = []
    for comp in groups:
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
    if len(comp) == 2:  # most clusters: one pair, its Jaccard both the minimum and the mean
        value = pair_scores(comp[0], comp[1])[1]
        return Cohesion(value, float(value), exact=True)
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
