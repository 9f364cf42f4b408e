"""Compare two systems that were each trained with several seeds, from one evaluation report per
seed, per benchmark and on the mean over benchmarks.

Per benchmark and matching, each side's per-document counts are pooled over its seeds (summed:
every seed saw the same documents, which is checked) and the paired tests of
:mod:`biomedner.evaluation.significance` run on the pooled counts. Those tests resample
documents, so their p-values and intervals say how much the difference could move with another
sample of documents *for these trained models*; they do not treat the seeds as a sample of
training runs. The spread that training randomness causes is reported beside them: every seed's
F1 and the mean and standard deviation over seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biomedner.errors import FormatError, InputError
from biomedner.evaluation.compare import Pair, mean_over_benchmarks, micro_f1
from biomedner.evaluation.metrics import MATCHINGS
from biomedner.evaluation.report import EvalReport
from biomedner.evaluation.significance import approximate_randomization, paired_bootstrap

ReportSource = EvalReport | str | Path
Seeds = list[tuple[str, EvalReport]]

# what must be equal between the seeds of one side, per benchmark, for pooling to make sense
_SAME_PER_SEED = (
    ("split", "split"),
    ("data_hash", "data hash"),
    ("threshold", "threshold"),
    ("mode", "decoding mode"),
)


def _load(sources: Sequence[ReportSource], side: str) -> Seeds:
    if not sources:
        raise InputError(f"side {side} has no report; give at least one report.json")
    seeds: Seeds = []
    seen: set[str] = set()
    for i, source in enumerate(sources):
        if isinstance(source, EvalReport):
            label = f"{side}{i + 1} ({source.model.get('id')})"
            if any(source is other for _, other in seeds):
                raise InputError(f"{label}: the same report object is given twice for side {side}")
            seeds.append((label, source))
            continue
        path = Path(source)
        label = str(path)
        key = str(path.resolve())
        if key in seen:
            raise InputError(f"{label}: given twice for side {side}; give each seed's report once")
        seen.add(key)
        if not path.is_file():
            raise InputError(f"{label}: no such report file (side {side})")
        seeds.append((label, EvalReport.from_json(path)))
    return seeds


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "..." if len(text) > 15 else text


def _check_side(seeds: Seeds, side: str, matchings: Sequence[str]) -> None:
    """Every benchmark that several seeds report was scored on the same documents the same way,
    and every report has the per-document counts the tests need."""
    first: dict[str, tuple[str, dict[str, Any]]] = {}
    for label, report in seeds:
        for name, entry in report.benchmarks.items():
            per_doc = entry.get("per_document") or {}
            for m in ("ids", *matchings):
                if m not in per_doc:
                    raise FormatError(
                        f"benchmark {name!r} has no per-document {m!r} counts; evaluate it again "
                        "with `biomedner evaluate`",
                        label,
                    )
            if name not in first:
                first[name] = (label, entry)
                continue
            ref_label, ref = first[name]
            for key, what in _SAME_PER_SEED:
                if entry.get(key) != ref.get(key):
                    raise InputError(
                        f"{label}: benchmark {name!r} has {what} {_short(entry.get(key))} but "
                        f"{ref_label} has {_short(ref.get(key))}; the seeds of side {side} must "
                        "be evaluated on the same data the same way"
                    )
            if per_doc["ids"] != ref["per_document"]["ids"]:
                raise InputError(
                    f"{label}: benchmark {name!r} has different documents "
                    f"({len(per_doc['ids'])} ids) from {ref_label} ({len(ref['per_document']['ids'])} "
                    f"ids, or another order); the seeds of side {side} must be evaluated on the "
                    "same documents"
                )


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "mean": float(np.mean(values)),
        # the sample standard deviation; undefined for a single seed
        "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
    }


def _pairing_problem(name: str, a: Seeds, b: Seeds) -> str | None:
    missing = [label for label, report in a + b if name not in report.benchmarks]
    if missing:
        return f"not in {', '.join(missing)}"
    ea, eb = a[0][1].benchmarks[name], b[0][1].benchmarks[name]
    if ea["data_hash"] != eb["data_hash"] or ea["split"] != eb["split"]:
        return "different data (split or data hash) in A and B"
    if ea["per_document"]["ids"] != eb["per_document"]["ids"]:
        return "different documents in A and B"
    return None


def compare_seeded(
    reports_a: Sequence[ReportSource],
    reports_b: Sequence[ReportSource],
    *,
    matchings: Sequence[str] = MATCHINGS,
    n_iterations: int = 10000,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare system A (one report per seed) with system B (one report per seed).

    Reports are :class:`EvalReport` objects or paths to ``report.json`` files. Per benchmark
    and matching: each seed's micro F1, mean and sample sd over seeds per side, the F1 of the
    pooled counts, their difference A - B with approximate-randomisation and paired-bootstrap
    tests and the bootstrap interval. Under ``mean``: the unweighted mean over benchmarks of
    pooled micro F1, tested the same way, over the benchmarks that every report on both sides
    holds with the same documents (the others are named under ``left_out`` with the reason).

    Pooled counts are the sum over a side's seeds. When the sides have different numbers of
    seeds, the tests use each side's mean over seeds instead (the same F1), so that a swap in the
    randomisation test exchanges like with like.

    Raises :class:`InputError` naming the file when a report is missing or given twice, or when
    the seeds of one side were scored on different documents, data, threshold or mode."""
    side_a, side_b = _load(reports_a, "A"), _load(reports_b, "B")
    _check_side(side_a, "A", matchings)
    _check_side(side_b, "B", matchings)
    n_a, n_b = len(side_a), len(side_b)
    scale_a, scale_b = (1.0, 1.0) if n_a == n_b else (1.0 / n_a, 1.0 / n_b)
    out: dict[str, Any] = {
        "a": {
            "reports": [lbl for lbl, _ in side_a],
            "models": [r.model.get("id") for _, r in side_a],
        },
        "b": {
            "reports": [lbl for lbl, _ in side_b],
            "models": [r.model.get("id") for _, r in side_b],
        },
        "n_seeds": {"a": n_a, "b": n_b},
        "matchings": list(matchings),
        "tests_on": "summed counts" if n_a == n_b else "counts averaged over each side's seeds",
        "benchmarks": {},
    }
    names: list[str] = []
    for _, report in side_a + side_b:
        names += [n for n in report.benchmarks if n not in names]
    paired: dict[str, dict[str, Pair]] = {}
    per_seed: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for name in names:
        problem = _pairing_problem(name, side_a, side_b)
        if problem is not None:
            out["benchmarks"][name] = {"skipped": problem}
            continue
        per: dict[str, Any] = {}
        paired[name], per_seed[name] = {}, {}
        for m in matchings:
            seeds_a = [np.asarray(r.benchmarks[name]["per_document"][m]) for _, r in side_a]
            seeds_b = [np.asarray(r.benchmarks[name]["per_document"][m]) for _, r in side_b]
            pooled_a, pooled_b = sum(seeds_a), sum(seeds_b)
            test_a, test_b = pooled_a * scale_a, pooled_b * scale_b
            f1_a, f1_b = [micro_f1(c) for c in seeds_a], [micro_f1(c) for c in seeds_b]
            ar = approximate_randomization(test_a, test_b, n_iterations=n_iterations, seed=seed)
            boot = paired_bootstrap(test_a, test_b, n_resamples=n_resamples, seed=seed)
            per[m] = {
                "f1_a_seeds": f1_a,
                "f1_b_seeds": f1_b,
                "f1_a": _spread(f1_a),
                "f1_b": _spread(f1_b),
                "f1_a_pooled": micro_f1(pooled_a),
                "f1_b_pooled": micro_f1(pooled_b),
                "pooled_totals_a": [int(x) for x in pooled_a.sum(0)],
                "pooled_totals_b": [int(x) for x in pooled_b.sum(0)],
                "difference": ar["difference"],
                "approximate_randomization": ar,
                "paired_bootstrap": boot,
            }
            paired[name][m] = (test_a, test_b)
            per_seed[name][m] = (f1_a, f1_b)
        out["benchmarks"][name] = per
    left_out = {n: e["skipped"] for n, e in out["benchmarks"].items() if "skipped" in e}
    mean = mean_over_benchmarks(
        paired,
        left_out,
        matchings=matchings,
        n_iterations=n_iterations,
        n_resamples=n_resamples,
        seed=seed,
    )
    if paired:
        for m in matchings:
            # each seed's own mean over the counted benchmarks: the seed spread of the mean row
            a_seeds = np.mean([per_seed[n][m][0] for n in paired], axis=0).tolist()
            b_seeds = np.mean([per_seed[n][m][1] for n in paired], axis=0).tolist()
            mean[m] = {
                "f1_a_seeds": a_seeds,
                "f1_b_seeds": b_seeds,
                "f1_a": _spread(a_seeds),
                "f1_b": _spread(b_seeds),
                "f1_a_pooled": mean[m].pop("f1_a"),
                "f1_b_pooled": mean[m].pop("f1_b"),
                **mean[m],
            }
    out["mean"] = mean
    return out
