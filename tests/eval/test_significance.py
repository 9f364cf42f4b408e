from __future__ import annotations

import itertools

import numpy as np
import pytest

from biomedner.evaluation.metrics import micro_from_totals
from biomedner.evaluation.significance import (
    approximate_randomization,
    bootstrap_ci,
    paired_bootstrap,
)


def f1(c: np.ndarray) -> float:
    return float(micro_from_totals(c.sum(0))[2])


A = np.array([[3, 0, 1], [2, 1, 0], [4, 0, 0], [1, 1, 2], [5, 0, 1], [2, 0, 0]])
B = np.array([[2, 1, 2], [1, 2, 1], [4, 1, 0], [0, 2, 3], [3, 1, 3], [2, 1, 0]])


def test_approximate_randomization_matches_the_exact_permutation_test() -> None:
    observed = f1(A) - f1(B)
    hits = 0
    for swaps in itertools.product([False, True], repeat=len(A)):
        s = np.array(swaps)[:, None]
        a2, b2 = np.where(s, B, A), np.where(s, A, B)
        hits += abs(f1(a2) - f1(b2)) >= abs(observed) - 1e-12
    exact = hits / 2 ** len(A)
    ar = approximate_randomization(A, B, n_iterations=20000, seed=3)
    assert ar["difference"] == pytest.approx(observed)
    assert abs(ar["p_value"] - exact) < 0.02


def test_identical_systems_are_not_different() -> None:
    ar = approximate_randomization(A, A, n_iterations=500)
    assert ar["difference"] == 0.0 and ar["p_value"] == 1.0
    boot = paired_bootstrap(A, A, n_resamples=200)
    assert boot["p_value"] == 1.0 and boot["ci95"] == [0.0, 0.0]


def test_a_clearly_better_system_is_significant() -> None:
    rng = np.random.default_rng(0)
    n = 80
    good = np.stack([rng.integers(4, 6, n), rng.integers(0, 2, n), rng.integers(0, 2, n)], 1)
    bad = np.stack([rng.integers(1, 3, n), rng.integers(2, 4, n), rng.integers(2, 4, n)], 1)
    assert approximate_randomization(good, bad, n_iterations=2000)["p_value"] < 0.01
    boot = paired_bootstrap(good, bad, n_resamples=500)
    assert boot["p_value"] < 0.01 and boot["ci95"][0] > 0


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate() -> None:
    counts = A[:, None, :]
    ci1 = bootstrap_ci(counts, n_resamples=300, seed=5)
    ci2 = bootstrap_ci(counts, n_resamples=300, seed=5)
    assert ci1 == ci2
    lo, hi = ci1["micro"]["f1"]
    assert lo <= f1(A) <= hi and lo < hi
    assert bootstrap_ci(counts, n_resamples=300, seed=6) != ci1


def test_paired_inputs_must_match() -> None:
    with pytest.raises(ValueError, match="paired counts"):
        approximate_randomization(A, B[:3])
