"""Few-shot adaptation: K examples per entity type from a benchmark's TRAIN split, a short
fine-tuning run from an existing checkpoint, scored on the TEST split against the zero-shot
score of the same checkpoint. Several seeds give a mean and a spread.

Sampling (per seed, reproducible): for each label in sorted order, the train documents that
mention it are shuffled and added until K selected documents mention that label (documents
picked for an earlier label count). Each sampled document becomes a training record whose
negatives are the benchmark labels it does not mention, so every label is seen every step.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biomedner.data.records import SpanLabel, TrainingRecord, write_records
from biomedner.errors import InputError
from biomedner.io.atomic import write_text_atomic
from biomedner.logging import get_logger
from biomedner.training.evaluate import EvalSet, evaluate_set

logger = get_logger(__name__)

DEFAULT_OPTIM: dict[str, Any] = {
    "encoder_lr": 2e-5,
    "head_lr": 1e-4,
    "schedule": "linear",
    "warmup_ratio": 0.1,
    "batch_size": 4,
    "neg_type_ratio": 0.0,  # the record negatives already hold every other benchmark label
    "shuffle_labels": True,
    "max_types": 50,
}


@dataclass
class FewShotSettings:
    model: str
    benchmark: str
    shots: int = 10
    seeds: list[int] = field(default_factory=lambda: [0])
    steps: int = 100
    overrides: list[str] = field(default_factory=list)
    max_test_docs: int | None = None
    threshold: float = 0.5
    data_root: str | None = None
    save_models: bool = False


def sample_k_shot(documents: list[Any], labels: list[str], k: int, seed: int) -> list[int]:
    """Indices of documents such that each label is mentioned in at least ``k`` of them (or in
    all documents that mention it, when fewer exist)."""
    if k <= 0:
        raise InputError(f"shots must be positive, got {k}")
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    chosen_set: set[int] = set()
    has = [{e.label for e in d.entities} for d in documents]
    for label in sorted(labels):
        have = sum(1 for i in chosen if label in has[i])
        candidates = [i for i, h in enumerate(has) if label in h and i not in chosen_set]
        for j in rng.permutation(len(candidates)).tolist():
            if have >= k:
                break
            chosen.append(candidates[j])
            chosen_set.add(candidates[j])
            have += 1
    return chosen


def _records(
    documents: list[Any], indices: list[int], labels: list[str], tag: str
) -> list[TrainingRecord]:
    out = []
    seen: dict[str, int] = {}
    for i in indices:
        d = documents[i]
        seen[d.id] = seen.get(d.id, 0) + 1
        rid = d.id if seen[d.id] == 1 else f"{d.id}#{seen[d.id]}"
        spans = sorted({(e.start, e.end, e.label) for e in d.entities})
        present = {s[2] for s in spans}
        out.append(
            TrainingRecord(
                id=rid,
                text=d.text,
                entities=[SpanLabel(start=s, end=e, label=l) for s, e, l in spans],
                negatives=[l for l in labels if l not in present],
                provenance={"source": tag},
            )
        )
    return out


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def run_fewshot(settings: FewShotSettings, out_dir: str | Path) -> dict[str, Any]:
    from biomedner.evaluation.benchmarks import load_benchmark
    from biomedner.model import NERModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_split = load_benchmark(settings.benchmark, "train", data_root=settings.data_root)
    test_split = load_benchmark(settings.benchmark, "test", data_root=settings.data_root)
    test_set = _test_set(settings, test_split)
    base = NERModel.from_pretrained(settings.model)
    zero = evaluate_set(base, test_set, threshold=settings.threshold)
    del base
    logger.info("zero-shot %s: strict F1 %.4f", test_set.name, zero["strict_f1"])
    runs = [
        _seed_run(settings, seed, out / f"seed_{seed}", train_split, test_set, zero)
        for seed in settings.seeds
    ]
    report = _report(settings, train_split, test_split, test_set, zero, runs)
    write_text_atomic(out / "fewshot_report.json", json.dumps(report, indent=2))
    return report


def _test_set(settings: FewShotSettings, test_split: Any) -> EvalSet:
    limit = settings.max_test_docs
    docs = test_split.documents[:limit] if limit else test_split.documents
    return EvalSet(
        name=f"{settings.benchmark}/test" + (f"[:{limit}]" if limit else ""),
        texts=[d.text for d in docs],
        gold=[list(d.entities) for d in docs],
        labels=list(test_split.labels),
        doc_ids=[d.id for d in docs],
    )


def _seed_run(
    settings: FewShotSettings,
    seed: int,
    run_dir: Path,
    train_split: Any,
    test_set: EvalSet,
    zero: dict[str, float],
) -> dict[str, Any]:
    """Sample k shots with ``seed``, fine-tune on them, score the test set."""
    from biomedner.model import NERModel
    from biomedner.training.config import config_from_dict
    from biomedner.training.trainer import train

    labels = test_set.labels
    indices = sample_k_shot(train_split.documents, labels, settings.shots, seed)
    records = _records(
        train_split.documents, indices, labels, f"benchmark:{settings.benchmark}/train k-shot"
    )
    data_path = run_dir / "kshot_train.jsonl"
    write_records(records, data_path)
    cfg = config_from_dict(
        {
            "seed": seed,
            "output_dir": str(run_dir / "run"),
            "model": {"checkpoint": str(settings.model)},
            "optim": dict(DEFAULT_OPTIM),
            "stages": [
                {
                    "name": "fewshot",
                    "steps": settings.steps,
                    "sources": [{"kind": "records", "path": str(data_path.resolve())}],
                }
            ],
            "checkpoint": {"every_steps": max(settings.steps, 1), "keep_last": 1},
            "log_every": max(1, settings.steps // 10),
        },
        settings.overrides,
        source="finetune",
    )
    result = train(cfg)
    tuned = NERModel.from_pretrained(result.model_dir)
    scores = evaluate_set(tuned, test_set, threshold=settings.threshold)
    if not settings.save_models:
        import shutil

        shutil.rmtree(run_dir / "run" / "checkpoints", ignore_errors=True)
    logger.info("seed %d: %d-shot strict F1 %.4f", seed, settings.shots, scores["strict_f1"])
    return {
        "seed": seed,
        "train_documents": [train_split.documents[i].id for i in indices],
        "train_mentions": sum(len(r.entities) for r in records),
        "k_shot": scores,
        "delta_strict_f1": scores["strict_f1"] - zero["strict_f1"],
        "delta_relaxed_f1": scores["relaxed_f1"] - zero["relaxed_f1"],
    }


def _report(
    settings: FewShotSettings,
    train_split: Any,
    test_split: Any,
    test_set: EvalSet,
    zero: dict[str, float],
    runs: list[dict[str, Any]],
) -> dict[str, Any]:
    s_sum = _summary([r["k_shot"]["strict_f1"] for r in runs])
    r_sum = _summary([r["k_shot"]["relaxed_f1"] for r in runs])
    return {
        "model": str(settings.model),
        "benchmark": settings.benchmark,
        "train_split": f"{settings.benchmark}/train (sampled {settings.shots} per type)",
        "test_split": test_set.name,
        "labels": test_set.labels,
        "shots": settings.shots,
        "steps": settings.steps,
        "overrides": settings.overrides,
        "threshold": settings.threshold,
        "data_hash": {"train": train_split.data_hash, "test": test_split.data_hash},
        "runs": runs,
        "summary": {
            "zero_shot": zero,
            "k_shot": {
                "strict_f1_mean": s_sum["mean"],
                "strict_f1_std": s_sum["std"],
                "strict_f1_min": s_sum["min"],
                "strict_f1_max": s_sum["max"],
                "relaxed_f1_mean": r_sum["mean"],
                "relaxed_f1_std": r_sum["std"],
            },
            "delta_strict_f1_mean": s_sum["mean"] - zero["strict_f1"],
            "delta_relaxed_f1_mean": r_sum["mean"] - zero["relaxed_f1"],
        },
    }
