"""The evaluate / score / compare / convert commands through the typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.corpora import read

runner = CliRunner()
CORPORA = Path(__file__).parents[1] / "corpora" / "fixtures"


def registry_file(mini_registry, tmp_path: Path) -> Path:
    # the mini_registry fixture wrote its JSON here
    path = tmp_path / "registry.json"
    assert path.is_file() and mini_registry is not None
    return path


@pytest.fixture
def cli_fake(monkeypatch: pytest.MonkeyPatch, fake_model_class):
    models = {"good": fake_model_class(perfect=True), "bad": fake_model_class()}
    monkeypatch.setattr(
        "biomedner.cli.evaluate.load_model", lambda path, device, quantize=None: models[path]
    )
    return models


def evaluate_cli(name: str, out: Path, reg: Path, root: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            name,
            "--benchmarks",
            "mini",
            "--split",
            "test",
            "--out",
            str(out),
            "--registry",
            str(reg),
            "--data-root",
            str(root),
            "--bootstrap",
            "100",
            *extra,
        ],
    )


def test_evaluate_writes_four_outputs_and_compare_reads_them(
    cli_fake, mini_registry, mini_root: Path, tmp_path: Path
) -> None:
    reg = registry_file(mini_registry, tmp_path)
    res = evaluate_cli(
        "bad", tmp_path / "bad", reg, mini_root, "--find-threshold", "--thresholds", "0.2,0.5"
    )
    assert res.exit_code == 0, res.output
    assert "| mini | test | 0.5 | 3 | 7 | 7 | 57.14 |" in res.stdout
    assert "With the threshold tuned on the dev split" in res.stdout
    for name in ("report.json", "report.md", "f1.png", "predictions/mini.test.jsonl"):
        assert (tmp_path / "bad" / name).is_file(), name
    report = json.loads((tmp_path / "bad" / "report.json").read_text())
    assert report["model"]["id"] == "bad"
    assert report["benchmarks"]["mini"]["tuned"]["threshold"] == 0.5

    res = evaluate_cli("good", tmp_path / "good", reg, mini_root, "--no-plot")
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "good" / "f1.png").exists()

    res = runner.invoke(
        app,
        [
            "compare",
            str(tmp_path / "good" / "report.json"),
            str(tmp_path / "bad" / "report.json"),
            "--iterations",
            "500",
            "--resamples",
            "100",
            "--out",
            str(tmp_path / "cmp.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "| mini | strict | 100.00 | 57.14 | +42.86 |" in res.stdout
    cmp = json.loads((tmp_path / "cmp.json").read_text())
    assert 0 < cmp["benchmarks"]["mini"]["relaxed"]["approximate_randomization"]["p_value"] <= 1


def test_evaluate_reports_errors(cli_fake, mini_registry, mini_root: Path, tmp_path: Path) -> None:
    reg = registry_file(mini_registry, tmp_path)
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            "bad",
            "--benchmarks",
            "nope",
            "--out",
            str(tmp_path / "o"),
            "--registry",
            str(reg),
        ],
    )
    assert res.exit_code == 2 and "unknown benchmark 'nope'" in res.output
    res = evaluate_cli("bad", tmp_path / "o", reg, mini_root, "--mode", "sideways")
    assert res.exit_code == 2 and "--mode 'sideways' is not one of" in res.output


def test_score_a_prediction_file(fake_model, mini_root: Path, tmp_path: Path) -> None:
    gold_path = mini_root / "mini" / "test.pubtator"
    gold = read(gold_path, "pubtator")
    labels = ["chemical compound", "disease"]
    preds = fake_model.predict_batch([d.text for d in gold], labels)
    pred_path = tmp_path / "pred.bioc.json"
    from biomedner.corpora import write

    write([d.with_entities(p) for d, p in zip(gold, preds, strict=True)], pred_path, "bioc-json")
    (tmp_path / "map.json").write_text(json.dumps({"Chemical": labels[0], "Disease": labels[1]}))
    res = runner.invoke(
        app,
        [
            "score",
            "--gold",
            str(gold_path),
            "--pred",
            str(pred_path),
            "--gold-format",
            "pubtator",
            "--pred-format",
            "bioc-json",
            "--label-map",
            str(tmp_path / "map.json"),
            "--bootstrap",
            "50",
            "--out",
            str(tmp_path / "score.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "| test.pubtator | - | - | 3 | 7 | 7 | 57.14 | 57.14 | 57.14 [" in res.stdout
    saved = json.loads((tmp_path / "score.json").read_text())
    assert saved["benchmarks"]["test.pubtator"]["per_document"]["strict"] == [
        [1, 2, 1],
        [2, 0, 1],
        [1, 1, 1],
    ]
    res = runner.invoke(
        app,
        ["score", "--gold", str(gold_path), "--pred", str(pred_path), "--gold-format", "pubtator"],
    )
    assert res.exit_code == 2 and "share no label; map the gold types" in res.output


def test_convert_pubtator_to_bioc_xml_and_back(tmp_path: Path) -> None:
    src = CORPORA / "sample.pubtator"
    res = runner.invoke(
        app,
        ["convert", str(src), str(tmp_path / "x.xml"), "--from", "pubtator", "--to", "bioc-xml"],
    )
    assert res.exit_code == 0, res.output
    assert "2 documents, 10 entities: pubtator -> bioc-xml" in res.output
    assert "read: relation_lines = 1" in res.output
    res = runner.invoke(app, ["convert", str(tmp_path / "x.xml"), str(tmp_path / "y.pubtator")])
    assert res.exit_code == 0, res.output
    a, b = read(src, "pubtator"), read(tmp_path / "y.pubtator", "pubtator")
    assert [(d.text, [(e.start, e.end, e.label) for e in d.sorted_entities()]) for d in a] == [
        (d.text, [(e.start, e.end, e.label) for e in d.sorted_entities()]) for d in b
    ]


def test_convert_needs_a_discontinuous_policy_for_brat(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["convert", str(CORPORA / "brat"), str(tmp_path / "o.jsonl"), "--from", "brat"]
    )
    assert res.exit_code == 2 and "discontinuous" in res.output and "doc_lf.ann:5" in res.output
    res = runner.invoke(
        app,
        [
            "convert",
            str(CORPORA / "brat"),
            str(tmp_path / "o.jsonl"),
            "--from",
            "brat",
            "--discontinuous",
            "fragments",
        ],
    )
    assert res.exit_code == 0 and "read: discontinuous_entities = 1" in res.output
    assert sum(len(d.entities) for d in read(tmp_path / "o.jsonl")) == 10


def test_evaluate_runs_under_the_asked_precision_and_names_it(
    monkeypatch: pytest.MonkeyPatch, fake_model_class, mini_registry, mini_root: Path, tmp_path
) -> None:
    import torch

    seen: dict = {}

    class Recording(fake_model_class):
        device = torch.device("cpu")

        def predict_batch(self, texts, labels, threshold=0.5, mode="flat", batch_size=8, **kw):
            seen["autocast_dtype"] = kw.get("autocast_dtype")
            return super().predict_batch(texts, labels, threshold, mode, batch_size)

    def load(path, device, quantize=None):
        seen["quantize"] = quantize
        return Recording(perfect=True)

    monkeypatch.setattr("biomedner.cli.evaluate.load_model", load)
    monkeypatch.setattr(  # whatever this CPU has, the command must pass the dtype on
        "biomedner.modeling.precision.autocast_dtype", lambda precision, device: torch.bfloat16
    )
    reg = registry_file(mini_registry, tmp_path)
    result = evaluate_cli("good", tmp_path / "bf16", reg, mini_root, "--precision", "bf16")
    assert result.exit_code == 0, result.output
    assert seen == {"quantize": None, "autocast_dtype": torch.bfloat16}
    report = json.loads((tmp_path / "bf16" / "report.json").read_text())
    assert report["model"]["id"] == "good (bf16)"
    result = evaluate_cli("good", tmp_path / "int8", reg, mini_root, "--quantize", "int8")
    assert result.exit_code == 0, result.output
    assert seen["quantize"] == "int8"
    assert json.loads((tmp_path / "int8" / "report.json").read_text())["model"]["id"] == (
        "good (int8)"
    )
