"""Student-vs-teacher agreement: entity-level precision, recall and F1 of the student's
``{"id", "entities": [{"text", "type"}]}`` answers against the teacher's, on held-out texts.

A mention is the pair (mention text, normalised type); each text's mentions are a set, so a
duplicate listing counts once. ``strict`` needs text and type to agree; ``untyped`` compares the
mention texts alone (did the student find the same spans, whatever it called them). Texts the
student did not answer count as all-missed and are reported as ``student_missing``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from biomedner.errors import FormatError
from biomedner.io.jsonl import iter_jsonl, require_str
from biomedner.synth.align import normalize_type


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _mentions(entities: list[dict[str, Any]], typed: bool) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for e in entities:
        text = " ".join(str(e.get("text", "")).split())
        if not text:
            continue
        out.add((text, normalize_type(str(e.get("type", "")))) if typed else (text,))
    return out


def agreement(
    teacher: dict[str, list[dict[str, Any]]],
    student: dict[str, list[dict[str, Any]]],
    ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    ids = list(teacher) if ids is None else list(ids)
    missing = [i for i in ids if i not in teacher]
    if missing:
        raise KeyError(f"{len(missing)} ids have no teacher annotation, e.g. {missing[0]!r}")
    result: dict[str, Any] = {"texts": len(ids), "student_missing": 0}
    for typed, name in ((True, "strict"), (False, "untyped")):
        tp = fp = fn = 0
        for rid in ids:
            gold = _mentions(teacher[rid], typed)
            pred = _mentions(student.get(rid, []), typed)
            tp += len(gold & pred)
            fp += len(pred - gold)
            fn += len(gold - pred)
        result[name] = _prf(tp, fp, fn)
    result["student_missing"] = sum(1 for i in ids if i not in student)
    return result


def load_annotations(path: str | os.PathLike[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line, data in iter_jsonl(path):
        rid = require_str(data, "id", path, line)
        entities = data.get("entities")
        if not isinstance(entities, list):
            raise FormatError("field 'entities' must be a list", str(path), line)
        if rid in out:
            raise FormatError(f"duplicate id {rid!r}", str(path), line)
        out[rid] = [e for e in entities if isinstance(e, dict)]
    return out


def load_ids(path: str | os.PathLike[str]) -> list[str]:
    """Ids of any JSONL file with an ``id`` field (e.g. the SFT ``eval.jsonl``)."""
    return [require_str(data, "id", path, line) for line, data in iter_jsonl(path)]
