"""The typed settings of one ``annotate`` run, checked before any model is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OUTPUT_FORMATS: tuple[str, ...] = ("pubtator", "bioc-xml", "bioc-json", "brat", "jsonl")
OnError = Literal["stop", "skip"]
Engine = Literal["local", "ray"]


class AnnotateOptions(BaseModel):
    """Everything that decides a run. ``inputs`` are already expanded paths (see
    :func:`biomedner.annotate.sources.expand_inputs`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: list[str] = Field(min_length=1)
    out: Path
    model: str
    labels: list[str] = Field(min_length=1)
    from_format: str | None = None
    to_format: str | None = None
    threshold: float = Field(default=0.5, ge=0.0, lt=1.0)
    mode: Literal["flat", "nested", "multi_label"] = "flat"
    shard_size: int = Field(default=1000, ge=1)
    batch_size: int = Field(default=8, ge=1)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    keep_gold: bool = False
    overwrite: bool = False
    on_error: OnError = "stop"
    discontinuous: Literal["error", "fragments", "merge", "skip"] = "error"
    engine: Engine = "local"
    workers: int = Field(default=1, ge=1)
    devices: list[str] = Field(default_factory=lambda: ["cpu"], min_length=1)
    actors: int = Field(default=1, ge=1)
    ray_address: str | None = None
    ray_num_cpus: int | None = Field(default=None, ge=1)
    cpus_per_actor: float = Field(default=1.0, gt=0)
    gpus_per_actor: float = Field(default=0.0, ge=0)
    progress: bool = True

    @field_validator("labels")
    @classmethod
    def _labels_unique(cls, labels: list[str]) -> list[str]:
        cleaned = [label.strip() for label in labels]
        if any(not label for label in cleaned):
            raise ValueError("labels must not be empty")
        if len(set(cleaned)) != len(cleaned):
            dup = sorted({label for label in cleaned if cleaned.count(label) > 1})
            raise ValueError(f"duplicate labels {dup}")
        return cleaned

    @field_validator("to_format")
    @classmethod
    def _known_output(cls, fmt: str | None) -> str | None:
        if fmt is not None and fmt not in OUTPUT_FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; choose {', '.join(OUTPUT_FORMATS)}")
        return fmt

    @property
    def worker_devices(self) -> list[str]:
        """One device per local worker: the listed devices, or ``workers`` times the one CPU."""
        if len(self.devices) > 1:
            return list(self.devices)
        return self.devices * self.workers


def parse_devices(spec: str) -> list[str]:
    """``"cuda:0,cuda:1"`` -> ``["cuda:0", "cuda:1"]``; ValueError naming the bad entry."""
    import re

    devices = [part.strip() for part in spec.split(",") if part.strip()]
    if not devices:
        raise ValueError("no device given")
    for dev in devices:
        if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", dev):
            raise ValueError(f"{dev!r} is not a device; use cpu, mps, cuda or cuda:N")
    if len(set(devices)) != len(devices):
        raise ValueError(f"a device is listed twice in {spec!r}")
    if len(devices) > 1 and "cpu" in devices:
        raise ValueError("list several GPUs, or use --workers N for CPU worker processes")
    return devices
