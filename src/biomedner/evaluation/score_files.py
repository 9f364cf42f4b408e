"""Score a prediction file against a gold file or a registered benchmark split; the result is
an :class:`EvalReport` with one entry, so ``compare`` works on it like on ``evaluate`` output."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from biomedner.corpora import Document, read_with_report
from biomedner.errors import InputError
from biomedner.evaluation.benchmarks import load_benchmark
from biomedner.evaluation.metrics import MATCHINGS
from biomedner.evaluation.predictions import is_predict_output, read_predict_output
from biomedner.evaluation.report import EvalReport
from biomedner.evaluation.scoring import BootstrapConfig, score_documents
from biomedner.types import Entity


def _relabel(docs: list[Document], mapping: dict[str, str]) -> list[Document]:
    unknown = sorted({e.label for d in docs for e in d.entities} - set(mapping))
    if unknown:
        raise InputError(f"gold types {unknown} are not in the label map")
    return [
        d.with_entities(
            [Entity(e.start, e.end, e.text, mapping[e.label], e.score, e.ids) for e in d.entities]
        )
        for d in docs
    ]


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]
    for q in files:
        h.update(q.read_bytes())
    return h.hexdigest()


def score_files(
    gold: str | Path,
    pred: str | Path,
    *,
    gold_format: str | None = None,
    pred_format: str | None = None,
    benchmark: str | None = None,
    label_map: dict[str, str] | None = None,
    allow_missing: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
    data_root: str | Path | None = None,
) -> EvalReport:
    """``gold`` is a corpus path, or ``BENCHMARK:SPLIT`` (labels then already mapped).
    ``benchmark`` / ``label_map`` map raw gold types of a corpus file to the predicted labels."""
    gold_s = str(gold)
    entry: dict[str, Any] = {}
    if not Path(gold_s).exists() and ":" in gold_s:
        name, split = gold_s.rsplit(":", 1)
        bench = load_benchmark(name, split, data_root=data_root)
        gold_docs = bench.documents
        entry.update(
            split=split,
            labels=bench.labels,
            label_map=bench.label_map,
            data_hash=bench.data_hash,
            registry_version=bench.registry_version,
        )
        key = name
    else:
        gold_docs, _ = read_with_report(gold_s, gold_format)
        mapping = label_map
        if benchmark is not None:
            from biomedner.evaluation.benchmarks import get_benchmark

            spec = get_benchmark(benchmark)
            mapping = {**spec.label_map, **(label_map or {})}
            drop = set(spec.drop_types)
            gold_docs = [
                d.with_entities([e for e in d.entities if e.label not in drop]) for d in gold_docs
            ]
        if mapping is not None:
            gold_docs = _relabel(gold_docs, mapping)
        labels = sorted({e.label for d in gold_docs for e in d.entities})
        entry.update(
            split=None,
            labels=labels,
            label_map=mapping,
            data_hash=_hash(Path(gold_s)),
            registry_version=None,
        )
        key = Path(gold_s).name
    if pred_format in (None, "predict") and is_predict_output(pred):
        pred_docs = read_predict_output(pred, gold_docs)
    elif pred_format == "predict":
        raise InputError(f"{pred}: not 'biomedner predict' output (JSONL of {{id, entities}})")
    else:
        pred_docs, _ = read_with_report(pred, pred_format)
    gold_labels = {e.label for d in gold_docs for e in d.entities}
    pred_labels = {e.label for d in pred_docs for e in d.entities}
    if gold_labels and pred_labels and not gold_labels & pred_labels:
        # nothing could ever match: almost surely raw gold types against natural-language labels
        raise InputError(
            f"gold labels {sorted(gold_labels)[:6]} and predicted labels {sorted(pred_labels)[:6]} "
            "share no label; map the gold types with --benchmark or --label-map"
        )
    bootstrap = BootstrapConfig(n_resamples=n_resamples, seed=seed) if n_resamples > 0 else None
    result = score_documents(
        gold_docs,
        pred_docs,
        allow_missing=allow_missing,
        types=entry["labels"],
        matchings=MATCHINGS,
        bootstrap=bootstrap,
    )
    entry.update(
        threshold=None,
        mode=None,
        n_documents=len(gold_docs),
        n_gold=result.n_gold,
        n_pred=result.n_pred,
        metrics=result.metrics,
        per_document={"ids": result.doc_ids, **result.per_document},
        predictions_file=str(pred),
        threshold_search=None,
        tuned=None,
    )
    return EvalReport(
        model={"id": f"predictions:{pred}", "class": "PredictionFile"},
        config={
            "gold": gold_s,
            "split": entry["split"],
            "mode": None,
            "bootstrap": None if bootstrap is None else bootstrap.__dict__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        benchmarks={key: entry},
    )
