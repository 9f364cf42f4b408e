"""Matching predicted against gold entities, and precision / recall / F1 from the counts.

Three matchings, each counted per document and per type so that micro, macro, per-type scores
and document-level bootstrap all come from one table:

* ``strict``   - same start, end and label. Multisets: a duplicate prediction is a false positive.
* ``relaxed``  - same label and overlapping character ranges, one-to-one: each gold and each
  predicted mention is used at most once, and the pairing is a maximum matching per label (so
  it never depends on prediction order). This is the final GLiNER-BioMed evaluator's criterion.
* ``boundary`` - same start and end, label ignored (untyped). It has no per-type breakdown.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biomedner.types import Entity

MATCHINGS: tuple[str, ...] = ("strict", "relaxed", "boundary")
UNTYPED = "(untyped)"

MATCHING_DEFINITIONS: dict[str, str] = {
    "strict": "exact match: same start, end (character offsets) and label; duplicates count once",
    "relaxed": (
        "overlap match: same label and overlapping character ranges, one-to-one "
        "(maximum matching per label and document)"
    ),
    "boundary": "untyped exact match: same start and end, label ignored",
}


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def max_overlap_matching(gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]]) -> int:
    """Size of a maximum one-to-one matching between overlapping spans (augmenting paths;
    mention counts per document and label are small)."""
    adj = [[j for j, g in enumerate(gold) if _overlap(p, g)] for p in pred]
    owner: list[int | None] = [None] * len(gold)

    def augment(i: int, seen: list[bool]) -> bool:
        for j in adj[i]:
            if not seen[j]:
                seen[j] = True
                k = owner[j]
                if k is None or augment(k, seen):
                    owner[j] = i
                    return True
        return False

    return sum(augment(i, [False] * len(gold)) for i in range(len(pred)) if adj[i])


def match_counts(
    gold: Sequence[Entity], pred: Sequence[Entity], matching: str
) -> dict[str, tuple[int, int, int]]:
    """(tp, fp, fn) per label for one document (label ``(untyped)`` for ``boundary``)."""
    if matching == "boundary":
        g = Counter((e.start, e.end) for e in gold)
        p = Counter((e.start, e.end) for e in pred)
        tp = sum((g & p).values())
        return {UNTYPED: (tp, sum(p.values()) - tp, sum(g.values()) - tp)}
    gold_by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    pred_by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for e in gold:
        gold_by[e.label].append((e.start, e.end))
    for e in pred:
        pred_by[e.label].append((e.start, e.end))
    out: dict[str, tuple[int, int, int]] = {}
    for label in set(gold_by) | set(pred_by):
        gs, ps = gold_by[label], pred_by[label]
        if matching == "strict":
            tp = sum((Counter(gs) & Counter(ps)).values())
        elif matching == "relaxed":
            tp = max_overlap_matching(gs, ps)
        else:
            raise ValueError(f"unknown matching {matching!r}; use one of {MATCHINGS}")
        out[label] = (tp, len(ps) - tp, len(gs) - tp)
    return out


@dataclass
class CountTable:
    """Counts ``[document, type, (tp, fp, fn)]`` for one matching."""

    matching: str
    types: list[str]
    counts: np.ndarray  # int64 [n_docs, n_types, 3]

    @property
    def per_document(self) -> np.ndarray:
        """[n_docs, 3] counts summed over types (what micro scores and paired tests use)."""
        return self.counts.sum(axis=1)


def count_table(
    gold_docs: Sequence[Sequence[Entity]],
    pred_docs: Sequence[Sequence[Entity]],
    matching: str,
    types: Sequence[str] | None = None,
) -> CountTable:
    """The table for aligned gold/prediction entity lists. ``types`` fixes the type axis (all
    labels seen are added after it, sorted)."""
    if len(gold_docs) != len(pred_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(pred_docs)} predicted")
    per_doc = [match_counts(g, p, matching) for g, p in zip(gold_docs, pred_docs, strict=True)]
    if matching == "boundary":
        all_types = [UNTYPED]
    else:
        seen = {t for d in per_doc for t in d}
        base = list(types or [])
        all_types = base + sorted(seen - set(base))
    index = {t: i for i, t in enumerate(all_types)}
    arr = np.zeros((len(per_doc), len(all_types), 3), dtype=np.int64)
    for i, d in enumerate(per_doc):
        for t, c in d.items():
            arr[i, index[t]] = c
    return CountTable(matching, all_types, arr)


def prf(tp: np.ndarray | int, fp: np.ndarray | int, fn: np.ndarray | int) -> tuple:
    """Precision, recall, F1 (vectorised); a zero denominator gives 0."""
    tp, fp, fn = (np.asarray(x, dtype=np.float64) for x in (tp, fp, fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return p, r, f


def micro_from_totals(totals: np.ndarray) -> np.ndarray:
    """[..., 3] counts -> [..., 3] (precision, recall, f1)."""
    p, r, f = prf(totals[..., 0], totals[..., 1], totals[..., 2])
    return np.stack([p, r, f], axis=-1)


def macro_from_type_totals(type_totals: np.ndarray) -> np.ndarray:
    """[..., n_types, 3] counts -> [..., 3] mean of per-type (precision, recall, f1) over types
    with any gold or predicted mention."""
    p, r, f = prf(type_totals[..., 0], type_totals[..., 1], type_totals[..., 2])
    present = type_totals.sum(axis=-1) > 0
    n = present.sum(axis=-1)
    denom = np.maximum(n, 1)
    out = np.stack(
        [(x * present).sum(axis=-1) / denom for x in (p, r, f)],
        axis=-1,
    )
    return out
