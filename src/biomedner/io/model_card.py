"""The model card (README.md) of a published checkpoint: YAML metadata the hub indexes, what
the model is and how to run it, and, when the run left them, the training recipe and the
evaluation and few-shot tables.

The reports are the files biomedner itself writes: a training run's ``config.json`` and
``report.json`` (``output_dir/``, the parent of ``output_dir/model``), an evaluation's
``report.json`` and a ``fewshot_report.json``. Each is recognised by its contents, not its name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from biomedner.config import ModelConfig
from biomedner.errors import FormatError, InputError


class CardInfo(BaseModel):
    """What the checkpoint cannot tell: licence, datasets, base model (a hub id)."""

    model_config = ConfigDict(extra="forbid")

    license: str = Field(default="apache-2.0", min_length=1)
    base_model: str | None = None
    datasets: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=lambda: ["en"])


@dataclass
class RunReports:
    """The reports found for one checkpoint, each with the file it came from."""

    training_config: tuple[Path, dict[str, Any]] | None = None
    training: tuple[Path, dict[str, Any]] | None = None
    evaluations: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    fewshot: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)


def _kind(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    if "schema_version" in data and "benchmarks" in data:
        return "evaluation"
    if {"shots", "runs", "summary"} <= data.keys():
        return "fewshot"
    if {"global_step", "stages", "finished"} <= data.keys():
        return "training"
    if {"model", "optim", "stages", "output_dir"} <= data.keys():
        return "training_config"
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg}", str(path), exc.lineno) from None
    except OSError as exc:
        raise InputError(f"cannot read report {path}: {exc.strerror}") from None


def read_reports(paths: Sequence[str | Path]) -> RunReports:
    """Reports named by the user: each must be one of the kinds above."""
    found = RunReports()
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise InputError(f"report file {path} does not exist")
        data = _read_json(path)
        kind = _kind(data)
        if kind is None:
            raise InputError(
                f"{path} is not a biomedner training config or report, evaluation report or "
                "few-shot report"
            )
        _add(found, kind, path, data)
    return found


def find_reports(model_dir: str | Path) -> RunReports:
    """Reports beside the checkpoint: in its directory and in the training run's directory
    above it (``output_dir/model`` → ``output_dir``). Unrecognised JSON files are ignored."""
    found = RunReports()
    model_dir = Path(model_dir)
    for folder in (model_dir, model_dir.parent):
        for name in ("config.json", "report.json", "fewshot_report.json"):
            path = folder / name
            if not path.is_file():
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            kind = _kind(data)
            if kind is not None:
                _add(found, kind, path, data)
    return found


def _add(found: RunReports, kind: str, path: Path, data: dict[str, Any]) -> None:
    if kind == "evaluation":
        found.evaluations.append((path, data))
    elif kind == "fewshot":
        found.fewshot.append((path, data))
    elif getattr(found, kind) is None:
        setattr(found, kind, (path, data))


def _looks_like_hub_id(ref: str | None) -> bool:
    if not ref or ref.startswith((".", "/", "~")) or Path(ref).exists():
        return False
    return ref.count("/") == 1 and " " not in ref


def default_base_model(config: ModelConfig, reports: RunReports) -> str | None:
    """The checkpoint a run fine-tuned, else its text encoder, when that is a hub id."""
    if reports.training_config is not None:
        init = reports.training_config[1].get("model", {})
        for ref in (init.get("checkpoint"), init.get("backbone")):
            if _looks_like_hub_id(ref):
                return ref
    return config.model_name if _looks_like_hub_id(config.model_name) else None


def _yaml_list(key: str, values: Sequence[str]) -> list[str]:
    return [f"{key}:", *(f"- {json.dumps(v)}" for v in values)] if values else []


def _metadata(info: CardInfo, base_model: str | None) -> str:
    lines = [
        "---",
        "library_name: biomedner",
        "pipeline_tag: token-classification",
        f"license: {json.dumps(info.license)}",
        *_yaml_list("language", info.language),
        *([f"base_model: {json.dumps(base_model)}"] if base_model else []),
        *_yaml_list("datasets", info.datasets),
        *_yaml_list("tags", ["biomedner", "gliner", "named-entity-recognition", "biomedical"]),
        "---",
    ]
    return "\n".join(lines)


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def _recipe(reports: RunReports) -> list[str]:
    lines = ["## Training", ""]
    if reports.training_config is not None:
        cfg = reports.training_config[1]
        init = cfg.get("model", {})
        start = init.get("checkpoint") or init.get("backbone")
        optim = cfg.get("optim", {})
        lines += [
            f"Trained with `biomedner train` from `{start}` "
            f"({init.get('architecture', 'uni')}-encoder, span width ≤ {init.get('max_width')}, "
            f"window {init.get('max_len')} words), seed {cfg.get('seed')}.",
            "",
            "| stage | steps | sources |",
            "|---|---|---|",
        ]
        for stage in cfg.get("stages", []):
            sources = ", ".join(_source_name(s) for s in stage.get("sources", []))
            lines.append(f"| {stage.get('name')} | {stage.get('steps')} | {sources} |")
        lines += [
            "",
            f"Optimiser: AdamW, encoder lr {optim.get('encoder_lr')}, head lr "
            f"{optim.get('head_lr')}, {optim.get('schedule')} schedule (warm-up "
            f"{optim.get('warmup_ratio')}), batch {optim.get('batch_size')} × "
            f"{optim.get('grad_accum_steps')} accumulation, focal loss α {optim.get('focal_alpha')}"
            f" γ {optim.get('focal_gamma')}, precision {optim.get('precision')}.",
        ]
    if reports.training is not None:
        rep = reports.training[1]
        state = "finished" if rep.get("finished") else "stopped early"
        lines += [
            "",
            f"Run: {rep.get('global_step')} optimiser steps ({state}) on {rep.get('world_size')} "
            f"× {rep.get('device')}, {rep.get('oom_skipped_steps', 0)} steps skipped for memory.",
        ]
    return [*lines, ""]


def _source_name(source: dict[str, Any]) -> str:
    kind = source.get("kind")
    if kind == "benchmark":
        return f"benchmark {source.get('name')} ({source.get('split')})"
    if kind == "teacher":
        return f"teacher annotations `{Path(str(source.get('annotations'))).name}`"
    return f"{kind} `{Path(str(source.get('path'))).name}`"


def _evaluation(reports: RunReports) -> list[str]:
    lines = [
        "## Evaluation",
        "",
        "Micro-averaged scores in % (strict: exact boundaries and type; relaxed: overlapping "
        "span of the same type, one-to-one), from `biomedner evaluate`.",
        "",
        "| benchmark | split | threshold | docs | strict P | strict R | strict F1 | relaxed F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, data in reports.evaluations:
        for name, b in data["benchmarks"].items():
            strict = b["metrics"]["strict"]["micro"]
            relaxed = b["metrics"]["relaxed"]["micro"]
            lines.append(
                f"| {name} | {b.get('split') or '-'} | {_or_dash(b.get('threshold'))} | "
                f"{b.get('n_documents')} | {_pct(strict['precision'])} | "
                f"{_pct(strict['recall'])} | {_pct(strict['f1'])} | {_pct(relaxed['f1'])} |"
            )
    return [*lines, ""]


def _fewshot(reports: RunReports) -> list[str]:
    lines = [
        "## Few-shot fine-tuning",
        "",
        "Strict micro F1 in % on the test split, zero-shot and after fine-tuning on k examples "
        "per type (`biomedner finetune`), mean ± standard deviation over seeds.",
        "",
        "| benchmark | k | steps | seeds | zero-shot F1 | k-shot F1 | Δ |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, data in reports.fewshot:
        summary = data["summary"]
        k = summary["k_shot"]
        lines.append(
            f"| {data.get('benchmark')} | {data.get('shots')} | {data.get('steps')} | "
            f"{len(data.get('runs', []))} | {_pct(summary['zero_shot']['strict_f1'])} | "
            f"{_pct(k['strict_f1_mean'])} ± {_pct(k['strict_f1_std'])} | "
            f"{100 * summary['delta_strict_f1_mean']:+.2f} |"
        )
    return [*lines, ""]


def build_model_card(
    config: ModelConfig,
    repo_id: str,
    info: CardInfo | None = None,
    reports: RunReports | None = None,
) -> str:
    """README.md text for ``repo_id``."""
    info = info or CardInfo()
    reports = reports or RunReports()
    base_model = info.base_model or default_base_model(config, reports)
    kind = "bi-encoder" if config.is_bi_encoder else "uni-encoder"
    label_tower = (
        f", label encoder `{config.labels_encoder}`"
        if config.is_bi_encoder
        else " (labels in the prompt)"
    )
    lines = [
        _metadata(info, base_model),
        "",
        f"# {repo_id.split('/')[-1]}",
        "",
        f"An open-type biomedical named-entity recognition model: a GLiNER-style span {kind} "
        f"(text encoder `{config.model_name}`{label_tower}; spans of up to {config.max_width} "
        f"words, windows of {config.max_len} words, span width {config.hidden_size}). It finds "
        "entities of any type named in plain language. It is a gliner checkpoint, so the "
        "`gliner` library loads it too.",
        "",
        "## Usage",
        "",
        "```python",
        "from biomedner import NERModel",
        "",
        f'model = NERModel.from_pretrained("{repo_id}")',
        'model.predict("BRCA1 mutations raise breast cancer risk.", ["gene", "disease"])',
        "```",
        "",
        "```bash",
        f'biomedner predict --model {repo_id} --labels "gene,disease" "BRCA1 mutations raise '
        'breast cancer risk."',
        "```",
        "",
    ]
    if reports.training_config is not None or reports.training is not None:
        lines += _recipe(reports)
    if reports.evaluations:
        lines += _evaluation(reports)
    if reports.fewshot:
        lines += _fewshot(reports)
    return "\n".join(lines)
