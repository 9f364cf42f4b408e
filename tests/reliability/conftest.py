"""The tiny offline checkpoints of tests/model, shared with the reliability tests."""

from __future__ import annotations

import logging

import pytest

from tests.model.conftest import bi, tiny_backbone, tiny_bi_dir, tiny_uni_dir, uni  # noqa: F401


@pytest.fixture
def no_model_load(monkeypatch):
    """Any model load fails the test: the command must have stopped before."""

    def boom(*args, **kwargs):
        raise AssertionError("the model was loaded before the options were checked")

    monkeypatch.setattr("biomedner.model.NERModel.from_pretrained", boom)
    monkeypatch.setattr("biomedner.cli.evaluate.load_model", boom)
    monkeypatch.setattr("biomedner.modeling.init.new_span_model", boom)


@pytest.fixture(autouse=True)
def _restore_log_level():
    """``train`` turns progress logging on for the process; keep it out of the next test."""
    logger = logging.getLogger("biomedner")
    level = logger.level
    yield
    logger.setLevel(level)
