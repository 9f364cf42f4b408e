"""Training checkpoints for exact resume: weights, optimiser, scheduler, data position and the
torch / numpy / python RNG states, in one ``trainer_state.pt`` loaded with ``weights_only=True``.
Each checkpoint directory also holds a gliner-layout model (``model/``) usable on its own."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biomedner.errors import CheckpointError

STATE_FILE = "trainer_state.pt"
CHECKPOINT_PREFIX = "step_"


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
