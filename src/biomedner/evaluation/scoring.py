"""Score predicted documents against gold documents: all matchings, micro / macro / per type,
bootstrap intervals, and the per-document counts that paired tests need later."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biomedner.corpora import Document
from biomedner.errors import InputError
from biomedner.evaluation.metrics import (
    MATCHING_DEFINITIONS,
    MATCHINGS,
    CountTable,
    count_table,
    macro_from_type_totals,
    micro_from_totals,
)
from biomedner.evaluation.significance import bootstrap_ci
from biomedner.types import Entity


@dataclass(frozen=True)
class BootstrapConfig:
    n_resamples: int = 1000
    seed: int = 0
    level: float = 0.95


@dataclass
class ScoreResult:
    """``metrics[matching]`` holds micro / macro / per_type numbers with intervals;
    ``per_document[matching]`` the [tp, fp, fn] of each document (order of ``doc_ids``)."""

    doc_ids: list[str]
    metrics: dict[str, Any]
    per_document: dict[str, list[list[int]]] = field(default_factory=dict)
    n_gold: int = 0
    n_pred: int = 0

    def f1(self, matching: str = "strict", average: str = "micro") -> float:
        return float(self.metrics[matching][average]["f1"])


def align(
    gold: Sequence[Document], pred: Sequence[Document], *, allow_missing: bool = False
) -> list[list[Entity]]:
    """Predicted entities for each gold document, paired by document id (and, for ids that
    repeat, by order of occurrence). Texts must be identical, or offsets would mean different
    things. Missing predicted documents are an error unless ``allow_missing`` (then they score
    as no predictions); predicted documents absent from gold are always an error."""

    def keyed(docs: Sequence[Document]) -> dict[tuple[str, int], Document]:
        seen: Counter[str] = Counter()
        out = {}
        for d in docs:
            out[(d.id, seen[d.id])] = d
            seen[d.id] += 1
        return out

    g, p = keyed(gold), keyed(pred)
    extra = [k[0] for k in p if k not in g]
    if extra:
        raise InputError(
            f"{len(extra)} predicted document(s) are not in the gold set, e.g. {extra[:3]}"
        )
    missing = [k[0] for k in g if k not in p]
    if missing and not allow_missing:
        raise InputError(
            f"{len(missing)} gold document(s) have no predictions, e.g. {missing[:3]} "
            "(--allow-missing, allow_missing=True in Python, scores them as empty predictions)"
        )
    out = []
    for k, gd in g.items():
        pd = p.get(k)
        if pd is None:
            out.append([])
            continue
        if pd.text != gd.text:
            raise InputError(
                f"document {gd.id!r}: predicted and gold texts differ, so their offsets cannot "
                "be compared"
            )
        out.append(list(pd.entities))
    return out


def _summary(table: CountTable, ci: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    type_totals = table.counts.sum(axis=0)
    totals = type_totals.sum(axis=0)
    p, r, f = micro_from_totals(totals)
    micro: dict[str, Any] = {
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "tp": int(totals[0]),
        "fp": int(totals[1]),
        "fn": int(totals[2]),
    }
    if "micro" in ci:
        micro["ci95"] = ci["micro"]
    out: dict[str, Any] = {"definition": MATCHING_DEFINITIONS[table.matching], "micro": micro}
    if table.matching != "boundary":
        mp, mr, mf = macro_from_type_totals(type_totals)
        present = type_totals.sum(axis=-1) > 0
        macro: dict[str, Any] = {
            "precision": float(mp),
            "recall": float(mr),
            "f1": float(mf),
            "n_types": int(present.sum()),
        }
        if "macro" in ci:
            macro["ci95"] = ci["macro"]
        out["macro"] = macro
        per_type = {}
        for i, t in enumerate(table.types):
            tp, fp, fn = (int(x) for x in type_totals[i])
            tp_p, tp_r, tp_f = micro_from_totals(type_totals[i])
            per_type[t] = {
                "precision": float(tp_p),
                "recall": float(tp_r),
                "f1": float(tp_f),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "support": tp + fn,
            }
        out["per_type"] = per_type
    return out


def score_entities(
    gold: Sequence[Sequence[Entity]],
    pred: Sequence[Sequence[Entity]],
    *,
    doc_ids: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    matchings: Sequence[str] = MATCHINGS,
    bootstrap: BootstrapConfig | None = BootstrapConfig(),
) -> ScoreResult:
    """Scores aligned entity lists (one list per document). ``types`` fixes the order of the
    per-type table (e.g. the benchmark's labels); ``bootstrap=None`` skips intervals."""
    metrics: dict[str, Any] = {}
    per_doc: dict[str, list[list[int]]] = {}
    for m in matchings:
        table = count_table(gold, pred, m, types)
        ci = (
            bootstrap_ci(
                table.counts,
                n_resamples=bootstrap.n_resamples,
                seed=bootstrap.seed,
                level=bootstrap.level,
            )
            if bootstrap is not None
            else {}
        )
        metrics[m] = _summary(table, ci)
        per_doc[m] = table.per_document.astype(np.int64).tolist()
    if bootstrap is not None:
        metrics["bootstrap"] = {
            "unit": "document",
            "resamples": bootstrap.n_resamples,
            "seed": bootstrap.seed,
            "level": bootstrap.level,
            "method": "percentile",
        }
    return ScoreResult(
        doc_ids=list(doc_ids) if doc_ids is not None else [str(i) for i in range(len(gold))],
        metrics=metrics,
        per_document=per_doc,
        n_gold=sum(len(g) for g in gold),
        n_pred=sum(len(p) for p in pred),
    )


def score_documents(
    gold: Sequence[Document],
    pred: Sequence[Document],
    *,
    allow_missing: bool = False,
    types: Sequence[str] | None = None,
    matchings: Sequence[str] = MATCHINGS,
    bootstrap: BootstrapConfig | None = BootstrapConfig(),
) -> ScoreResult:
    """Scores prediction documents against gold documents (paired by id; see :func:`align`)."""
    preds = align(gold, pred, allow_missing=allow_missing)
    return score_entities(
        [d.entities for d in gold],
        preds,
        doc_ids=[d.id for d in gold],
        types=types,
        matchings=matchings,
        bootstrap=bootstrap,
    )
