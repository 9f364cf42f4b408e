"""ONNX exports of the tiny gliner-written checkpoints, one per checkpoint and session."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _export(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path, name: str) -> Path:
    from biomedner.model import NERModel
    from biomedner.onnx.export import export_onnx

    return export_onnx(NERModel.from_pretrained(checkpoint), tmp_path_factory.mktemp(name) / "onnx")


@pytest.fixture(scope="session")
def minilm_uni_onnx(tmp_path_factory, minilm_uni_ckpt) -> Path:
    return _export(tmp_path_factory, minilm_uni_ckpt, "minilm-uni")


@pytest.fixture(scope="session")
def minilm_bi_onnx(tmp_path_factory, minilm_bi_ckpt) -> Path:
    return _export(tmp_path_factory, minilm_bi_ckpt, "minilm-bi")


@pytest.fixture(scope="session")
def deberta_uni_onnx(tmp_path_factory, deberta_uni_ckpt) -> Path:
    return _export(tmp_path_factory, deberta_uni_ckpt, "deberta-uni")


@pytest.fixture(scope="session")
def deberta_bi_onnx(tmp_path_factory, deberta_bi_ckpt) -> Path:
    return _export(tmp_path_factory, deberta_bi_ckpt, "deberta-bi")
