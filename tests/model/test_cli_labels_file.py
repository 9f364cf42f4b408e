"""``biomedner predict --labels-file``: a JSON list of labels or {"label": "description"}."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.model import NERModel

runner = CliRunner()
TEXT = "brca1 mutation raises the risk of cancer"
DESCRIBED = {"gene": "gene or protein name", "disease": "disease or syndrome"}


def test_labels_file_with_descriptions(tiny_uni_dir: Path, uni: NERModel, tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(DESCRIBED))
    result = runner.invoke(
        app,
        ["predict", "-m", str(tiny_uni_dir), "--labels-file", str(path), "--threshold", "0", TEXT],
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["entities"]
    expected = uni.predict(TEXT, DESCRIBED, threshold=0.0)
    assert got == [json.loads(json.dumps(e.to_dict())) for e in expected]
    assert {e["label"] for e in got} <= set(DESCRIBED)


def test_labels_file_with_a_list(tiny_uni_dir: Path, uni: NERModel, tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(["gene", "disease"]))
    result = runner.invoke(
        app,
        ["predict", "-m", str(tiny_uni_dir), "--labels-file", str(path), "--threshold", "0", TEXT],
    )
    assert result.exit_code == 0, result.output
    expected = uni.predict(TEXT, ["gene", "disease"], threshold=0.0)
    assert json.loads(result.stdout)["entities"] == [
        json.loads(json.dumps(e.to_dict())) for e in expected
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--labels-file {path} does not exist"),
        ("{not json", "--labels-file {path} is not valid JSON"),
        ('"gene"', "--labels-file {path} must hold a JSON list of labels or an object"),
        (
            '{"gene": "x", "protein": "x"}',
            "--labels-file {path}: labels 'gene' and 'protein' have the same description",
        ),
        ('["gene", "gene"]', "--labels-file {path}: label 'gene' is given twice"),
    ],
)
def test_bad_labels_file_is_one_line(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "labels.json"
    if content is not None:
        path.write_text(content)
    # the model does not exist: the labels file is checked first
    result = runner.invoke(
        app, ["predict", "-m", str(tmp_path / "no-model"), "--labels-file", str(path), "x"]
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("error: " + message.format(path=path))


def test_exactly_one_labels_option(tiny_uni_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text('["gene"]')
    for extra in ([], ["-l", "gene", "--labels-file", str(path)]):
        result = runner.invoke(app, ["predict", "-m", str(tiny_uni_dir), *extra, "x"])
        assert result.exit_code == 2
        assert (
            result.output.strip()
            == "error: give the labels with exactly one of --labels or --labels-file"
        )
