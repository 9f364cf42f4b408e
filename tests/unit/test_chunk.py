"""Window planning and the merge of overlapping windows' candidates."""

from __future__ import annotations

import numpy as np
import pytest

from biomedner.decoding import Candidates
from biomedner.errors import InputError
from biomedner.inference.merge import merge_window_candidates
from biomedner.text.chunk import plan_windows


def test_windows_cover_everything_with_the_overlap():
    windows = plan_windows([1] * 100, max_words=30, token_budget=None, overlap=10)
    assert windows[0] == (0, 30) and windows[-1][1] == 100
    for (lo1, hi1), (lo2, _) in zip(windows, windows[1:]):
        assert hi1 - lo2 == 10 and lo2 > lo1
    assert all(hi - lo <= 30 for lo, hi in windows)


def test_token_budget_shortens_windows():
    counts = [1] * 10 + [5] * 10 + [1] * 10
    windows = plan_windows(counts, max_words=100, token_budget=20, overlap=2)
    for lo, hi in windows:
        assert sum(counts[lo:hi]) <= 20
    assert windows[-1][1] == 30


def test_a_word_larger_than_the_budget_is_an_error():
    with pytest.raises(InputError, match="sub-tokens"):
        plan_windows([1, 50, 1], max_words=10, token_budget=20, overlap=1)


def cands(rows):
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return Candidates(
        arr[:, 0].astype(np.int64),
        arr[:, 1].astype(np.int64),
        arr[:, 2].astype(np.int64),
        arr[:, 3].astype(np.float32),
    )


def test_merge_drops_edge_spans_and_keeps_the_better_placed_duplicate():
    # two windows over 20 words: [0, 12) and [6, 20)
    a = cands([[2, 4, 0, 0.9], [9, 12, 0, 0.8], [7, 8, 1, 0.6]])  # (9,12) touches a's cut edge
    b = cands([[6, 8, 0, 0.7], [9, 12, 0, 0.75], [7, 8, 1, 0.65]])  # (6,8) touches b's cut edge
    merged = merge_window_candidates([(a, 0, 12), (b, 6, 20)], num_words=20)
    got = {
        (s, e, c): round(p, 2)
        for s, e, c, p in zip(
            merged.starts.tolist(),
            merged.stops.tolist(),
            merged.labels.tolist(),
            merged.scores.tolist(),
        )
    }
    # (7,8): margin 1 in b (7-6) vs 4 in a (12-8): a's score wins
    assert got == {(2, 4, 0): 0.9, (9, 12, 0): 0.75, (7, 8, 1): 0.6}
