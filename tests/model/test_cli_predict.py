"""``biomedner predict`` end to end through the typer app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from biomedner.cli.main import app

runner = CliRunner()


def test_predict_a_string(tiny_uni_dir):
    text = "BRCA1 mutations raise cancer risk."
    result = runner.invoke(
        app, ["predict", "-m", str(tiny_uni_dir), "-l", "gene, disease", "--threshold", "0.0", text]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip())
    assert record["id"] == "text" and record["entities"]
    for e in record["entities"]:
        assert text[e["start"] : e["end"]] == e["text"] and e["label"] in {"gene", "disease"}


def test_predict_jsonl_to_file(tiny_bi_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "d1", "text": "Aspirin 5 mg/kg."})
        + "\n\n"
        + json.dumps({"id": "d2", "text": ""})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        [
            "predict",
            "-m",
            str(tiny_bi_dir),
            "-l",
            "drug",
            "--mode",
            "nested",
            "--threshold",
            "0",
            "--batch-size",
            "4",
            "-o",
            str(out),
            str(src),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["d1", "d2"] and rows[1]["entities"] == []


def test_predict_txt_file(tiny_uni_dir, tmp_path):
    src = tmp_path / "abstract.txt"
    src.write_text("Insulin was given.\nThe tumor shrank.", encoding="utf-8")
    result = runner.invoke(
        app, ["predict", "-m", str(tiny_uni_dir), "-l", "drug", "--threshold", "0", str(src)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "abstract"


def test_errors_are_reported_with_exit_code_2(tiny_uni_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{"id": "a", "text": "again"}\n', encoding="utf-8")
    result = runner.invoke(app, ["predict", "-m", str(tiny_uni_dir), "-l", "drug", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:2: id 'a' appears twice" in result.output
    result = runner.invoke(app, ["predict", "-m", str(tmp_path / "missing"), "-l", "drug", "x"])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["predict", "-m", str(tiny_uni_dir), "-l", " , ", "x"])
    assert result.exit_code == 2 and "--labels is empty" in result.output
    result = runner.invoke(
        app, ["predict", "-m", str(tiny_uni_dir), "-l", "a", "--mode", "wide", "x"]
    )
    assert result.exit_code == 2


def test_one_long_text_shows_its_windows_as_progress(tiny_uni_dir, tmp_path):
    # the tiny model's window is 40 words: 400 words make about a dozen windows, two batches
    text = " ".join(["insulin", "binds", "its", "receptor", "in", "hepatocytes"] * 67)
    src = tmp_path / "long.txt"
    src.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["predict", "-m", str(tiny_uni_dir), "-l", "gene", str(src)])
    assert result.exit_code == 0, result.output
    assert "windows" in result.stderr  # the bar, on stderr; stdout holds only the JSON line
    record = json.loads(result.stdout.strip())
    assert all(text[e["start"] : e["end"]] == e["text"] for e in record["entities"])
