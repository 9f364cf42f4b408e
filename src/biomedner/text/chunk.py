"""Windows over long texts, for training and inference alike.

A text longer than the model's window (in words, or in sub-tokens for encoders with absolute
positions) is cut into overlapping word windows. The overlap is twice the longest span (capped
below the window), so a span cut by one window's edge lies whole, and away from any edge, inside
the next window. How the windows' candidates are merged back is ``inference/merge.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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


def window_ranges(
    token_counts: np.ndarray, max_words: int, token_budget: int | None, max_width: int
) -> list[tuple[int, int]]:
    """The windows of one text: the whole text when it fits, else :func:`plan_windows` with an
    overlap of ``2 * max_width`` words (less than the window)."""
    n = len(token_counts)
    if n <= max_words and (token_budget is None or int(token_counts.sum()) <= token_budget):
        return [(0, n)]
    overlap = min(2 * max_width, max_words - 1)
    return plan_windows(token_counts.tolist(), max_words, token_budget, overlap)
