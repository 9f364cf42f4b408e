"""``biomedner evaluate`` on the real NCBI-disease test split with a tiny model built locally
(untrained, so the scores are meaningless; the test checks the whole path and its outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.corpora import read

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the lead's offline tiny-BERT builder (tests/model/conftest.py)
    from biomedner import NERModel
    from tests.model.conftest import build_tiny_backbone

    backbone = build_tiny_backbone(tmp_path_factory.mktemp("backbone"))
    model = NERModel.from_backbone(
        str(backbone), hidden_size=24, max_width=4, max_len=64, dropout=0.0
    )
    return model.save_pretrained(tmp_path_factory.mktemp("tiny_uni"))


def test_evaluate_ncbi_disease_test_end_to_end(
    tiny_model_dir: Path, shared_benchmarks: Path, tmp_path: Path
) -> None:
    out = tmp_path / "eval"
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--benchmarks",
            "ncbi_disease",
            "--split",
            "test",
            "--threshold",
            "0.5",
            "--out",
            str(out),
            "--data-root",
            str(shared_benchmarks),
            "--bootstrap",
            "200",
            "--batch-size",
            "16",
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("report.json", "report.md", "f1.png", "predictions/ncbi_disease.test.jsonl"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    b = report["benchmarks"]["ncbi_disease"]
    assert report["model"]["id"] == str(tiny_model_dir)
    assert b["n_documents"] == 100 and b["n_gold"] == 960 and b["labels"] == ["Disease"]
    assert b["mode"] == "flat" and b["threshold"] == 0.5
    assert set(b["metrics"]) >= {"strict", "relaxed", "boundary"}
    for m in ("strict", "relaxed", "boundary"):
        assert "definition" in b["metrics"][m] and "ci95" in b["metrics"][m]["micro"]
    preds = read(out / "predictions" / "ncbi_disease.test.jsonl", "jsonl")
    assert len(preds) == 100 and sum(len(d.entities) for d in preds) == b["n_pred"]
    assert all(
        e.label == "Disease" and e.score is not None and e.score >= 0.5
        for d in preds
        for e in d.entities
    )
