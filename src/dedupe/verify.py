"""Verification: exact scores for a candidate pair, and the rule that accepts it.

For shingle sets A and B:

* Jaccard ``|A & B| / |A | B|``, symmetric;
* containment of A in B ``|A & B| / |A|`` and of B in A ``|A & B| / |B|``.

A pair is accepted when its Jaccard reaches ``verify.jaccard_threshold``, or when one
document's containment in the other reaches ``verify.containment_threshold`` *and* that
document has at least ``verify.min_containment_shingles`` shingles. The size guard keeps a
headline or a one-line notice from being called a reprint of every story that quotes it.
"""

from __future__ import annotations

import numpy as np

from .config import VerifyConfig
from .minhash import estimate_jaccard
from .records import PairScore


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """``|a & b|`` for two sorted arrays of unique values."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return 0
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = 0
    return int(np.count_nonzero(b[idx] == a))


def accept(
    jaccard: float, c_ab: float, c_ba: float, size_a: int, size_b: int, cfg: VerifyConfig
) -> str | None:
    """The rule that accepts a pair (``"jaccard"`` or ``"containment"``), or None."""
    if jaccard >= cfg.jaccard_threshold:
        return "jaccard"
    if (c_ab >= cfg.containment_threshold and size_a >= cfg.min_containment_shingles) or (
        c_ba >= cfg.containment_threshold and size_b >= cfg.min_containment_shingles
    ):
        return "containment"
    return None


def score_pair(
    id_a: str,
    id_b: str,
    shingles_a: np.ndarray,
    shingles_b: np.ndarray,
    sig_a: np.ndarray,
    sig_b: np.ndarray,
    cfg: VerifyConfig,
) -> PairScore:
    """Exact and estimated scores for a pair; ids are put in order so that ``a < b``."""
    if id_b < id_a:
        id_a, id_b, shingles_a, shingles_b, sig_a, sig_b = id_b, id_a, shingles_b, shingles_a, sig_b, sig_a
    na, nb = len(shingles_a), len(shingles_b)
    inter = intersection_size(shingles_a, shingles_b)
    union = na + nb - inter
    jaccard = inter / union if union else 0.0
    c_ab = inter / na if na else 0.0
    c_ba = inter / nb if nb else 0.0
    match = "identical" if na and inter == na == nb else accept(jaccard, c_ab, c_ba, na, nb, cfg)
    return PairScore(
        a=id_a,
        b=id_b,
        jaccard_estimate=estimate_jaccard(sig_a, sig_b),
        jaccard=jaccard,
        containment_a_in_b=c_ab,
        containment_b_in_a=c_ba,
        shared_shingles=inter,
        match=match,
    )
