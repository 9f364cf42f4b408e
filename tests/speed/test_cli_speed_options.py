"""``biomedner predict/evaluate --quantize/--precision``: mistakes stop before the model loads."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from biomedner.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--quantize", "int4"], "error: --quantize 'int4' is unknown"),
        (
            ["--quantize", "int8", "--device", "cuda"],
            # without a GPU the device itself is the first mistake named
            "error: --quantize int8 runs on CPU only"
            if torch.cuda.is_available()
            else "error: --device 'cuda': no CUDA GPU",
        ),
        (["--quantize", "int8", "--precision", "bf16"], "error: --quantize int8 runs in fp32"),
    ],
)
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_bad_speed_options_fail_before_loading(command, extra, message, tmp_path):
    # the model path does not exist: the option error must come first
    args = ["predict", "-m", str(tmp_path / "missing"), "-l", "drug", *extra, "Aspirin."]
    if command == "evaluate":
        args = ["evaluate", "-m", str(tmp_path / "missing"), "--out", str(tmp_path / "e"), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(message), result.output


@pytest.mark.minilm
@pytest.mark.parametrize("extra", [["--quantize", "int8"], ["--precision", "bf16"]])
def test_predict_runs_int8_and_bf16_on_cpu(extra, deberta_uni_ckpt):
    text = "Aspirin reduced the risk of colorectal cancer in BRCA1 carriers."
    result = runner.invoke(
        app,
        [
            "predict",
            "-m",
            str(deberta_uni_ckpt),
            "-l",
            "drug,disease",
            "--threshold",
            "0.3",
            *extra,
            text,
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    for e in record["entities"]:
        assert text[e["start"] : e["end"]] == e["text"] and e["label"] in {"drug", "disease"}
