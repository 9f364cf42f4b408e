"""Shared by every parity module: gliner must be installed, and both libraries run on the same
2 torch threads so their numerics and timings are comparable."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module", autouse=True)
def _torch_threads() -> Any:
    torch = pytest.importorskip("torch")
    pytest.importorskip("gliner")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@cache
def gliner_model(path: Path) -> Any:
    """gliner's model for a checkpoint, loaded once per test session."""
    from tests.fixtures.checkpoints import load_gliner

    return load_gliner(path)


@cache
def biomedner_model(path: Path) -> Any:
    """biomedner's model for the same checkpoint, loaded once per test session."""
    from biomedner import NERModel

    return NERModel.from_pretrained(path, device="cpu")
