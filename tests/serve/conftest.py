"""Serve tests run the tiny offline checkpoints of tests/model through FastAPI's TestClient."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from biomedner.model import NERModel
from biomedner.serve.app import create_app
from biomedner.serve.settings import ServeSettings
from tests.model.conftest import tiny_backbone, tiny_bi_dir, tiny_uni_dir  # noqa: F401

TEXTS = [
    "brca1 mutation raises the risk of cancer in patients.",
    "insulin and aspirin were given to patients with tumor cells.",
    "The expression of tnf alpha in cd4 cells.",
    "hela cells with il receptor beta",
    "",
    "gene",
]
LABELS = ["gene", "disease", "drug"]


@pytest.fixture(scope="module")
def uni(tiny_uni_dir) -> NERModel:  # noqa: F811
    return NERModel.from_pretrained(tiny_uni_dir)


@pytest.fixture(scope="module")
def bi(tiny_bi_dir) -> NERModel:  # noqa: F811
    return NERModel.from_pretrained(tiny_bi_dir)


@pytest.fixture(params=["uni", "bi"])
def model(request) -> NERModel:
    return request.getfixturevalue(request.param)


def wait_ready(client: TestClient, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 30
    while client.get("/ready", headers=headers).status_code != 200:
        assert time.monotonic() < deadline, "the server never became ready"
        time.sleep(0.02)


@pytest.fixture
def serve() -> Callable[..., Any]:
    """serve(model, **settings) -> a context manager giving a ready TestClient."""

    @contextmanager
    def start(
        model: NERModel, raise_server_exceptions: bool = True, **settings: Any
    ) -> Iterator[TestClient]:
        app = create_app(model, ServeSettings(**settings))
        with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
            key = settings.get("api_key")
            wait_ready(client, {"X-API-Key": key} if key else None)
            yield client

    return start


def expected(model: NERModel, text: str, labels: list[str], **options: Any) -> list[dict[str, Any]]:
    """What NERModel.predict gives for one text, as the service writes it."""
    return [e.to_dict() for e in model.predict(text, labels, **options)]


def assert_same_entities(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Spans, texts and labels exactly; scores to float32 rounding, since a text batched with
    others is padded differently from a text run alone (differences of about 1e-7)."""
    key = ("start", "end", "text", "label")
    assert [tuple(e[k] for k in key) for e in got] == [tuple(e[k] for k in key) for e in want]
    assert [e["score"] for e in got] == pytest.approx([e["score"] for e in want], abs=1e-5)
