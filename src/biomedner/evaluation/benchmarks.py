"""The benchmark registry: what each benchmark is, read from the versioned data file
``benchmarks.json`` shipped beside this module. Adding a benchmark is one entry there.

Each entry names the corpus format and reader options, the files of every split relative to the
data root, the raw-type -> natural-language label map (raw types listed in ``drop_types`` are not
entities and are removed, any other unmapped type is an error), whether gold mentions nest, the
licence, and the sha256 of each split's files. Splits without an official file are carved out of
a pool by ``select`` (seeded, by document or by a document-id group), e.g. JNLPBA dev from train.

The data root is, in order: the ``data_root`` argument, ``$BIOMEDNER_DATA``, then
``../shared/data/benchmarks`` relative to the working directory. A root that holds a
``benchmarks/`` folder is taken to mean that folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from biomedner.corpora import Document, ReadReport, read_with_report
from biomedner.errors import BiomednerError, ConfigError, InputError
from biomedner.types import Entity

DATA_ENV = "BIOMEDNER_DATA"
DEFAULT_DATA_ROOT = Path("..") / "shared" / "data" / "benchmarks"
SPLITS = ("train", "dev", "test")


class BenchmarkDataError(BiomednerError):
    """Benchmark files are missing, or differ from the registered version (hash mismatch)."""


class Select(BaseModel):
    """Part ``part`` of a seeded partition of the pool's documents by ``fractions``. Documents
    whose ids share the first group of ``group_pattern`` stay together (e.g. the inclusion and
    exclusion criteria of one trial)."""

    model_config = ConfigDict(extra="forbid")
    fractions: list[float]
    part: int
    seed: int = 42
    group_pattern: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Select:
        if abs(sum(self.fractions) - 1.0) > 1e-9 or any(f <= 0 for f in self.fractions):
            raise ValueError("fractions must be positive and sum to 1")
        if not 0 <= self.part < len(self.fractions):
            raise ValueError("part must index fractions")
        return self


class SplitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: list[str] = Field(min_length=1)
    select: Select | None = None


class BenchmarkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    description: str
    format: str
    read_options: dict[str, Any] = Field(default_factory=dict)
    splits: dict[str, SplitSpec]
    label_map: dict[str, str]
    drop_types: list[str] = Field(default_factory=list)
    nested: bool
    licence: str
    sha256: dict[str, str] = Field(default_factory=dict)
    notes: str = ""

    @property
    def labels(self) -> list[str]:
        """The natural-language labels given to a model, sorted (the paper sorts them too)."""
        return sorted(set(self.label_map.values()))


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registry_version: int
    benchmarks: dict[str, BenchmarkSpec]


@dataclass
class BenchmarkSplit:
    """One loaded split: documents with natural-language labels, and where they came from."""

    name: str
    split: str
    documents: list[Document]
    labels: list[str]
    label_map: dict[str, str]
    nested: bool
    data_hash: str
    files: list[str]
    registry_version: int
    report: ReadReport
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_mentions(self) -> int:
        return sum(len(d.entities) for d in self.documents)


def load_registry(path: str | Path | None = None) -> Registry:
    """The shipped registry, or another registry file of the same shape."""
    if path is None:
        text = (
            resources.files("biomedner.evaluation").joinpath("benchmarks.json").read_text("utf-8")
        )
        source = "biomedner/evaluation/benchmarks.json"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    try:
        reg = Registry.model_validate(json.loads(text))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{source}: invalid benchmark registry: {exc}") from None
    for name, spec in reg.benchmarks.items():
        spec.name = name
    return reg


@cache
def _shipped() -> Registry:
    return load_registry()


def list_benchmarks() -> list[str]:
    return list(_shipped().benchmarks)


def get_benchmark(name: str, registry: Registry | None = None) -> BenchmarkSpec:
    reg = registry or _shipped()
    if name not in reg.benchmarks:
        raise InputError(f"unknown benchmark {name!r}; registered: {', '.join(reg.benchmarks)}")
    return reg.benchmarks[name]


def resolve_data_root(data_root: str | Path | None = None) -> Path:
    root = Path(data_root) if data_root is not None else None
    if root is None and os.environ.get(DATA_ENV):
        root = Path(os.environ[DATA_ENV])
    if root is None:
        root = DEFAULT_DATA_ROOT
    if (root / "benchmarks").is_dir():
        root = root / "benchmarks"
    return root


def _split_files(root: Path, spec: SplitSpec) -> list[Path]:
    out = []
    for rel in spec.files:
        p = root / rel
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise BenchmarkDataError(
                f"{p} is missing; set the data root with --data-root (data_root= in Python) or "
                f"${DATA_ENV}"
            )
    return out


def split_hash(root: Path, spec: SplitSpec) -> str:
    """sha256 over the split's files: for each file, sorted by path, its path relative to the
    root, its size and its bytes."""
    h = hashlib.sha256()
    for p in _split_files(root, spec):
        data = p.read_bytes()
        h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(str(len(data)).encode("ascii") + b"\0")
        h.update(data)
    return h.hexdigest()


def _select(docs: list[Document], sel: Select) -> list[Document]:
    """Seeded partition by group: groups sorted, permuted with numpy's default generator, cut at
    the rounded cumulative fractions."""

    def group(doc_id: str) -> str:
        if sel.group_pattern is None:
            return doc_id
        m = re.match(sel.group_pattern, doc_id)
        return m.group(1) if m else doc_id

    groups = sorted({group(d.id) for d in docs})
    order = np.random.default_rng(sel.seed).permutation(len(groups))
    cuts = np.rint(np.cumsum([0.0, *sel.fractions]) * len(groups)).astype(int)
    chosen = {groups[i] for i in order[cuts[sel.part] : cuts[sel.part + 1]]}
    return [d for d in docs if group(d.id) in chosen]


def _map_labels(
    docs: list[Document], spec: BenchmarkSpec, counts: dict[str, int]
) -> list[Document]:
    unknown: set[str] = set()
    out = []
    drop = set(spec.drop_types)
    for d in docs:
        ents: list[Entity] = []
        for e in d.entities:
            if e.label in spec.label_map:
                ents.append(Entity(e.start, e.end, e.text, spec.label_map[e.label], e.score, e.ids))
            elif e.label in drop:
                counts[f"dropped_type:{e.label}"] = counts.get(f"dropped_type:{e.label}", 0) + 1
            else:
                unknown.add(e.label)
        out.append(d.with_entities(ents))
    if unknown:
        raise BenchmarkDataError(
            f"benchmark {spec.name!r}: raw types {sorted(unknown)} are neither in label_map nor "
            "in drop_types of the registry"
        )
    return out


# Splits carved from one pool (JNLPBA train/dev, CHIA) read it once per process; keyed by the
# content hash, so changed files are read again. Readers never mutate what they return.
_POOL_CACHE: dict[
    tuple[str, tuple[str, ...], str, str, str], tuple[list[Document], ReadReport]
] = {}
_POOL_CACHE_SIZE = 4


def _read_pool(
    root: Path, files: tuple[str, ...], spec: BenchmarkSpec, digest: str
) -> tuple[list[Document], ReadReport]:
    key = (
        str(root.resolve()),
        files,
        spec.format,
        json.dumps(spec.read_options, sort_keys=True),
        digest,
    )
    if key not in _POOL_CACHE:
        docs: list[Document] = []
        report = ReadReport(path=str(root), format=spec.format)
        for rel in files:
            part, rep = read_with_report(root / rel, spec.format, **spec.read_options)
            docs.extend(part)
            report.merge(rep)
        while len(_POOL_CACHE) >= _POOL_CACHE_SIZE:
            del _POOL_CACHE[next(iter(_POOL_CACHE))]
        _POOL_CACHE[key] = (docs, report)
    docs, report = _POOL_CACHE[key]
    return list(docs), report


def load_benchmark(
    name: str,
    split: str = "test",
    *,
    data_root: str | Path | None = None,
    verify: bool = True,
    registry: Registry | None = None,
) -> BenchmarkSplit:
    """Read one split, map its raw types to the registry's natural-language labels and check
    its files against the registered sha256 (``verify=False`` only records the hash)."""
    spec = get_benchmark(name, registry)
    if split not in spec.splits:
        raise InputError(f"benchmark {name!r} has no split {split!r}; it has {list(spec.splits)}")
    sspec = spec.splits[split]
    root = resolve_data_root(data_root)
    digest = split_hash(root, sspec)
    expected = spec.sha256.get(split)
    if verify and expected is not None and expected != digest:
        raise BenchmarkDataError(
            f"benchmark {name!r} split {split!r} under {root} has sha256 {digest}, but the "
            f"registry expects {expected}: the data differ from the registered version "
            "(--no-verify, verify=False in Python, evaluates anyway; the report records the hash)"
        )
    docs, report = _read_pool(root, tuple(sspec.files), spec, digest)
    counts: dict[str, int] = {"raw_mentions": sum(len(d.entities) for d in docs)}
    if sspec.select is not None:
        docs = _select(docs, sspec.select)
        counts["selected_raw_mentions"] = sum(len(d.entities) for d in docs)
    docs = _map_labels(docs, spec, counts)
    return BenchmarkSplit(
        name=name,
        split=split,
        documents=docs,
        labels=spec.labels,
        label_map=dict(spec.label_map),
        nested=spec.nested,
        data_hash=digest,
        files=list(sspec.files),
        registry_version=(registry or _shipped()).registry_version,
        report=report,
        counts=counts,
    )
