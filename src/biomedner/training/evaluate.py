"""Evaluation during and after training, through the public prediction path
(``NERModel.predict_batch``) and the evaluation package's scorer, so the numbers a run reports
are the numbers a user would get from the saved checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biomedner.errors import ConfigError
from biomedner.types import Entity


@dataclass
class EvalSet:
    name: str
    texts: list[str]
    gold: list[list[Entity]]
    labels: list[str]
    doc_ids: list[str]


def strict_relaxed_f1(gold: list[list[Entity]], pred: list[list[Entity]]) -> dict[str, float]:
    from biomedner.evaluation.scoring import score_entities

    result = score_entities(gold, pred, matchings=("strict", "relaxed"), bootstrap=None)
    out: dict[str, float] = {}
    for m in ("strict", "relaxed"):
        micro = result.metrics[m]["micro"]
        out[f"{m}_precision"] = float(micro["precision"])
        out[f"{m}_recall"] = float(micro["recall"])
        out[f"{m}_f1"] = float(micro["f1"])
    out["n_gold"] = float(result.n_gold)
    out["n_pred"] = float(result.n_pred)
    return out


def evaluate_set(
    model: Any, data: EvalSet, *, threshold: float = 0.5, batch_size: int = 8, mode: str = "flat"
) -> dict[str, float]:
    was_training = model.module.training
    model.module.eval()
    try:
        pred = model.predict_batch(
            data.texts, data.labels, threshold=threshold, batch_size=batch_size, mode=mode
        )
    finally:
        model.module.train(was_training)
    return strict_relaxed_f1(data.gold, pred)


def eval_set_from_benchmark(
    name: str, split: str, *, data_root: str | None = None, max_docs: int | None = None
) -> EvalSet:
    from biomedner.evaluation.benchmarks import load_benchmark

    loaded = load_benchmark(name, split, data_root=data_root)
    docs = loaded.documents[:max_docs] if max_docs else loaded.documents
    return EvalSet(
        name=f"{name}/{split}",
        texts=[d.text for d in docs],
        gold=[list(d.entities) for d in docs],
        labels=list(loaded.labels),
        doc_ids=[d.id for d in docs],
    )


def eval_set_from_records(
    path: str, *, labels: list[str] | None = None, max_docs: int | None = None
) -> EvalSet:
    from biomedner.data.records import read_records

    records = read_records(path)
    if max_docs:
        records = records[:max_docs]
    found = sorted({e.label for r in records for e in r.entities})
    if labels is None:
        labels = found
    if not labels:
        raise ConfigError(f"{path}: no entity labels to evaluate with; give eval.labels")
    return EvalSet(
        name=str(path),
        texts=[r.text for r in records],
        gold=[
            [Entity(e.start, e.end, r.text[e.start : e.end], e.label) for e in r.entities]
            for r in records
        ],
        labels=list(labels),
        doc_ids=[r.id for r in records],
    )
