"""Shared by every parity module: gliner must be installed, and both libraries run on the same
2 torch threads so their numerics and timings are comparable."""

from __future__ import annotations

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
