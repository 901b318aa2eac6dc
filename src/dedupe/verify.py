"""Verification: exact scores for a candidate pair, and the rule that accepts it.

For shingle sets A and B:

* Jaccard ``|A & B| / |A | B|``, symmetric;
* containment of A in B ``|A & B| / |A|`` and of B in A ``|A & B| / |B|``.

The rules that may accept a pair are named by ``verify.profile`` (``exact``: identical sets;
``near``: also Jaccard; ``syndication``: also containment and aligned passages). A pair is
accepted when its sets are identical, when its Jaccard reaches ``verify.jaccard_threshold``, or
when one document's containment in the other reaches ``verify.containment_threshold`` *and* that
document has at least ``verify.min_containment_shingles`` shingles (the size guard keeps a
headline or a one-line notice from being called a reprint of every story that quotes it), or,
given the passages the two share (:meth:`Verifier.evidence`), when those cover at least
``verify.aligned_threshold`` of the shorter text: alignment survives OCR damage, copy edits,
trimming and inserted paragraphs, where shingles break. ``PairScore.match`` names the rule.

Templated notices (quarterly earnings, dividend declarations, a central bank's daily
operations) repeat the same wording with other figures; a reprint repeats the figures of the
story it copies. With ``verify.distinct_figures`` a textually similar pair is rejected when both
documents hold at least two figures and fewer than half of the smaller set of figures is found
in the other; and when the passages are searched, a pair whose aligned text states a different
figure at the same place on each side (:func:`dedupe.kernels.align_runs`) is rejected whatever
its scores: the evidence of what differs inside the shared text decides.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import numpy as np
import xxhash

from .config import VerifyConfig
from .grouping import in_sorted
from .minhash import estimate_jaccard
from .records import MemberScore, PairScore
from .shingle import ShingleSets, ascii_buffer, concat_with_offsets


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """``|a & b|`` for two sorted arrays of unique values (a compiled merge,
    :func:`dedupe.kernels.intersection_size`)."""
    from .kernels import intersection_size as merge_count

    if a.dtype != b.dtype:
        a, b = a.astype(np.uint64), b.astype(np.uint64)
    return int(merge_count(a, b))


_FIGURE = re.compile(r"\d(?:[\d.,/-]*\d)?")


def figures(text: str) -> frozenset[str]:
    """The figures a text states (``1,234.5``, ``6-3/16``, ``1987``), without thousands separators."""
    return frozenset(m.replace(",", "") for m in _FIGURE.findall(text))


def figure_hashes(texts: Sequence[str]) -> list[np.ndarray]:
    """:func:`figures` of each text as a sorted array of their XXH64 hashes (uint64): 8 bytes a
    figure, what the map stage hands on so that the texts need not stay in memory. ASCII texts go
    through one compiled pass (:func:`dedupe.kernels.figure_hashes`), the others through the regex."""
    out: list[np.ndarray | None] = [None] * len(texts)
    fast = [i for i, t in enumerate(texts) if t.isascii()]
    if fast:
        from .kernels import figure_hashes as kernel

        flat, offsets = kernel(*ascii_buffer(texts, fast))
        bounds = offsets.tolist()
        for k, i in enumerate(fast):
            out[i] = flat[bounds[k] : bounds[k + 1]]
    for i, t in enumerate(texts):
        if out[i] is None:
            found = {xxhash.xxh64_intdigest(f.encode("utf-8", "surrogatepass")) for f in figures(t)}
            out[i] = np.array(sorted(found), dtype=np.uint64)
    return out  # type: ignore[return-value]


def figure_hashes_flat(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`figure_hashes` of every text, concatenated, and the offsets of each text's part:
    what the compiled pass makes when every text is ASCII (no split and join again)."""
    if all(t.isascii() for t in texts) and texts:
        from .kernels import figure_hashes as kernel

        return kernel(*ascii_buffer(texts, list(range(len(texts)))))
    return concat_with_offsets(figure_hashes(texts), np.uint64)


def different_figures(fa: np.ndarray, fb: np.ndarray) -> bool:
    """True when both texts state at least two figures and most of the smaller set is not in the
    other (``fa``, ``fb``: :func:`figure_hashes` of the two texts)."""
    small = min(len(fa), len(fb))
    return small >= 2 and 2 * intersection_size(fa, fb) < small


def accept(
    jaccard: float, c_ab: float, c_ba: float, size_a: int, size_b: int, cfg: VerifyConfig
) -> str | None:
    """The textual rule that accepts a pair (``"jaccard"`` or ``"containment"``, as the profile
    allows), or None."""
    rules = cfg.rules
    if "jaccard" in rules and jaccard >= cfg.jaccard_threshold:
        return "jaccard"
    if "containment" in rules and (
        (c_ab >= cfg.containment_threshold and size_a >= cfg.min_containment_shingles)
        or (c_ba >= cfg.containment_threshold and size_b >= cfg.min_containment_shingles)
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
    figures: Callable[[], tuple[np.ndarray | None, np.ndarray | None]] | None = None,
) -> PairScore:
    """Exact and estimated scores for a pair; ids are put in order so that ``a < b``.

    ``figures()`` gives the two documents' figures; it is called only for a pair the textual rule
    accepts (most candidates fail it, and reading figures costs more than scoring)."""
    inter = intersection_size(shingles_a, shingles_b)
    return scored(
        id_a, id_b, len(shingles_a), len(shingles_b), inter, estimate_jaccard(sig_a, sig_b), cfg, figures
    )


def scored(
    id_a: str,
    id_b: str,
    na: int,
    nb: int,
    inter: int,
    estimate: float,
    cfg: VerifyConfig,
    figures: Callable[[], tuple[np.ndarray | None, np.ndarray | None]] | None = None,
) -> PairScore:
    """The :class:`PairScore` of a pair of sets of sizes ``na``, ``nb`` sharing ``inter`` shingles,
    whose signatures agree on a share ``estimate`` of permutations: the rule, in one place."""
    if id_b < id_a:
        id_a, id_b, na, nb = id_b, id_a, nb, na
    union = na + nb - inter
    jaccard = inter / union if union else 0.0
    c_ab = inter / na if na else 0.0
    c_ba = inter / nb if nb else 0.0
    if na and inter == na == nb:
        match: str | None = "identical"
    else:
        match = accept(jaccard, c_ab, c_ba, na, nb, cfg)
        if match and cfg.distinct_figures and figures is not None:
            fa, fb = figures()  # different_figures is symmetric: the order does not matter
            if fa is not None and fb is not None and different_figures(fa, fb):
                match = None
    return PairScore(
        a=id_a,
        b=id_b,
        jaccard_estimate=estimate,
        jaccard=jaccard,
        containment_a_in_b=c_ab,
        containment_b_in_a=c_ba,
        shared_shingles=inter,
        match=match,
    )


class Verifier:
    """The verify stage over one set of documents (indices into ``ids``): scores pairs on demand
    and keeps them, so clustering, cohesion and member scores never score a pair twice.

    :meth:`screen` takes a whole batch of candidate pairs: one compiled pass counts every pair's
    shared shingles, the rule is applied to all of them at once, and scores are made (and kept)
    only for the pairs it accepts. Most candidates fail and are never looked at again.

    ``figures`` (:func:`figure_hashes` of each document, made by the map stage) is needed when
    ``verify.distinct_figures`` is on.
    """

    def __init__(
        self,
        ids: Sequence[str],
        sets: ShingleSets | Sequence[np.ndarray],
        signatures: np.ndarray,
        cfg: VerifyConfig,
        figures: Sequence[np.ndarray] | None = None,
    ) -> None:
        if cfg.distinct_figures and figures is None:
            raise ValueError("verify.distinct_figures needs each document's figures")
        if not isinstance(sets, ShingleSets):
            sets = ShingleSets.of(sets)
        self.ids, self.sets, self.signatures, self.cfg = ids, sets, signatures, cfg
        self.figures = figures if cfg.distinct_figures else None
        self.scores: dict[tuple[int, int], PairScore] = {}
        self.sizes = sets.sizes()  # each set's shingles

    def overlaps(self, pairs: np.ndarray, threads: int = 1, need: np.ndarray | None = None) -> np.ndarray:
        """``|A & B|`` for each row ``(i, j)`` of ``pairs`` (one compiled merge per pair; with
        ``threads > 1`` the pairs are shared among threads, the kernel runs without the GIL).
        With ``need``, a pair whose count cannot reach ``need[k]`` may stop early as -1."""
        from .kernels import pair_intersections

        sets = self.sets
        left = np.ascontiguousarray(pairs[:, 0], dtype=np.int64)
        right = np.ascontiguousarray(pairs[:, 1], dtype=np.int64)
        need = np.zeros(len(pairs), dtype=np.int64) if need is None else need.astype(np.int64, copy=False)
        if threads <= 1 or len(pairs) < 20_000:
            return pair_intersections(sets.flat, sets.starts, sets.ends, left, right, need)
        from concurrent.futures import ThreadPoolExecutor

        cuts = np.linspace(0, len(pairs), threads + 1).astype(np.int64).tolist()
        with ThreadPoolExecutor(threads) as pool:
            parts = pool.map(
                lambda k: pair_intersections(
                    sets.flat,
                    sets.starts,
                    sets.ends,
                    left[cuts[k] : cuts[k + 1]],
                    right[cuts[k] : cuts[k + 1]],
                    need[cuts[k] : cuts[k + 1]],
                ),
                range(threads),
            )
            return np.concatenate(list(parts))

    def needed(self, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
        """A lower bound (one below, against rounding) on the shared shingles a pair of sets of
        these sizes needs to pass the textual rule: the smallest count at which Jaccard or an
        allowed containment could reach its threshold. An identical pair has Jaccard 1."""
        cfg = self.cfg
        jt, ct, floor = cfg.jaccard_threshold, cfg.containment_threshold, cfg.min_containment_shingles
        if "jaccard" in cfg.rules:
            need = np.floor(jt * (na + nb) / (1.0 + jt))
        else:  # identical sets only (or containment): all of the smaller set
            need = np.minimum(na, nb)
        if "containment" in cfg.rules:
            need = np.where(na >= floor, np.minimum(need, np.floor(ct * na)), need)
            need = np.where(nb >= floor, np.minimum(need, np.floor(ct * nb)), need)
        return np.maximum(need - 1, 0).astype(np.int64)

    def screen(self, pairs: np.ndarray, threads: int = 1) -> np.ndarray:
        """The verify stage over ``m x 2`` candidate pairs: True for each pair accepted.

        The textual rule (:func:`accept`, or an identical set) runs on all pairs at once, after a
        compiled pass that counts each pair's shared shingles (and gives up on a pair as soon as
        it cannot pass); a pair the rule passes is then scored from those counts by :func:`scored`
        (which adds the figures rule) and its score is kept, so the outcome and the scores are
        exactly those of :meth:`passes` pair by pair."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if not len(pairs):
            return np.zeros(0, dtype=bool)
        sizes = self.sizes
        na, nb = sizes[pairs[:, 0]].astype(np.float64), sizes[pairs[:, 1]].astype(np.float64)
        inter = self.overlaps(pairs, threads, self.needed(na, nb)).astype(np.float64)
        union = na + nb - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard = np.where(union > 0, inter / union, 0.0)
            c_ab = np.where(na > 0, inter / na, 0.0)
            c_ba = np.where(nb > 0, inter / nb, 0.0)
        cfg = self.cfg
        by_jaccard = "jaccard" in cfg.rules
        by_containment = "containment" in cfg.rules
        textual = (inter >= 0) & (
            ((na > 0) & (inter == na) & (na == nb))
            | (by_jaccard & (jaccard >= cfg.jaccard_threshold))
            | (by_containment & (c_ab >= cfg.containment_threshold) & (na >= cfg.min_containment_shingles))
            | (by_containment & (c_ba >= cfg.containment_threshold) & (nb >= cfg.min_containment_shingles))
        )
        passed = np.zeros(len(pairs), dtype=bool)
        todo = np.flatnonzero(textual)
        if not len(todo):
            return passed
        # the pairs the textual rule passes are scored from the counts already made (and kept)
        left, right = pairs[todo, 0], pairs[todo, 1]
        sigs = self.signatures
        agree = np.count_nonzero(sigs[left] == sigs[right], axis=1)
        estimates = (agree / sigs.shape[1]).tolist() if sigs.shape[1] else [0.0] * len(todo)
        counts = inter[todo].astype(np.int64).tolist()
        sizes_l, sizes_r = sizes[left].tolist(), sizes[right].tolist()
        ids, cfg, figs, kept = self.ids, self.cfg, self.figures, self.scores
        for n, (k, i, j) in enumerate(zip(todo.tolist(), left.tolist(), right.tolist())):
            key = (i, j) if i < j else (j, i)
            s = kept.get(key)
            if s is None:
                s = kept[key] = scored(
                    ids[i],
                    ids[j],
                    sizes_l[n],
                    sizes_r[n],
                    counts[n],
                    estimates[n],
                    cfg,
                    None if figs is None else (lambda i=i, j=j: (figs[i], figs[j])),
                )
            passed[k] = s.match is not None
        return passed

    def score(self, i: int, j: int) -> PairScore:
        key = (i, j) if i < j else (j, i)
        s = self.scores.get(key)
        if s is None:
            s = self.scores[key] = score_pair(
                self.ids[i],
                self.ids[j],
                self.sets[i],
                self.sets[j],
                self.signatures[i],
                self.signatures[j],
                self.cfg,
                None if self.figures is None else lambda: (self.figures[i], self.figures[j]),
            )
        return s

    def passes(self, i: int, j: int) -> bool:
        return self.score(i, j).match is not None

    def evidence(
        self,
        accepted: list[tuple[int, int]],
        pairs: np.ndarray,
        covered: np.ndarray,
        template: np.ndarray,
        chars: Sequence[int],
        threads: int = 1,
    ) -> tuple[list[tuple[int, int]], dict[str, int]]:
        """The verdicts after the passage stage: ``accepted`` (pairs the sets passed) with the
        passages' evidence applied to the ``pairs`` that share passages (``m x 2``; ``covered``:
        the share of each side's characters their passages cover, ``m x 2``; ``template``: the two
        state different figures in text they share).

        A pair sharing passages is a candidate too (a short text inside a long one shares no LSH
        band with it): its sets are scored by the textual rules. A template pair is rejected
        whatever its scores; a pair the textual rules reject is accepted as ``aligned`` when its
        passages reproduce ``aligned_threshold`` of the shorter text (``covered``: the share they
        cover times their similarity), that text has at least ``min_containment_shingles``
        shingles (as for containment: a headline or a one-line notice is not a reprint of every
        story that repeats it), and the figures rule does not set them apart. Every score of a pair sharing
        passages carries its aligned shares. Returns the accepted pairs and what changed."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        template = np.asarray(template, dtype=bool)
        textual = self.screen(pairs, threads) if len(pairs) else np.zeros(0, dtype=bool)
        sizes = np.asarray(chars, dtype=np.int64)
        first_shorter = sizes[pairs[:, 0]] <= sizes[pairs[:, 1]]
        shorter = np.where(first_shorter, covered[:, 0], covered[:, 1])
        shingles = self.sizes
        small = np.where(first_shorter, shingles[pairs[:, 0]], shingles[pairs[:, 1]])
        by_alignment = (
            ~textual
            & ~template
            & (shorter >= self.cfg.aligned_threshold)
            & (small >= self.cfg.min_containment_shingles)  # a headline is no reprint of its story
            if "aligned" in self.cfg.rules
            else np.zeros(len(pairs), dtype=bool)
        )
        before = {(i, j) if i < j else (j, i) for i, j in accepted}
        keep = set(before)
        counts = {"passage_candidates": 0, "accepted_aligned": 0, "rejected_templates": 0}
        # a pair rejected and never accepted has nothing to say: only the others are visited
        n = np.int64(max(len(self.ids), 1))
        codes = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1])
        was = np.array(sorted(i * int(n) + j for i, j in before), dtype=np.int64)
        visit = np.flatnonzero(textual | by_alignment | in_sorted(codes, was))
        for k, i, j in zip(visit.tolist(), pairs[visit, 0].tolist(), pairs[visit, 1].tolist()):
            key = (i, j) if i < j else (j, i)
            s = self.score(i, j)
            a_first = self.ids[i] == s.a
            ca, cb = (covered[k, 0], covered[k, 1]) if a_first else (covered[k, 1], covered[k, 0])
            match = s.match
            if template[k] and match != "identical":
                match = None
            elif match is None and by_alignment[k] and not self._figures_differ(i, j):
                match = "aligned"
            self.scores[key] = dataclasses.replace(
                s, aligned_a=float(ca), aligned_b=float(cb), template=bool(template[k]), match=match
            )
            if match is None and key in keep:
                keep.discard(key)
                counts["rejected_templates"] += 1
            elif match is not None and key not in keep:
                keep.add(key)
                counts["accepted_aligned" if match == "aligned" else "passage_candidates"] += 1
        return sorted(keep), counts

    def _figures_differ(self, i: int, j: int) -> bool:
        """The figures rule (``verify.distinct_figures``) on a pair."""
        return self.figures is not None and different_figures(self.figures[i], self.figures[j])

    def member_score(self, m: int, matched: int, source: int, shingle_size: int = 3) -> MemberScore:
        """Member ``m``'s scores against the document it was ``matched`` to, the rule that
        accepted that pair, and its relation to its cluster's ``source`` as the scores show it
        (see :class:`~dedupe.records.MemberScore`; without the texts' alignment, ``changed_words``
        is estimated from the shingles each side lacks)."""
        ids = self.ids
        if m == source:
            return MemberScore(ids[m], 1.0, 1.0, 1.0, 1.0, matched_to=ids[m])
        s = self.score(m, matched)
        m_is_a = ids[m] == s.a
        r = s if matched == source else self.score(m, source)
        r_is_a = ids[m] == r.a
        inside = r.containment_a_in_b if r_is_a else r.containment_b_in_a  # m in the source
        covers = r.containment_b_in_a if r_is_a else r.containment_a_in_b  # the source in m
        if r.match == "identical":
            relation = "identical"
        elif inside >= 0.95 and covers >= 0.95:
            relation = "reprint"
        elif inside >= 0.95:
            relation = "trimmed"
        elif covers >= 0.95:
            relation = "extended"
        else:
            relation = "edited"
        sizes = self.sizes
        lacking = max(int(sizes[m]) - r.shared_shingles, int(sizes[source]) - r.shared_shingles)
        return MemberScore(
            ids[m],
            s.jaccard_estimate,
            s.jaccard,
            s.containment_a_in_b if m_is_a else s.containment_b_in_a,
            s.containment_b_in_a if m_is_a else s.containment_a_in_b,
            aligned_in_matched=s.aligned_a if m_is_a else s.aligned_b,
            matched_aligned=s.aligned_b if m_is_a else s.aligned_a,
            matched_to=ids[matched],
            match=s.match,
            relation=relation,
            kept=covers,
            changed_words=round(lacking / max(1, shingle_size)) if relation == "edited" else 0,
        )

    def jaccard(self, i: int, j: int) -> float:
        return self.score(i, j).jaccard

    def accepted_scores(self, accepted: Sequence[tuple[int, int]]) -> list[PairScore]:
        """The scores of accepted pairs, sorted by ids."""
        return sorted((self.score(i, j) for i, j in accepted), key=lambda p: (p.a, p.b))
