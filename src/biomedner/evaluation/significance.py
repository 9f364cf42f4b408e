"""Document-level resampling: bootstrap confidence intervals for one system, and paired tests
between two systems scored on the same documents.

Documents are the resampling unit because mentions within a document are not independent.
All functions take per-document count arrays (``[n_docs, 3]`` = tp, fp, fn, or
``[n_docs, n_types, 3]``), are seeded, and work in chunks to bound memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from biomedner.evaluation.metrics import macro_from_type_totals, micro_from_totals

_CHUNK = 250


def _weights(rng: np.random.Generator, n_docs: int, size: int) -> np.ndarray:
    """[size, n_docs] multiplicities of each document in ``size`` bootstrap resamples."""
    return rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=size).astype(np.float64)


def bootstrap_ci(
    counts: np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, list[float]]]:
    """Percentile intervals for micro and macro precision / recall / F1.

    ``counts``: [n_docs, n_types, 3]. Returns ``{"micro": {"precision": [lo, hi], ...},
    "macro": {...}}``.
    """
    n_docs = counts.shape[0]
    if n_docs == 0 or n_resamples <= 0:
        return {}
    rng = np.random.default_rng(seed)
    flat = counts.reshape(n_docs, -1).astype(np.float64)
    micro, macro = [], []
    done = 0
    while done < n_resamples:
        size = min(_CHUNK, n_resamples - done)
        totals = (_weights(rng, n_docs, size) @ flat).reshape(size, *counts.shape[1:])
        # a resample without any gold or predicted mention has no defined score: leave it out
        # rather than count it as 0 (or 1)
        empty = (totals.sum(axis=(1, 2)) == 0)[:, None]
        micro.append(np.where(empty, np.nan, micro_from_totals(totals.sum(axis=1))))
        macro.append(np.where(empty, np.nan, macro_from_type_totals(totals)))
        done += size
    alpha = (1.0 - level) / 2.0
    out: dict[str, dict[str, list[float]]] = {}
    for name, samples in (("micro", np.concatenate(micro)), ("macro", np.concatenate(macro))):
        if np.isnan(samples).all():
            continue
        lo = np.nanquantile(samples, alpha, axis=0)
        hi = np.nanquantile(samples, 1.0 - alpha, axis=0)
        out[name] = {
            k: [float(lo[i]), float(hi[i])] for i, k in enumerate(("precision", "recall", "f1"))
        }
    return out


def _f1(totals: np.ndarray) -> np.ndarray:
    return micro_from_totals(totals)[..., 2]


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"paired counts must both be [n_docs, 3], got {a.shape} and {b.shape}")
    return a, b


def approximate_randomization(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_iterations: int = 10000,
    seed: int = 0,
    statistic: Callable[[np.ndarray], np.ndarray] = _f1,
) -> dict[str, float]:
    """Two-sided approximate randomisation test (Noreen 1989) of micro F1(A) - F1(B): each
    document's counts are swapped between the systems with probability 1/2; the p-value is
    ``(1 + #{|diff*| >= |diff|}) / (1 + n_iterations)``."""
    a, b = _check_pair(a, b)
    observed = float(statistic(a.sum(0)) - statistic(b.sum(0)))
    rng = np.random.default_rng(seed)
    delta = b - a
    a_sum, b_sum = a.sum(0), b.sum(0)
    hits = 0
    done = 0
    while done < n_iterations:
        size = min(_CHUNK * 4, n_iterations - done)
        swap = rng.random((size, a.shape[0])) < 0.5
        shift = swap.astype(np.float64) @ delta
        diff = statistic(a_sum + shift) - statistic(b_sum - shift)
        hits += int(np.sum(np.abs(diff) >= abs(observed) - 1e-12))
        done += size
    return {
        "method": "approximate_randomization",
        "difference": observed,
        "p_value": (hits + 1) / (n_iterations + 1),
        "iterations": n_iterations,
        "seed": seed,
    }


def _bootstrap_result(
    d: np.ndarray, observed: float, level: float, n_resamples: int, seed: int
) -> dict[str, float | list[float]]:
    """Percentile interval of the resampled differences ``d`` and the re-centred p-value."""
    alpha = (1.0 - level) / 2.0
    hits = int(np.sum(np.abs(d - observed) >= abs(observed) - 1e-12))
    return {
        "method": "paired_bootstrap",
        "difference": observed,
        "ci95": [float(np.quantile(d, alpha)), float(np.quantile(d, 1 - alpha))],
        "p_value": (hits + 1) / (n_resamples + 1),
        "resamples": n_resamples,
        "seed": seed,
    }


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float | list[float]]:
    """Paired bootstrap over documents of micro F1(A) - F1(B): the percentile interval of the
    difference and a two-sided p-value from the resampled differences re-centred on zero
    (Berg-Kirkpatrick et al. 2012): ``(1 + #{|diff* - diff| >= |diff|}) / (1 + n)``."""
    a, b = _check_pair(a, b)
    observed = float(_f1(a.sum(0)) - _f1(b.sum(0)))
    n_docs = a.shape[0]
    rng = np.random.default_rng(seed)
    diffs = []
    done = 0
    while done < n_resamples:
        size = min(_CHUNK, n_resamples - done)
        w = _weights(rng, n_docs, size)
        diffs.append(_f1(w @ a) - _f1(w @ b))
        done += size
    return _bootstrap_result(np.concatenate(diffs), observed, level, n_resamples, seed)


# ---------------------------------------------------------------- mean over several benchmarks
# The statistic is the unweighted mean over benchmarks of micro F1(A) - F1(B), so that a large
# benchmark does not outweigh the others, as in a paper's "average" column. Documents stay the
# resampling unit, each within its own benchmark.


def _check_pairs(pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    if not pairs:
        raise ValueError("the mean over benchmarks needs at least one benchmark")
    return [_check_pair(a, b) for a, b in pairs]


def _mean_difference(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    return float(np.mean([_f1(a.sum(0)) - _f1(b.sum(0)) for a, b in pairs]))


def mean_approximate_randomization(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    *,
    n_iterations: int = 10000,
    seed: int = 0,
) -> dict[str, float]:
    """Two-sided approximate randomisation of the mean over benchmarks of micro F1(A) - F1(B).

    ``pairs``: per benchmark, the ``[n_docs, 3]`` counts of A and of B. Each iteration swaps every
    document of every benchmark between the systems independently with probability 1/2 and
    recomputes the mean difference; ``p = (1 + #{|mean*| >= |mean|}) / (1 + n_iterations)``."""
    pairs = _check_pairs(pairs)
    observed = _mean_difference(pairs)
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < n_iterations:
        size = min(_CHUNK * 4, n_iterations - done)
        total = np.zeros(size)
        for a, b in pairs:
            swap = rng.random((size, a.shape[0])) < 0.5
            shift = swap.astype(np.float64) @ (b - a)
            total += _f1(a.sum(0) + shift) - _f1(b.sum(0) - shift)
        hits += int(np.sum(np.abs(total / len(pairs)) >= abs(observed) - 1e-12))
        done += size
    return {
        "method": "approximate_randomization",
        "difference": observed,
        "p_value": (hits + 1) / (n_iterations + 1),
        "iterations": n_iterations,
        "seed": seed,
    }


def mean_paired_bootstrap(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float | list[float]]:
    """Paired bootstrap of the mean over benchmarks of micro F1(A) - F1(B): each resample draws
    every benchmark's documents with replacement within that benchmark. Percentile interval and
    re-centred two-sided p-value as in :func:`paired_bootstrap`."""
    pairs = _check_pairs(pairs)
    observed = _mean_difference(pairs)
    rng = np.random.default_rng(seed)
    diffs = []
    done = 0
    while done < n_resamples:
        size = min(_CHUNK, n_resamples - done)
        total = np.zeros(size)
        for a, b in pairs:
            w = _weights(rng, a.shape[0], size)
            total += _f1(w @ a) - _f1(w @ b)
        diffs.append(total / len(pairs))
        done += size
    return _bootstrap_result(np.concatenate(diffs), observed, level, n_resamples, seed)
