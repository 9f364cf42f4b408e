"""The zero-shot evaluation harness: registered benchmarks through a model, scored every way.

Whole documents go to ``model.predict_batch`` (the model windows long documents itself), with
the benchmark's natural-language labels. Anything with the NERModel ``predict_batch`` signature
works, which is how the tests drive it with a fake model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from biomedner.corpora import Document, write
from biomedner.errors import InputError
from biomedner.evaluation.benchmarks import (
    BenchmarkSplit,
    Registry,
    load_benchmark,
    resolve_data_root,
)
from biomedner.evaluation.metrics import MATCHINGS, count_table, micro_from_totals
from biomedner.evaluation.report import EvalReport
from biomedner.evaluation.scoring import BootstrapConfig, score_entities
from biomedner.logging import get_logger
from biomedner.types import DECODE_MODES, Entity

_log = get_logger(__name__)

DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(2, 20))


class Predictor(Protocol):
    def predict_batch(
        self,
        texts: list[str],
        labels: list[str],
        threshold: float = 0.5,
        mode: str = "flat",
        batch_size: int = 8,
    ) -> list[list[Entity]]: ...


def _model_id(model: Any, model_id: str | None) -> str:
    if model_id:
        return model_id
    for attr in ("name_or_path", "name", "path", "model_id"):
        v = getattr(model, attr, None)
        if isinstance(v, str | Path) and str(v):
            return str(v)
    return type(model).__name__


def _predict(
    model: Predictor,
    bench: BenchmarkSplit,
    *,
    threshold: float,
    mode: str,
    batch_size: int,
) -> list[list[Entity]]:
    texts = [d.text for d in bench.documents]
    preds = model.predict_batch(
        texts, list(bench.labels), threshold=threshold, mode=mode, batch_size=batch_size
    )
    if len(preds) != len(texts):
        raise InputError(
            f"{bench.name}: model returned {len(preds)} prediction lists for {len(texts)} texts"
        )
    out = []
    for doc, ents in zip(bench.documents, preds, strict=True):
        for e in ents:
            if e.end > len(doc.text) or doc.text[e.start : e.end] != e.text:
                raise InputError(
                    f"{bench.name}: prediction {e.text!r} [{e.start}, {e.end}) does not match "
                    f"the text of document {doc.id!r}"
                )
        out.append(list(ents))
    return out


def _resolve_mode(mode: str | None, bench: BenchmarkSplit) -> str:
    if mode is None:
        return "nested" if bench.nested else "flat"
    if mode not in DECODE_MODES:
        raise InputError(f"mode must be one of {DECODE_MODES}, got {mode!r}")
    return mode


def threshold_curve(
    gold: Sequence[Sequence[Entity]],
    pred: Sequence[Sequence[Entity]],
    thresholds: Sequence[float],
    matching: str = "strict",
) -> list[dict[str, float]]:
    """Micro P/R/F1 when only predictions with ``score >= t`` are kept, for each ``t``.

    This equals re-decoding at ``t`` because decoding is greedy in descending score: which
    spans a higher threshold keeps does not depend on lower-scored candidates.
    """
    curve = []
    for t in thresholds:
        kept = []
        for ents in pred:
            if any(e.score is None for e in ents):
                raise InputError("threshold search needs scored predictions; use strategy='rerun'")
            kept.append([e for e in ents if e.score is not None and e.score >= t])
        totals = count_table(gold, kept, matching).per_document.sum(axis=0)
        p, r, f = micro_from_totals(totals)
        curve.append(
            {"threshold": float(t), "precision": float(p), "recall": float(r), "f1": float(f)}
        )
    return curve


def find_threshold(
    model: Predictor,
    benchmark: str | BenchmarkSplit,
    *,
    split: str = "dev",
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    matching: str = "strict",
    mode: str | None = None,
    batch_size: int = 8,
    data_root: str | Path | None = None,
    strategy: str = "filter",
    verify: bool = True,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """The threshold with the best micro F1 (``matching``) on a tuning split, never the test
    split. ``strategy="filter"`` predicts once at the lowest threshold and filters by score;
    ``"rerun"`` predicts again at every threshold. Ties go to the lower threshold."""
    if split == "test":
        raise InputError("tune the threshold on a dev (or train) split, never on test")
    if not thresholds:
        raise InputError("thresholds must not be empty")
    bench = (
        benchmark
        if isinstance(benchmark, BenchmarkSplit)
        else load_benchmark(benchmark, split, data_root=data_root, verify=verify, registry=registry)
    )
    m = _resolve_mode(mode, bench)
    gold = [d.entities for d in bench.documents]
    ts = sorted(float(t) for t in thresholds)
    if strategy == "filter":
        preds = _predict(model, bench, threshold=ts[0], mode=m, batch_size=batch_size)
        curve = threshold_curve(gold, preds, ts, matching)
    elif strategy == "rerun":
        curve = []
        for t in ts:
            preds = _predict(model, bench, threshold=t, mode=m, batch_size=batch_size)
            curve.extend(threshold_curve(gold, preds, [t], matching))
    else:
        raise InputError(f"strategy must be 'filter' or 'rerun', got {strategy!r}")
    best = max(curve, key=lambda c: (c["f1"], -c["threshold"]))
    return {
        "benchmark": bench.name,
        "split": bench.split,
        "matching": matching,
        "average": "micro",
        "mode": m,
        "strategy": strategy,
        "data_hash": bench.data_hash,
        "curve": curve,
        "best_threshold": best["threshold"],
        "best_f1": best["f1"],
    }


def _block(
    bench: BenchmarkSplit, preds: list[list[Entity]], bootstrap: BootstrapConfig | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    result = score_entities(
        [d.entities for d in bench.documents],
        preds,
        doc_ids=[d.id for d in bench.documents],
        types=bench.labels,
        matchings=MATCHINGS,
        bootstrap=bootstrap,
    )
    per_doc = {"ids": result.doc_ids, **result.per_document}
    return result.metrics, per_doc


def evaluate(
    model: Predictor,
    benchmarks: Sequence[str] | str,
    split: str = "test",
    threshold: float = 0.5,
    mode: str | None = None,
    *,
    data_root: str | Path | None = None,
    batch_size: int = 8,
    bootstrap: BootstrapConfig | None = BootstrapConfig(),
    tune_threshold: bool = False,
    tune_split: str = "dev",
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    out_dir: str | Path | None = None,
    model_id: str | None = None,
    verify: bool = True,
    plot: bool = True,
    registry: Registry | None = None,
) -> EvalReport:
    """Evaluate ``model`` on registered benchmarks and return an :class:`EvalReport`.

    ``mode=None`` decodes each benchmark as its registry entry says (nested or flat). With
    ``tune_threshold`` the best threshold on ``tune_split`` is searched per benchmark and the
    test split is scored again with it, reported under ``tuned``, beside (not instead of) the
    scores at ``threshold``. With ``out_dir`` the predictions (JSONL), ``report.json``,
    ``report.md`` and ``f1.png`` are written there.
    """
    names = [benchmarks] if isinstance(benchmarks, str) else list(benchmarks)
    if not names:
        raise InputError("no benchmarks given")
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"threshold must be in [0, 1], got {threshold}")
    out = Path(out_dir) if out_dir is not None else None
    report = EvalReport(
        model={"id": _model_id(model, model_id), "class": type(model).__name__},
        config={
            "split": split,
            "threshold": threshold,
            "mode": mode,
            "batch_size": batch_size,
            "data_root": str(resolve_data_root(data_root)),
            "bootstrap": asdict(bootstrap) if bootstrap is not None else None,
            "tune_threshold": tune_threshold,
            "tune_split": tune_split if tune_threshold else None,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "biomedner_version": _version(),
        },
    )
    for name in names:
        t0 = time.perf_counter()
        bench = load_benchmark(name, split, data_root=data_root, verify=verify, registry=registry)
        m = _resolve_mode(mode, bench)
        _log.info("evaluating %s/%s: %d documents", name, split, len(bench.documents))
        preds = _predict(model, bench, threshold=threshold, mode=m, batch_size=batch_size)
        metrics, per_doc = _block(bench, preds, bootstrap)
        entry: dict[str, Any] = {
            "split": split,
            "threshold": threshold,
            "mode": m,
            "labels": bench.labels,
            "label_map": bench.label_map,
            "nested": bench.nested,
            "data_hash": bench.data_hash,
            "data_files": bench.files,
            "registry_version": bench.registry_version,
            "reader_counts": {**dict(bench.report.counts), **bench.counts},
            "n_documents": len(bench.documents),
            "n_gold": bench.n_mentions,
            "n_pred": sum(len(p) for p in preds),
            "gold_overlapping_pairs": _overlapping_pairs(bench.documents),
            "metrics": metrics,
            "per_document": per_doc,
            "predictions_file": None,
            "threshold_search": None,
            "tuned": None,
        }
        if out is not None:
            rel = Path("predictions") / f"{name}.{split}.jsonl"
            (out / "predictions").mkdir(parents=True, exist_ok=True)
            write(
                [d.with_entities(p) for d, p in zip(bench.documents, preds, strict=True)],
                out / rel,
                "jsonl",
            )
            entry["predictions_file"] = rel.as_posix()
        if tune_threshold:
            if tune_split == split:
                raise InputError("the tuning split must differ from the evaluated split")
            search = find_threshold(
                model,
                name,
                split=tune_split,
                thresholds=thresholds,
                mode=m,
                batch_size=batch_size,
                data_root=data_root,
                verify=verify,
                registry=registry,
            )
            tuned_preds = _predict(
                model, bench, threshold=search["best_threshold"], mode=m, batch_size=batch_size
            )
            t_metrics, t_per_doc = _block(bench, tuned_preds, bootstrap)
            entry["threshold_search"] = search
            entry["tuned"] = {
                "threshold": search["best_threshold"],
                "tuned_on": tune_split,
                "n_pred": sum(len(p) for p in tuned_preds),
                "metrics": t_metrics,
                "per_document": t_per_doc,
            }
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        report.benchmarks[name] = entry
    if out is not None:
        report.save(out, plot=plot)
    return report


def _overlapping_pairs(docs: Sequence[Document]) -> int:
    """Gold mention pairs that overlap: a flat decoder cannot recover all of them."""
    n = 0
    for d in docs:
        spans = sorted((e.start, e.end) for e in d.entities)
        for i, (_s, e) in enumerate(spans):
            for s2, _ in spans[i + 1 :]:
                if s2 >= e:
                    break
                n += 1
    return n


def _version() -> str:
    from biomedner import __version__

    return __version__


__all__ = ["DEFAULT_THRESHOLDS", "evaluate", "find_threshold", "threshold_curve"]
