"""``manifest.jsonl``: the run's settings on the first line, then one line per finished shard.

Lines are appended and fsynced after the shard's output has been renamed into place, so a
recorded shard is always complete. A run killed while appending leaves at most one torn last
line, which the next run drops (that shard is then redone, identically)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from biomedner.errors import InputError

MANIFEST = "manifest.jsonl"


class RunSettings(BaseModel):
    """What every shard of one output folder must share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    config_hash: str
    labels: list[str]
    threshold: float
    mode: str
    to_format: str
    keep_gold: bool
    shard_size: int
    on_error: str
    discontinuous: str = "error"
    inputs: list[list[str]]  # [path, format] in reading order
    library_version: str


class ShardRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shard: str
    input: str
    format: str
    byte_start: int
    byte_end: int
    input_hash: str
    output: str
    documents: int
    passages: int
    entities: int
    entities_per_label: dict[str, int]
    rejects: int
    model: str
    config_hash: str


def config_hash(model: str) -> str:
    """Hash of the checkpoint's config, read without loading weights (so a changed model is
    refused before it is loaded)."""
    from biomedner.io.checkpoint import read_config
    from biomedner.io.hub import resolve_model_dir

    config = read_config(resolve_model_dir(model))
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_COMPARED = ("model", "config_hash", "labels", "threshold", "mode")
_LAYOUT = ("to_format", "keep_gold", "shard_size", "on_error", "discontinuous", "inputs")


class Manifest:
    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        self.settings: RunSettings | None = None
        self.shards: dict[str, ShardRecord] = {}

    def load(self) -> None:
        if not self.path.is_file():
            return
        lines = self.path.read_text(encoding="utf-8").split("\n")
        good: list[str] = []
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                rec: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines) - 1 or all(not rest.strip() for rest in lines[n + 1 :]):
                    break  # a torn last line from a killed run
                raise InputError(
                    f"{self.path}:{n + 1}: not a manifest line; remove the folder"
                ) from None
            if "run" in rec:
                self.settings = RunSettings.model_validate(rec["run"])
            else:
                record = ShardRecord.model_validate(rec["shard"])
                self.shards[record.shard] = record
            good.append(line)
        if len(good) != len([line for line in lines if line.strip()]) or lines[-1]:
            _write_atomic(self.path, "".join(line + "\n" for line in good))

    def check_compatible(self, settings: RunSettings) -> None:
        """InputError when an earlier run in this folder used other settings."""
        old = self.settings
        if old is None:
            return
        for name in (*_COMPARED, *_LAYOUT):
            before, now = getattr(old, name), getattr(settings, name)
            if before != now:
                raise InputError(
                    f"the output folder {self.path.parent} holds a run with {name} {before!r}, "
                    f"not {now!r}; pass --overwrite to replace it, or choose another --out"
                )

    def start(self, settings: RunSettings) -> None:
        if self.settings is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.path, json.dumps({"run": settings.model_dump()}) + "\n")
            self.settings = settings

    def append(self, record: ShardRecord) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"shard": record.model_dump()}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.shards[record.shard] = record


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
