from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    root = SHARED_DATA / "benchmarks"
    if not root.is_dir():
        pytest.skip("../shared/data/benchmarks is not beside the checkout")
    return root.resolve()
