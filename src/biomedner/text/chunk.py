"""Windows over long texts and the merge of their candidates.

A text longer than the model's window (in words, or in sub-tokens for encoders with absolute
positions) is cut into overlapping word windows. The overlap is at least twice the longest span,
so a span cut by one window's edge lies whole, and away from any edge, inside the next window.
Candidates touching a window's inner cut edge are dropped (their neighbour sees them whole);
a candidate found by two windows is kept from the window where it sits farther from an edge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from biomedner.decoding import Candidates
from biomedner.errors import InputError


def plan_windows(
    token_counts: Sequence[int], max_words: int, token_budget: int | None, overlap: int
) -> list[tuple[int, int]]:
    """Word ranges ``[lo, hi)`` covering all words; each has at most ``max_words`` words and at
    most ``token_budget`` sub-tokens; consecutive windows share ``overlap`` words."""
    n = len(token_counts)
    if n == 0:
        return []
    if overlap >= max_words:
        raise InputError(f"window overlap {overlap} must be smaller than the window {max_words}")
    cumulative = np.concatenate([[0], np.cumsum(token_counts)])
    windows: list[tuple[int, int]] = []
    lo = 0
    while True:
        hi = min(n, lo + max_words)
        if token_budget is not None:
            # the furthest hi with cumulative[hi] - cumulative[lo] <= budget
            fit = int(np.searchsorted(cumulative, cumulative[lo] + token_budget, side="right")) - 1
            hi = min(hi, fit)
            if hi <= lo:
                raise InputError(
                    f"word #{lo} alone needs {token_counts[lo]} sub-tokens, more than the "
                    f"{token_budget} the encoder has room for"
                )
        windows.append((lo, hi))
        if hi >= n:
            return windows
        next_lo = max(lo + 1, hi - overlap)
        lo = next_lo


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
