"""``biomedner export --format onnx``: the directory it writes, its checks, int8, and an
ONNX run that never imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.errors import InputError
from biomedner.model import NERModel
from biomedner.text.encoding import pad_rows
from tests.fixtures.biomedical_texts import SENTENCES

runner = CliRunner()
pytestmark = pytest.mark.minilm


def test_export_writes_graphs_config_tokenizers(minilm_bi_onnx):
    manifest = json.loads((minilm_bi_onnx / "onnx_export.json").read_text())
    assert manifest["graphs"] == {"labels": "label_encoder.onnx", "span": "span_model.onnx"}
    assert manifest["quantize"] is None and manifest["architecture"] == "bi_encoder"
    for name in (
        "gliner_config.json",
        "span_model.onnx",
        "label_encoder.onnx",
        "tokenizer.json",
        "labels_tokenizer.json",
    ):
        assert (minilm_bi_onnx / name).is_file(), name


def test_onnx_prediction_does_not_import_torch(minilm_uni_onnx):
    script = textwrap.dedent(
        f"""
        import sys
        from biomedner import NERModel
        model = NERModel.from_pretrained({str(minilm_uni_onnx)!r}, backend="onnx")
        text = "Aspirin lowers the risk of colorectal cancer in BRCA1 carriers."
        found = model.predict(text, ["drug", "disease", "gene"], threshold=0.3)
        assert found and all(text[e.start:e.end] == e.text for e in found), found
        print("torch" in sys.modules)
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_onnx_model_refuses_what_it_cannot_do(minilm_uni_onnx, tmp_path):
    model = NERModel.from_pretrained(minilm_uni_onnx, backend="onnx")
    with pytest.raises(InputError, match="biomedner export"):
        model.save_pretrained(tmp_path / "x")
    with pytest.raises(InputError, match="CPU as exported"):
        NERModel.from_pretrained(minilm_uni_onnx, backend="onnx", quantize="int8")
    with pytest.raises(InputError, match="unknown backend"):
        NERModel.from_pretrained(minilm_uni_onnx, backend="tensorrt")
    with pytest.raises(Exception, match="not an ONNX export"):
        NERModel.from_pretrained(tmp_path, backend="onnx")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "tflite"], "error: --format 'tflite' is unknown"),
        (["--quantize", "int4"], "error: --quantize 'int4' is unknown"),
    ],
)
def test_export_cli_checks_options_before_loading(extra, message, tmp_path):
    result = runner.invoke(
        app, ["export", str(tmp_path / "missing"), str(tmp_path / "out"), *extra]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith(message), result.output


def test_export_cli_never_replaces_another_directory(tmp_path):
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["export", str(tmp_path / "missing"), str(keep)])
    assert result.exit_code == 2 and "is not an ONNX export" in result.output
    assert (keep / "notes.txt").read_text() == "keep me"


def test_export_cli_int8_runs_and_finds_entities(deberta_bi_ckpt, deberta_bi_onnx, tmp_path):
    out = tmp_path / "int8"
    result = runner.invoke(app, ["export", str(deberta_bi_ckpt), str(out), "--quantize", "int8"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "onnx_export.json").read_text())["quantize"] == "int8"
    model = NERModel.from_pretrained(out, backend="onnx")
    labels = ["drug", "disease", "gene"]
    found = model.predict_batch(SENTENCES[:12], labels, threshold=0.5)
    assert sum(map(len, found)) > 0
    for text, entities in zip(SENTENCES, found):
        for e in entities:
            assert text[e.start : e.end] == e.text and e.label in labels and e.score > 0.5
    # int8 changes the span graph only; its logits stay within 0.65 % (measured) of fp32's
    fp32_onnx = NERModel.from_pretrained(deberta_bi_onnx, backend="onnx")
    vectors = fp32_onnx.encode_labels(labels).vectors
    assert np.abs(model.encode_labels(labels).vectors - vectors).max() < 1e-5
    prepared = fp32_onnx.pipeline.prepare(SENTENCES[:12], [labels] * 12)
    arrays = pad_rows(prepared.rows, fp32_onnx.pipeline.info)
    arrays["label_vectors"] = np.broadcast_to(vectors, (len(prepared.rows), *vectors.shape)).copy()
    got, ref = model.module.logits(arrays), fp32_onnx.module.logits(arrays)
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 0.02
    # a second export replaces the earlier one in place
    again = runner.invoke(app, ["export", str(deberta_bi_ckpt), str(out)])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "onnx_export.json").read_text())["quantize"] is None
    assert not [p for p in Path(tmp_path).iterdir() if p.name.startswith(".int8.")]
