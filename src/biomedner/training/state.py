"""Training checkpoints for exact resume: weights, optimiser, scheduler, data position and the
torch / numpy / python RNG states, in one ``trainer_state.pt`` loaded with ``weights_only=True``.
Each checkpoint directory also holds a gliner-layout model (``model/``) usable on its own."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biomedner.errors import CheckpointError

STATE_FILE = "trainer_state.pt"
CHECKPOINT_PREFIX = "step_"
CHECKPOINT_FORMAT = 2


@dataclass
class TrainState:
    """Where a run stands: saved in every checkpoint as plain values, restored on resume."""

    global_step: int = 0
    stage_index: int = 0
    stage_step: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    skipped_ids: list[str] = field(default_factory=list)  # examples of OOM-skipped steps
    evals: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stage key

    def to_dict(self) -> dict[str, Any]:
        return {
            "global_step": self.global_step,
            "stage_index": self.stage_index,
            "stage_step": self.stage_step,
            "counts": dict(self.counts),
            "skipped_ids": list(self.skipped_ids),
            "evals": list(self.evals),
            "best": dict(self.best),
        }

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any]) -> TrainState:
        if "train_state" in checkpoint:
            d = checkpoint["train_state"]
            evals, best = d["evals"], d["best"]
        else:  # format 1 kept these as JSON strings at the top level
            d = checkpoint
            evals, best = json.loads(d["evals"]), json.loads(d["best"])
        return cls(
            global_step=int(d["global_step"]),
            stage_index=int(d["stage_index"]),
            stage_step=int(d["stage_step"]),
            counts=Counter(d["counts"]),
            skipped_ids=list(d["skipped_ids"]),
            evals=list(evals),
            best=dict(best),
        )


def rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    py = random.getstate()
    out: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [
            kind,
            torch.from_numpy(keys.astype(np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ],
        "python": [py[0], list(py[1]), py[2]],
    }
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def save_checkpoint(directory: Path, state: dict[str, Any], keep_last: int) -> Path:
    """Write ``directory/step_N/`` atomically (temp dir renamed) and prune old ones."""
    directory.mkdir(parents=True, exist_ok=True)
    step = int(state["global_step"])
    final = directory / f"{CHECKPOINT_PREFIX}{step:08d}"
    tmp = directory / f".tmp_{CHECKPOINT_PREFIX}{step:08d}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    torch.save(state, tmp / STATE_FILE)
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    for old in list_checkpoints(directory)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX) and (p / STATE_FILE).is_file()
    )


def load_checkpoint(path: Path) -> dict[str, Any]:
    file = path / STATE_FILE if path.is_dir() else path
    if not file.is_file():
        raise CheckpointError(f"no training checkpoint at {path} ({STATE_FILE} missing)")
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"could not read the training checkpoint {file}: {exc}") from exc
