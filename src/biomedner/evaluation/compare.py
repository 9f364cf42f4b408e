"""Compare two evaluation reports benchmark by benchmark with paired significance tests.

Both reports carry per-document counts, so no predictions need to be re-read; the benchmarks
must have the same data hash and the same documents in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from biomedner.evaluation.metrics import MATCHINGS
from biomedner.evaluation.report import EvalReport
from biomedner.evaluation.significance import approximate_randomization, paired_bootstrap


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
    of the difference. Benchmarks that cannot be paired are listed with the reason."""
    out: dict[str, Any] = {"a": a.model.get("id"), "b": b.model.get("id"), "benchmarks": {}}
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
        for m in matchings:
            ca = np.asarray(ea["per_document"][m])
            cb = np.asarray(eb["per_document"][m])
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
    return out
