"""Training sources -> training records, with per-source counts for the run report.

Every source kind ends as :class:`~biomedner.data.records.TrainingRecord` objects (raw text and
character offsets), so one path turns records into model inputs whatever the origin. Benchmark
test splits are refused: by kind (``split`` may only be train or dev) and by path (a corpus or
records file whose content is a registered benchmark's test split, wherever it lies and
however it is named, or a file named like a test split).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from biomedner.data.records import SpanLabel, TrainingRecord, iter_records
from biomedner.errors import ConfigError, InputError
from biomedner.evaluation.test_splits import path_digest
from biomedner.logging import get_logger
from biomedner.training.config import (
    BenchmarkSource,
    CorpusSource,
    RecordsSource,
    Source,
    TeacherSource,
    TrainConfig,
    TypeQueriesSource,
)

logger = get_logger(__name__)

# "test" not inside a lowercase word: Test.PubTator, CDR_TestSet, NCBItestset, but not latest
_TEST_NAME = re.compile(r"(?<![a-z])[Tt][Ee][Ss][Tt]")


def normalize_label(
    label: str, label_map: dict[str, str], lowercase: bool, global_map: dict[str, str] | None = None
) -> str:
    """Source map, then (optionally) lowercase with "_" as a space, then the run-wide map."""
    label = label_map.get(label, label)
    if lowercase:
        label = re.sub(r"[_\s]+", " ", label).strip().lower()
    if global_map:
        label = global_map.get(label, label)
    return label


def guard_test_path(path: Path, allow_named: bool) -> None:
    from biomedner.evaluation.test_splits import refuse_test_split

    # by content, whatever the name or location; allow_test_file never overrides this
    refuse_test_split(path, "training source")
    if not allow_named and _TEST_NAME.search(path.name):
        raise ConfigError(
            f"{path} is named like a test split; training on test data is refused "
            "(set allow_test_file = true on the source if it is not a test split)"
        )


def _relabel(
    record: TrainingRecord,
    label_map: dict[str, str],
    lowercase: bool,
    global_map: dict[str, str],
    counts: Counter[str],
) -> TrainingRecord:
    if not label_map and not lowercase and not global_map:
        return record
    seen: set[tuple[int, int, str]] = set()
    ents = []
    for e in record.entities:
        label = normalize_label(e.label, label_map, lowercase, global_map)
        key = (e.start, e.end, label)
        if key in seen:  # two raw types merged by the label map onto one span
            counts["entities_merged_by_label_map"] += 1
            continue
        seen.add(key)
        ents.append(SpanLabel(start=e.start, end=e.end, label=label))
    positives = {e.label for e in ents}
    negatives = [
        n
        for n in dict.fromkeys(normalize_label(x, label_map, lowercase) for x in record.negatives)
        if n not in positives
    ]
    return record.model_copy(update={"entities": ents, "negatives": negatives})


def _from_documents(docs: list[Any], tag: str, counts: Counter[str]) -> list[TrainingRecord]:
    out = []
    ids: Counter[str] = Counter()
    for doc in docs:
        ids[doc.id] += 1
        rid = doc.id if ids[doc.id] == 1 else f"{doc.id}#{ids[doc.id]}"
        if ids[doc.id] > 1:
            counts["documents_with_repeated_id"] += 1
        seen: set[tuple[int, int, str]] = set()
        ents = []
        for e in doc.entities:
            key = (e.start, e.end, e.label)
            if key in seen:
                counts["duplicate_entities_merged"] += 1
                continue
            seen.add(key)
            if not doc.text[e.start : e.end].strip():
                counts["whitespace_entities_skipped"] += 1
                continue
            ents.append(SpanLabel(start=e.start, end=e.end, label=e.label))
        if not doc.text.strip():
            counts["empty_documents_skipped"] += 1
            continue
        out.append(TrainingRecord(id=rid, text=doc.text, entities=ents, provenance={"source": tag}))
    return out


def load_source(source: Source, config: TrainConfig) -> tuple[list[TrainingRecord], dict[str, Any]]:
    counts: Counter[str] = Counter()
    info: dict[str, Any] = {"kind": source.kind}
    if isinstance(source, RecordsSource):
        path = config.resolve(source.path)
        guard_test_path(path, source.allow_test_file)
        records = list(iter_records(path))
        info.update(path=str(path), sha256=path_digest(path))
    elif isinstance(source, TeacherSource):
        from biomedner.synth.align import align_annotations, load_texts

        texts_path, ann_path = config.resolve(source.texts), config.resolve(source.annotations)
        records, align_counts = align_annotations(load_texts(texts_path), ann_path)
        info.update(texts=str(texts_path), annotations=str(ann_path))
        info["sha256"] = {"texts": path_digest(texts_path), "annotations": path_digest(ann_path)}
        info["alignment"] = align_counts.to_dict()
    elif isinstance(source, CorpusSource):
        from biomedner.corpora import read_with_report

        path = config.resolve(source.path)
        guard_test_path(path, source.allow_test_file)
        docs, report = read_with_report(path, source.format, **source.read_options)
        records = _from_documents(docs, f"corpus:{path.name}", counts)
        info.update(path=str(path), sha256=path_digest(path))
        info["reader"] = _report_dict(report)
    elif isinstance(source, TypeQueriesSource):
        from biomedner.data.type_queries import read_type_queries

        path = config.resolve(source.path)
        guard_test_path(path, source.allow_test_file)
        records = read_type_queries(path, counts)
        info.update(path=str(path), sha256=path_digest(path))
    elif isinstance(source, BenchmarkSource):
        from biomedner.evaluation.benchmarks import load_benchmark

        if source.split not in ("train", "dev"):  # the config type already says so; belt and braces
            raise ConfigError("benchmark sources may only use the train or dev split")
        split = load_benchmark(source.name, source.split, data_root=source.data_root)
        records = _from_documents(
            split.documents, f"benchmark:{source.name}/{source.split}", counts
        )
        info.update(name=source.name, split=source.split, data_hash=split.data_hash)
    else:  # pragma: no cover - the discriminated union is closed
        raise InputError(f"unknown source kind {source!r}")
    records = [
        _relabel(r, source.label_map, source.lowercase_labels, config.data.label_map, counts)
        for r in records
    ]
    if source.max_records is not None and len(records) > source.max_records:
        counts["records_beyond_max_records"] = len(records) - source.max_records
        records = records[: source.max_records]
    if not records:
        raise InputError(f"source {info} yielded no training records")
    counts["records"] = len(records)
    counts["entities"] = sum(len(r.entities) for r in records)
    info["counts"] = dict(counts)
    info["labels"] = len({e.label for r in records for e in r.entities})
    return records, info


def _report_dict(report: Any) -> dict[str, Any]:
    to_dict = getattr(report, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return {"counts": dict(getattr(report, "counts", {}))}
