"""Compare two evaluation reports benchmark by benchmark, and on the mean over benchmarks, with
paired significance tests.

Both reports carry per-document counts, so no predictions need to be re-read; the benchmarks
must have the same data hash and the same documents in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from biomedner.evaluation.metrics import MATCHINGS
from biomedner.evaluation.report import EvalReport
from biomedner.evaluation.significance import (
    approximate_randomization,
    mean_approximate_randomization,
    mean_paired_bootstrap,
    paired_bootstrap,
)

Pair = tuple[np.ndarray, np.ndarray]


def micro_f1(counts: np.ndarray) -> float:
    """Micro F1 of ``[n_docs, 3]`` counts."""
    tp, fp, fn = np.asarray(counts, dtype=np.float64).sum(0)
    return float(2 * tp / (2 * tp + fp + fn)) if 2 * tp + fp + fn > 0 else 0.0


def mean_over_benchmarks(
    counts: dict[str, dict[str, Pair]],
    left_out: dict[str, str],
    *,
    matchings: Sequence[str] = MATCHINGS,
    n_iterations: int = 10000,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The unweighted mean over benchmarks of micro F1 of A and of B, their difference, and the
    approximate-randomisation and paired-bootstrap tests of that difference.

    ``counts[benchmark][matching]`` holds the paired ``[n_docs, 3]`` counts of A and B;
    ``left_out`` names the benchmarks that could not be paired and why (recorded, not used)."""
    out: dict[str, Any] = {"benchmarks": list(counts), "left_out": dict(left_out)}
    if not counts:
        out["skipped"] = "no benchmark can be paired between A and B"
        return out
    for m in matchings:
        pairs = [per[m] for per in counts.values()]
        out[m] = {
            "f1_a": float(np.mean([micro_f1(a) for a, _ in pairs])),
            "f1_b": float(np.mean([micro_f1(b) for _, b in pairs])),
            "approximate_randomization": mean_approximate_randomization(
                pairs, n_iterations=n_iterations, seed=seed
            ),
            "paired_bootstrap": mean_paired_bootstrap(pairs, n_resamples=n_resamples, seed=seed),
        }
        out[m]["difference"] = out[m]["approximate_randomization"]["difference"]
    return out


def compare_reports(
    a: EvalReport,
    b: EvalReport,
    *,
    matchings: Sequence[str] = MATCHINGS,
    n_iterations: int = 10000,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Per benchmark present in both reports and per matching: F1 of each, the difference
    A - B, approximate-randomisation and paired-bootstrap p-values and the bootstrap interval
    of the difference. Benchmarks that cannot be paired are listed with the reason. Under
    ``mean``: the same for the unweighted mean of micro F1 over the paired benchmarks (see
    :func:`mean_over_benchmarks`)."""
    out: dict[str, Any] = {"a": a.model.get("id"), "b": b.model.get("id"), "benchmarks": {}}
    paired: dict[str, dict[str, Pair]] = {}
    for name in list(a.benchmarks) + [n for n in b.benchmarks if n not in a.benchmarks]:
        ea, eb = a.benchmarks.get(name), b.benchmarks.get(name)
        if ea is None or eb is None:
            out["benchmarks"][name] = {"skipped": f"only in report {'A' if eb is None else 'B'}"}
            continue
        reason = None
        if ea["data_hash"] != eb["data_hash"] or ea["split"] != eb["split"]:
            reason = "different data (split or data hash)"
        elif ea["per_document"]["ids"] != eb["per_document"]["ids"]:
            reason = "different documents"
        if reason:
            out["benchmarks"][name] = {"skipped": reason}
            continue
        per: dict[str, Any] = {}
        paired[name] = {}
        for m in matchings:
            ca = np.asarray(ea["per_document"][m])
            cb = np.asarray(eb["per_document"][m])
            paired[name][m] = (ca, cb)
            ar = approximate_randomization(ca, cb, n_iterations=n_iterations, seed=seed)
            boot = paired_bootstrap(ca, cb, n_resamples=n_resamples, seed=seed)
            per[m] = {
                "f1_a": float(ea["metrics"][m]["micro"]["f1"]),
                "f1_b": float(eb["metrics"][m]["micro"]["f1"]),
                "difference": ar["difference"],
                "approximate_randomization": ar,
                "paired_bootstrap": boot,
            }
        out["benchmarks"][name] = per
    left_out = {n: e["skipped"] for n, e in out["benchmarks"].items() if "skipped" in e}
    out["mean"] = mean_over_benchmarks(
        paired,
        left_out,
        matchings=matchings,
        n_iterations=n_iterations,
        n_resamples=n_resamples,
        seed=seed,
    )
    return out
