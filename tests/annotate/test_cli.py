"""``biomedner annotate`` end to end: one ``error:`` line and exit 2 for every mistake, checked
before a model loads; worker processes give the single-process output in input order."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.corpora import read
from tests.annotate.conftest import write_jsonl, write_pubtator
from tests.annotate.helpers import read_output

runner = CliRunner()


def _invoke(args):
    return runner.invoke(app, ["annotate", *args])


def test_pubtator_into_bioc_xml(tiny_models, tmp_path):
    src = write_pubtator(tmp_path / "corpus.pubtator", 3)
    out = tmp_path / "out"
    result = _invoke(
        [str(src), "-m", str(tiny_models["bi"]), "-l", "disease,drug", "--to", "bioc-xml",
         "--threshold", "0.2", "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["documents"] == 3 and summary["format"] == "bioc-xml"
    assert set(summary["entities_per_label"]) == {"disease", "drug"}
    assert summary["entities"] == sum(summary["entities_per_label"].values()) > 0
    docs = read_output(out, "bioc-xml")
    assert [d.text for d in docs] == [d.text for d in read(src)]


# a model path that does not exist: each mistake must be reported before the model is looked at
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shard-size", "0"], "--shard-size: "),
        (["--threshold", "1.5"], "--threshold: "),
        (["--mode", "wide"], "--mode 'wide' is not one of flat, nested, multi_label"),
        (["--to", "conll"], "--to: "),
        (["--on-error", "ignore"], "--on-error 'ignore' is not one of stop, skip"),
        (["--devices", "gpu0"], "--devices: 'gpu0' is not a device"),
        (["--devices", "cuda:7"], "--devices: cuda:7 is not available here"),
        (["--workers", "0"], "--workers: "),
        (["--actors", "2"], "--ray-address and --actors need --engine ray"),
        (["--engine", "ray", "--workers", "2"], "--workers is for the local engine"),
        (["--from", "csv"], "--from 'csv' is not a format"),
        (["-l", " , "], "--labels is empty"),
        (["-l", "drug,drug"], "--labels: Value error, duplicate labels ['drug']"),
    ],
)
def test_option_mistakes(tmp_path, extra, message):
    src = write_jsonl(tmp_path / "in.jsonl", 2)
    args = [str(src), "-m", str(tmp_path / "no-model"), "-l", "drug", "--out", str(tmp_path / "o")]
    result = _invoke([*args, *extra])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "o").exists()


def test_input_and_model_mistakes(tiny_models, tmp_path):
    out = str(tmp_path / "o")
    result = _invoke([str(tmp_path / "none.jsonl"), "-m", "x", "-l", "drug", "--out", out])
    assert (
        result.exit_code == 2
        and "error: input" in result.output
        and "does not exist" in result.output
    )
    result = _invoke([str(tmp_path / "*.pubtator"), "-m", "x", "-l", "drug", "--out", out])
    assert result.exit_code == 2 and "matches no file" in result.output
    odd = tmp_path / "data.csv"
    odd.write_text("id,text\n1,hello\n")
    result = _invoke([str(odd), "-m", "x", "-l", "drug", "--out", out])
    assert (
        result.exit_code == 2
        and "cannot tell the format" in result.output
        and "--from" in result.output
    )
    src = write_jsonl(tmp_path / "in.jsonl", 2)
    result = _invoke([str(src), "-m", str(tmp_path / "missing"), "-l", "drug", "--out", out])
    assert result.exit_code == 2 and "does not exist" in result.output
    mixed = write_pubtator(tmp_path / "b.pubtator", 1)
    result = _invoke(
        [str(src), str(mixed), "-m", str(tiny_models["uni"]), "-l", "drug", "--out", out]
    )
    assert result.exit_code == 2 and "mix formats (jsonl, pubtator)" in result.output


def test_bad_record_stops_with_one_error_line(tiny_models, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "ok"}\n{"text": "no id"}\n', encoding="utf-8")
    out = tmp_path / "o"
    result = _invoke([str(src), "-m", str(tiny_models["uni"]), "-l", "drug", "--out", str(out),
                      "--shard-size", "1", "--no-progress"])  # fmt: skip
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"error: {src}:2: record has no 'id' (stopped; 1 finished shard(s) kept in {out}; "
        "fix the record and rerun, or pass --on-error skip)"
    ]


def test_two_workers_match_one(tiny_models, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", 9)
    common = [str(src), "-m", str(tiny_models["uni"]), "-l", "drug,disease", "--threshold",
              "0.3", "--shard-size", "2", "--no-progress"]  # fmt: skip
    one = _invoke([*common, "--out", str(tmp_path / "one")])
    two = _invoke([*common, "--out", str(tmp_path / "two"), "--workers", "2"])
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert json.loads(two.stdout)["workers"] == 2
    a, b = read_output(tmp_path / "one", "jsonl"), read_output(tmp_path / "two", "jsonl")
    assert [d.id for d in b] == [f"doc{i}" for i in range(9)]
    for x, y in zip(a, b, strict=True):
        assert [(e.start, e.end, e.label) for e in x.entities] == [
            (e.start, e.end, e.label) for e in y.entities
        ]
        # worker processes run fewer threads each; float sums may differ in the last bits
        assert [e.score for e in x.entities] == pytest.approx(
            [e.score for e in y.entities], abs=1e-5
        )
