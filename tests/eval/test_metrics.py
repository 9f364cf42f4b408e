"""Matching and P/R/F1 on perturbations computed by hand."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from biomedner.evaluation.metrics import count_table, match_counts, max_overlap_matching
from biomedner.evaluation.scoring import BootstrapConfig, score_entities
from biomedner.types import Entity

TEXT = "aaaaa bbbb cccccccccc dddddddddd eeeee ffff"


def ent(start: int, end: int, label: str) -> Entity:
    return Entity(start, end, TEXT[start:end], label)


GOLD = [ent(0, 5, "Disease"), ent(10, 20, "Chemical"), ent(30, 40, "Disease")]
PRED = [
    ent(0, 5, "Disease"),  # exact
    ent(12, 20, "Chemical"),  # boundary error, overlaps gold
    ent(30, 40, "Chemical"),  # right span, wrong label
    ent(41, 43, "Disease"),  # spurious
]


def close(x: float, frac: Fraction) -> bool:
    return abs(x - float(frac)) < 1e-12


def test_hand_computed_micro_scores_for_each_matching() -> None:
    r = score_entities([GOLD], [PRED], bootstrap=None)
    s, rel, b = (r.metrics[m]["micro"] for m in ("strict", "relaxed", "boundary"))
    # strict: TP {0-5}; FP {12-20, 30-40 Chem, 41-43}; FN {10-20, 30-40 Dis}
    assert (s["tp"], s["fp"], s["fn"]) == (1, 3, 2)
    assert close(s["precision"], Fraction(1, 4)) and close(s["recall"], Fraction(1, 3))
    assert close(s["f1"], Fraction(2, 7))
    # relaxed: the shifted chemical overlaps its gold with the same label
    assert (rel["tp"], rel["fp"], rel["fn"]) == (2, 2, 1)
    assert close(rel["f1"], Fraction(4, 7))
    # boundary: the mislabelled span counts, the shifted one does not
    assert (b["tp"], b["fp"], b["fn"]) == (2, 2, 1)
    assert close(b["f1"], Fraction(4, 7))


def test_per_type_and_macro() -> None:
    r = score_entities([GOLD], [PRED], types=["Disease", "Chemical"], bootstrap=None)
    per = r.metrics["strict"]["per_type"]
    assert list(per) == ["Disease", "Chemical"]
    assert (per["Disease"]["tp"], per["Disease"]["fp"], per["Disease"]["fn"]) == (1, 1, 1)
    assert per["Disease"]["f1"] == 0.5 and per["Disease"]["support"] == 2
    assert (per["Chemical"]["tp"], per["Chemical"]["fp"], per["Chemical"]["fn"]) == (0, 2, 1)
    assert r.metrics["strict"]["macro"]["f1"] == 0.25
    assert r.metrics["strict"]["macro"]["n_types"] == 2
    assert "per_type" not in r.metrics["boundary"]


def test_gold_against_itself_is_perfect() -> None:
    r = score_entities([GOLD, []], [GOLD, []], bootstrap=BootstrapConfig(200, seed=1))
    for m in ("strict", "relaxed", "boundary"):
        assert r.metrics[m]["micro"]["f1"] == 1.0
        assert r.metrics[m]["micro"]["ci95"]["f1"] == [1.0, 1.0]


def test_duplicates_are_false_positives_under_strict() -> None:
    counts = match_counts(GOLD[:1], [GOLD[0], GOLD[0]], "strict")
    assert counts == {"Disease": (1, 1, 0)}


def test_relaxed_is_one_to_one() -> None:
    long_pred = [ent(0, 20, "Disease")]
    two_gold = [ent(0, 5, "Disease"), ent(10, 20, "Disease")]
    assert match_counts(two_gold, long_pred, "relaxed") == {"Disease": (1, 0, 1)}
    assert match_counts(long_pred, two_gold, "relaxed") == {"Disease": (1, 1, 0)}


def test_relaxed_uses_a_maximum_matching_not_prediction_order() -> None:
    # p1 overlaps both golds, p2 only the first: greedy in order would pair p1-g1 and miss p2
    gold = [(0, 10), (10, 20)]
    assert max_overlap_matching(gold, [(5, 15), (0, 4)]) == 2
    assert max_overlap_matching(gold, [(0, 4), (5, 15)]) == 2
    # adjacent spans (end-exclusive) do not overlap
    assert max_overlap_matching([(0, 5)], [(5, 9)]) == 0


def test_count_table_shapes_and_type_order() -> None:
    t = count_table([GOLD, GOLD[:1]], [PRED, []], "strict", types=["Disease"])
    assert t.types == ["Disease", "Chemical"]
    assert t.counts.shape == (2, 2, 3)
    np.testing.assert_array_equal(t.per_document, [[1, 3, 2], [0, 0, 1]])


def test_no_predictions_and_no_gold() -> None:
    r = score_entities([[]], [[]], bootstrap=None)
    assert r.metrics["strict"]["micro"]["f1"] == 0.0
    assert r.metrics["strict"]["macro"]["n_types"] == 0


def test_unknown_matching() -> None:
    with pytest.raises(ValueError, match="unknown matching"):
        match_counts(GOLD, PRED, "fuzzy")
