"""Merging the candidates of one text's windows and label groups back into one set.

Candidates touching a window's inner cut edge are dropped (their neighbour sees them whole, see
``text/chunk.py``); a candidate found by two windows is kept from the window where it sits farther
from an edge. Label groups of the same window are concatenated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from biomedner.decoding import Candidates


def merge_text(parts: list[tuple[Candidates, int, int]], num_words: int) -> Candidates:
    """``parts``: (candidates in document word and label indices, window lo, window hi) -> one
    candidate set in (start, stop, label) order."""
    by_range: dict[tuple[int, int], list[Candidates]] = {}
    for cands, lo, hi in parts:
        by_range.setdefault((lo, hi), []).append(cands)
    combined = [
        (c[0] if len(c) == 1 else _sorted(Candidates.concat(c)), lo, hi)
        for (lo, hi), c in sorted(by_range.items())
    ]
    if len(combined) == 1:
        return combined[0][0]
    return merge_window_candidates(combined, num_words)


def _sorted(c: Candidates) -> Candidates:
    order = np.lexsort((c.labels, c.stops, c.starts))
    return c.select(order)


def merge_window_candidates(
    parts: Sequence[tuple[Candidates, int, int]], num_words: int
) -> Candidates:
    """``parts`` are (candidates in document word indices, window lo, window hi)."""
    if len(parts) == 1:
        return parts[0][0]
    kept: dict[tuple[int, int, int], tuple[int, float, int, int]] = {}
    for cands, lo, hi in parts:
        inner_lo = lo > 0
        inner_hi = hi < num_words
        for s, e, c, p in zip(
            cands.starts.tolist(),
            cands.stops.tolist(),
            cands.labels.tolist(),
            cands.scores.tolist(),
        ):
            if (inner_lo and s == lo) or (inner_hi and e == hi):
                continue
            margin = min(s - lo if inner_lo else num_words, hi - e if inner_hi else num_words)
            key = (s, e, c)
            best = kept.get(key)
            if best is None or margin > best[0]:
                kept[key] = (margin, p, s, e)
    if not kept:
        return Candidates.empty()
    keys = sorted(kept)  # (start, stop, label): the enumeration order decoding ties rely on
    return Candidates(
        starts=np.array([k[0] for k in keys], dtype=np.int64),
        stops=np.array([k[1] for k in keys], dtype=np.int64),
        labels=np.array([k[2] for k in keys], dtype=np.int64),
        scores=np.array([kept[k][1] for k in keys], dtype=np.float32),
    )
