"""Decoding on hand-written score tensors: thresholds, greedy order, the three modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biomedner.decoding import (
    Candidates,
    check_mode,
    check_threshold,
    decode,
    find_candidates,
    resolve,
)
from biomedner.errors import InputError


def probs_with(
    cells: dict[tuple[int, int, int], float], words=6, width=3, labels=2
) -> torch.Tensor:
    """[1, W, K, C] tensor, 0.01 everywhere except the given (start, width-1, label) cells."""
    p = torch.full((1, words, width, labels), 0.01)
    for (s, k, c), v in cells.items():
        p[0, s, k, c] = v
    return p


def spans(c: Candidates) -> list[tuple[int, int, int, float]]:
    return [
        (s, e, lab, round(p, 3))
        for s, e, lab, p in zip(
            c.starts.tolist(), c.stops.tolist(), c.labels.tolist(), c.scores.tolist()
        )
    ]


def test_threshold_is_strict_and_spans_past_the_text_are_ignored():
    p = probs_with(
        {(0, 0, 0): 0.5, (1, 0, 0): 0.51, (4, 2, 1): 0.99}
    )  # (4, width 3) ends past word 5
    (cands,) = find_candidates(p, [6], threshold=0.5)
    assert spans(cands) == [(1, 2, 0, 0.51)]


def test_padded_labels_and_words_never_become_candidates():
    p = torch.full((2, 4, 2, 3), 0.9)
    out = find_candidates(p, num_words=[2, 4], threshold=0.5, num_labels=[1, 3])
    assert {(s, e) for s, e, *_ in spans(out[0])} == {(0, 1), (1, 2), (0, 2)}
    assert set(out[0].labels.tolist()) == {0}
    assert len(out[1]) == (4 + 3) * 3  # 4 one-word + 3 two-word spans, 3 labels each


def test_flat_keeps_the_best_non_overlapping_spans_sorted_by_start():
    p = probs_with({(0, 1, 0): 0.9, (1, 0, 1): 0.95, (3, 0, 0): 0.7, (3, 1, 1): 0.6})
    (out,) = decode(p, [6], 0.5, "flat")
    assert spans(out) == [(1, 2, 1, 0.95), (3, 4, 0, 0.7)]


def test_nested_allows_containment_but_not_partial_overlap():
    p = probs_with({(0, 2, 0): 0.9, (1, 0, 1): 0.8, (2, 1, 0): 0.85, (4, 0, 1): 0.6})
    (out,) = decode(p, [6], 0.5, "nested")
    # (2,4) partially overlaps (0,3): dropped; (1,2) nests inside (0,3): kept
    assert spans(out) == [(0, 3, 0, 0.9), (1, 2, 1, 0.8), (4, 5, 1, 0.6)]


def test_same_span_two_labels_only_in_multi_label_mode():
    p = probs_with({(2, 1, 0): 0.9, (2, 1, 1): 0.8, (3, 0, 1): 0.7})
    (flat,) = decode(p, [6], 0.5, "flat")
    (multi,) = decode(p, [6], 0.5, "multi_label")
    (nested,) = decode(p, [6], 0.5, "nested")
    assert spans(flat) == [(2, 4, 0, 0.9)]
    assert spans(multi) == [(2, 4, 0, 0.9), (2, 4, 1, 0.8)]  # (3,4) overlaps partially: out
    assert spans(nested) == [(2, 4, 0, 0.9), (3, 4, 1, 0.7)]


def test_ties_keep_enumeration_order():
    p = probs_with({(0, 1, 1): 0.8, (1, 1, 0): 0.8})
    (out,) = decode(p, [6], 0.5, "flat")
    assert spans(out) == [(0, 2, 1, 0.8)]


@pytest.mark.parametrize("mode", ["flat", "nested"])
def test_best_label_reduction_decodes_like_all_candidates(mode):
    # scores on a coarse grid, so that equal scores (ties across labels and spans) are common
    gen = torch.Generator().manual_seed(7)
    for _ in range(30):
        p = torch.randint(0, 12, (3, 9, 4, 5), generator=gen).float() / 12
        num_words, num_labels = [9, 5, 7], [5, 2, 4]
        full = find_candidates(p, num_words, 0.4, num_labels)
        reduced = find_candidates(p, num_words, 0.4, num_labels, best_label_only=True)
        for f, r in zip(full, reduced):
            assert len(r) <= len(f)
            assert spans(resolve(r, mode)) == spans(resolve(f, mode))


def test_best_label_reduction_keeps_the_first_label_on_ties():
    p = probs_with({(2, 0, 0): 0.7, (2, 0, 1): 0.8, (4, 1, 0): 0.9, (4, 1, 1): 0.9})
    (cands,) = find_candidates(p, [6], 0.5, best_label_only=True)
    assert spans(cands) == [(2, 3, 1, 0.8), (4, 6, 0, 0.9)]


def test_resolve_on_empty_candidates():
    assert len(resolve(Candidates.empty(), "flat")) == 0


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2, "0.5", None, True])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(InputError, match="threshold"):
        check_threshold(bad)


def test_unknown_mode_is_refused():
    with pytest.raises(InputError, match="flat, nested, multi_label"):
        check_mode("overlapping")


def test_candidates_concat_and_select():
    a = Candidates(np.array([0]), np.array([1]), np.array([0]), np.array([0.6], dtype=np.float32))
    b = Candidates(np.array([2]), np.array([4]), np.array([1]), np.array([0.7], dtype=np.float32))
    both = Candidates.concat([a, b])
    assert spans(both.select(np.array([1]))) == [(2, 4, 1, 0.7)]
