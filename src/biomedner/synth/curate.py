"""Corpus curation: sources -> quality filter -> decontamination -> deduplication -> balanced
sampling -> ``{"id", "source", "text", ...}`` JSONL ready for annotation.

Every document that does not reach the output is accounted for: the JSON report counts drops per
stage and reason, and ``<out>.removed.jsonl`` lists each removed id with its stage and reason
(ids and reasons only, never text). The output is written atomically, so a killed run leaves the
previous output (or none) and simply reruns; the whole pipeline is deterministic for a config.

Stage order matters: decontamination runs before deduplication so a benchmark copy can never be
the representative that survives while its near-duplicates are dropped; deduplication keeps the
first text of each duplicate group in source order, so list preferred sources first.
"""

from __future__ import annotations

import os
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from biomedner.errors import BiomednerError
from biomedner.io.jsonl import write_json_atomic, write_jsonl_atomic
from biomedner.logging import get_logger
from biomedner.synth.decontam import ContaminationIndex, DecontamConfig
from biomedner.synth.dedup import DedupConfig, find_duplicates
from biomedner.synth.quality import QualityConfig, quality_reason
from biomedner.synth.sources import CorpusDoc, ReadStats, SourceSpec, read_source

logger = get_logger(__name__)

BenchmarkTexts = Iterable[tuple[str | None, str]]

COUNT_KEYS = (
    "read",
    "pubmed_deleted",
    "pubmed_superseded",
    "ids_disambiguated",
    "quality_dropped",
    "decontaminated",
    "excluded",
    "exact_duplicates",
    "near_duplicates",
    "sampled_out",
    "written",
)


class SamplingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    balance: bool = False  # cap every source at the size of the smallest (after filtering)
    max_per_source: int | None = Field(default=None, ge=1)
    seed: int = 42


class CurateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceSpec] = Field(min_length=1)
    # texts that must not be annotated again, e.g. an earlier teacher run's texts.jsonl
    exclude: list[SourceSpec] = Field(default_factory=list)
    use_benchmark_registry: bool = True
    benchmark_data_root: str | None = None  # default: the registry's own resolution
    quality: QualityConfig = Field(default_factory=QualityConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)


# PubTator documents are keyed by PMID; other formats' ids (file names, sentence numbers) are not
_PMID_FORMATS = ("pubtator", "bioc", "bioc-xml", "bioc-json", "bioc_xml", "bioc_json")


def registry_benchmark_texts(
    data_root: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, BenchmarkTexts], list[str]] | None:
    """Every registered benchmark split as ``({"name/split": [(pmid, text), ...]}, unavailable)``,
    where ``unavailable`` lists the splits whose files could not be read; None when the benchmark
    registry is not part of this installation. Files are read without the hash check: a locally
    modified benchmark must still be decontaminated against."""
    try:
        from biomedner.evaluation import benchmarks as registry
    except ImportError:
        return None
    sets: dict[str, BenchmarkTexts] = {}
    unavailable: list[str] = []
    for name in registry.list_benchmarks():
        spec = registry.get_benchmark(name)
        use_pmid = spec.format in _PMID_FORMATS
        for split in spec.splits:
            try:
                loaded = registry.load_benchmark(name, split, data_root=data_root, verify=False)
            except (BiomednerError, OSError) as exc:
                logger.warning(
                    "benchmark %s/%s unavailable for decontamination: %s", name, split, exc
                )
                unavailable.append(f"{name}/{split}")
                continue
            sets[f"{name}/{split}"] = [
                (d.id if use_pmid and d.id.isdigit() else None, d.text) for d in loaded.documents
            ]
    return sets, unavailable


def _removed(doc: CorpusDoc, stage: str, reason: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": doc.id, "source": doc.source, "stage": stage, "reason": reason}
    if doc.pmid:
        row["pmid"] = doc.pmid
    row.update(extra)
    return row


def _read_all(
    specs: list[SourceSpec], counts: Counter[str], removed: list[dict[str, Any]]
) -> list[CorpusDoc]:
    docs: list[CorpusDoc] = []
    stats = ReadStats()
    for spec in specs:
        docs.extend(read_source(spec, stats))
    counts.update({f"read_{k}": v for k, v in stats.counts.items()})
    counts["read"] = len(docs)

    # PubMed update files supersede earlier versions of a citation and may delete citations.
    last_for_pmid: dict[str, int] = {}
    for i, doc in enumerate(docs):
        if doc.pmid and doc.id.startswith("pmid:"):
            last_for_pmid[doc.pmid] = i
    kept: list[CorpusDoc] = []
    for i, doc in enumerate(docs):
        if doc.pmid and doc.id.startswith("pmid:"):
            if doc.pmid in stats.deleted_pmids:
                counts["pubmed_deleted"] += 1
                removed.append(_removed(doc, "read", "pubmed_deleted"))
                continue
            if last_for_pmid[doc.pmid] != i:
                counts["pubmed_superseded"] += 1
                removed.append(_removed(doc, "read", "pubmed_superseded"))
                continue
        kept.append(doc)

    # Ids must be unique in the output; a repeated id with a different text gets a suffix.
    seen: Counter[str] = Counter()
    unique: list[CorpusDoc] = []
    for doc in kept:
        seen[doc.id] += 1
        if seen[doc.id] > 1:
            counts["ids_disambiguated"] += 1
            doc = CorpusDoc(**{**doc.__dict__, "id": f"{doc.id}~{seen[doc.id]}"})
        unique.append(doc)
    return unique


def _reference_index(
    config: CurateConfig,
    benchmark_texts: BenchmarkTexts | Mapping[str, BenchmarkTexts] | None,
    report: dict[str, Any],
) -> ContaminationIndex:
    index = ContaminationIndex(config.decontam)
    sets: Mapping[str, BenchmarkTexts] | None
    if benchmark_texts is None:
        found = (
            registry_benchmark_texts(config.benchmark_data_root)
            if config.use_benchmark_registry
            else None
        )
        sets = found[0] if found is not None and found[0] else None
        report["benchmark_source"] = "registry" if sets is not None else "none"
        if found is not None:
            report["benchmark_sets_unavailable"] = found[1]
    elif isinstance(benchmark_texts, Mapping):
        sets = benchmark_texts
        report["benchmark_source"] = "argument"
    else:
        sets = {"benchmark": benchmark_texts}
        report["benchmark_source"] = "argument"
    if sets is None:
        logger.warning(
            "no benchmark texts (none given, and the registry is switched off, missing or has "
            "no readable split): the curated corpus is NOT decontaminated"
        )
    else:
        for name, items in sets.items():
            index.add_many(f"benchmark:{name}", items)
    for spec in config.exclude:
        for doc in read_source(spec):
            index.add(f"exclude:{spec.source_name}", doc.text, doc.pmid, doc.id)
    report["reference_sets"] = dict(index.sizes)
    return index


def curate(
    config: CurateConfig,
    out_path: str | os.PathLike[str],
    benchmark_texts: BenchmarkTexts | Mapping[str, BenchmarkTexts] | None = None,
    report_path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Run the curation pipeline and write ``out_path`` (JSONL), its report (default
    ``<out>.report.json``) and ``<out>.removed.jsonl``.

    ``benchmark_texts``: ``(pmid or None, text)`` pairs of every benchmark split to decontaminate
    against, or a mapping ``{"ncbi_disease/test": pairs, ...}`` for a per-set report. When None,
    the benchmark registry is used if installed (``use_benchmark_registry``)."""
    out_path = Path(out_path)
    stem = out_path.name.removesuffix(".jsonl")
    report_path = Path(report_path) if report_path else out_path.with_name(f"{stem}.report.json")
    removed_path = out_path.with_name(f"{stem}.removed.jsonl")

    # the standard counters are always reported, zeros included
    counts: Counter[str] = Counter({k: 0 for k in COUNT_KEYS})
    removed: list[dict[str, Any]] = []
    report: dict[str, Any] = {"config": config.model_dump()}

    docs = _read_all(config.sources, counts, removed)
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        per_source[doc.source]["read"] += 1

    quality_reasons: Counter[str] = Counter()
    passed: list[CorpusDoc] = []
    for doc in docs:
        reason = quality_reason(doc.text, config.quality, doc.has_abstract)
        if reason is None:
            passed.append(doc)
            continue
        quality_reasons[reason] += 1
        per_source[doc.source]["quality_dropped"] += 1
        removed.append(_removed(doc, "quality", reason))
    counts["quality_dropped"] = sum(quality_reasons.values())

    index = _reference_index(config, benchmark_texts, report)
    clean: list[CorpusDoc] = []
    contamination: Counter[str] = Counter()
    by_set: Counter[str] = Counter()
    for doc in passed:
        hit = index.check(doc.text, doc.pmid) if len(index) else None
        if hit is None:
            clean.append(doc)
            continue
        kind = hit.reference_set.split(":", 1)[0]  # "benchmark" or "exclude"
        counts["decontaminated" if kind == "benchmark" else "excluded"] += 1
        contamination[f"{kind}_{hit.reason}"] += 1
        by_set[hit.reference_set] += 1
        per_source[doc.source]["decontaminated" if kind == "benchmark" else "excluded"] += 1
        removed.append(
            _removed(
                doc,
                "decontaminate" if kind == "benchmark" else "exclude",
                hit.reason,
                **{k: v for k, v in hit.to_json().items() if k != "reason"},
            )
        )

    dups = find_duplicates([d.text for d in clean], config.dedup)
    drop = {d.index for d in dups}
    for d in dups:
        doc = clean[d.index]
        exact = d.similarity >= 1.0
        counts["exact_duplicates" if exact else "near_duplicates"] += 1
        per_source[doc.source]["duplicates"] += 1
        removed.append(
            _removed(
                doc,
                "dedup",
                "exact_duplicate" if exact else "near_duplicate",
                kept=clean[d.kept].id,
                similarity=d.similarity,
            )
        )
    unique = [doc for i, doc in enumerate(clean) if i not in drop]

    final = _sample(unique, config.sampling, counts, removed, per_source)
    for doc in final:
        per_source[doc.source]["written"] += 1
    counts["written"] = write_jsonl_atomic((d.to_json() for d in final), out_path)
    write_jsonl_atomic(removed, removed_path)

    if counts["read"] != counts["written"] + len(removed):  # every document is accounted for
        raise RuntimeError(
            f"curation lost documents: read {counts['read']}, written {counts['written']}, "
            f"removed {len(removed)}"
        )
    report.update(
        {
            "output": {"name": out_path.name, "removed_list": removed_path.name},
            "counts": {
                **{k: counts[k] for k in COUNT_KEYS},
                **{k: v for k, v in sorted(counts.items()) if k not in COUNT_KEYS},
            },
            "quality_dropped_by_reason": dict(quality_reasons.most_common()),
            "contamination_by_reason": dict(contamination.most_common()),
            "contamination_by_reference_set": dict(by_set.most_common()),
            "per_source": {k: dict(v) for k, v in sorted(per_source.items())},
        }
    )
    write_json_atomic(report, report_path)
    logger.info("curated %d of %d documents into %s", counts["written"], counts["read"], out_path)
    return report


def _sample(
    docs: list[CorpusDoc],
    config: SamplingConfig,
    counts: Counter[str],
    removed: list[dict[str, Any]],
    per_source: dict[str, Counter[str]],
) -> list[CorpusDoc]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        groups[doc.source].append(i)
    cap: int | None = None
    if config.balance and groups:
        cap = min(len(v) for v in groups.values())
    if config.max_per_source is not None:
        cap = config.max_per_source if cap is None else min(cap, config.max_per_source)
    if cap is None:
        return docs
    keep: set[int] = set()
    for name in sorted(groups):
        members = groups[name]
        # one generator per source, seeded by name, so adding a source leaves the others' samples
        rng = random.Random(f"{config.seed}:{name}")
        keep.update(members if len(members) <= cap else rng.sample(members, cap))
    out = []
    for i, doc in enumerate(docs):
        if i in keep:
            out.append(doc)
        else:
            counts["sampled_out"] += 1
            per_source[doc.source]["sampled_out"] += 1
            removed.append(_removed(doc, "sample", "over_source_cap"))
    return out
