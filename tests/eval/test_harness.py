"""The harness end to end with a fake model on the hand-written miniature benchmark."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from biomedner.corpora import read
from biomedner.errors import InputError
from biomedner.evaluation import EvalReport, evaluate, find_threshold
from biomedner.evaluation.benchmarks import Registry
from biomedner.evaluation.scoring import BootstrapConfig


def close(x: float, frac: Fraction) -> bool:
    return abs(x - float(frac)) < 1e-12


def run(model, registry: Registry, root: Path, **kw) -> EvalReport:
    return evaluate(
        model,
        ["mini"],
        data_root=root,
        registry=registry,
        bootstrap=BootstrapConfig(200, seed=0),
        **kw,
    )


def test_scores_equal_the_hand_computed_values(
    fake_model, mini_registry: Registry, mini_root: Path
) -> None:
    report = run(fake_model, mini_registry, mini_root)
    b = report.benchmarks["mini"]
    m = b["metrics"]
    # 7 gold mentions; see FakeModel for the scripted mistakes
    assert (m["strict"]["micro"]["tp"], m["strict"]["micro"]["fp"], m["strict"]["micro"]["fn"]) == (
        4,
        3,
        3,
    )
    assert close(m["strict"]["micro"]["f1"], Fraction(4, 7))
    assert close(m["relaxed"]["micro"]["f1"], Fraction(5, 7))
    assert close(m["boundary"]["micro"]["f1"], Fraction(5, 7))
    per = m["strict"]["per_type"]
    assert close(per["chemical compound"]["f1"], Fraction(4, 5))
    assert close(per["disease"]["f1"], Fraction(4, 9))
    assert close(m["strict"]["macro"]["f1"], (Fraction(4, 5) + Fraction(4, 9)) / 2)
    lo, hi = m["strict"]["micro"]["ci95"]["f1"]
    assert lo <= 4 / 7 <= hi
    # the model saw whole documents, the registry's labels, the flat mode and the threshold
    assert fake_model.calls == [
        {"n": 3, "labels": ["chemical compound", "disease"], "threshold": 0.5, "mode": "flat"}
    ]
    assert b["n_gold"] == 7 and b["n_pred"] == 7 and b["n_documents"] == 3
    assert b["label_map"] == {"Chemical": "chemical compound", "Disease": "disease"}
    assert len(b["data_hash"]) == 64 and b["registry_version"] == 7
    assert b["per_document"]["ids"] == ["m1", "m2", "m3"]
    assert b["per_document"]["strict"] == [[1, 2, 1], [2, 0, 1], [1, 1, 1]]
    assert report.model["id"] == "fake-model"


def test_lower_threshold_adds_the_low_scored_false_positive(
    fake_model, mini_registry: Registry, mini_root: Path
) -> None:
    m = run(fake_model, mini_registry, mini_root, threshold=0.2).benchmarks["mini"]["metrics"]
    assert m["strict"]["micro"]["fp"] == 4
    assert close(m["strict"]["micro"]["f1"], Fraction(8, 15))


def test_find_threshold_on_dev(fake_model, mini_registry: Registry, mini_root: Path) -> None:
    for strategy in ("filter", "rerun"):
        s = find_threshold(
            fake_model,
            "mini",
            thresholds=[0.2, 0.5, 0.95],
            data_root=mini_root,
            registry=mini_registry,
            strategy=strategy,
        )
        assert s["split"] == "dev" and s["best_threshold"] == 0.5
        assert [round(c["f1"], 6) for c in s["curve"]] == [round(8 / 15, 6), round(4 / 7, 6), 0.0]
    with pytest.raises(InputError, match="never on test"):
        find_threshold(
            fake_model, "mini", split="test", data_root=mini_root, registry=mini_registry
        )


def test_tuned_threshold_is_reported_apart_from_test_scores(
    fake_model, mini_registry: Registry, mini_root: Path
) -> None:
    model = fake_model
    report = run(
        model, mini_registry, mini_root, threshold=0.2, tune_threshold=True, thresholds=[0.2, 0.5]
    )
    b = report.benchmarks["mini"]
    assert b["threshold"] == 0.2 and close(b["metrics"]["strict"]["micro"]["f1"], Fraction(8, 15))
    assert b["threshold_search"]["split"] == "dev"
    assert b["tuned"]["threshold"] == 0.5 and b["tuned"]["tuned_on"] == "dev"
    assert close(b["tuned"]["metrics"]["strict"]["micro"]["f1"], Fraction(4, 7))
    assert report.config["tune_split"] == "dev"


def test_outputs_are_written(
    fake_model, mini_registry: Registry, mini_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "eval"
    report = run(fake_model, mini_registry, mini_root, out_dir=out)
    preds = read(out / "predictions" / "mini.test.jsonl", "jsonl")
    assert [d.id for d in preds] == ["m1", "m2", "m3"]
    assert [e.text for e in preds[0].sorted_entities()] == [
        "Cisplatin",
        "kidney injury",
        "patients",
    ]
    assert all(e.score == 0.9 for d in preds for e in d.entities)
    assert report.benchmarks["mini"]["predictions_file"] == "predictions/mini.test.jsonl"
    data = json.loads((out / "report.json").read_text())
    assert data["benchmarks"]["mini"]["metrics"]["strict"]["definition"].startswith("exact match")
    assert set(data["matching_definitions"]) == {"strict", "relaxed", "boundary"}
    assert data["primary"] == {"matching": "strict", "average": "micro", "metric": "f1"}
    assert EvalReport.from_json(out / "report.json").to_dict() == report.to_dict()
    md = (out / "report.md").read_text()
    assert "| mini | test | 0.5 | 3 | 7 | 7 | 57.14 | 57.14 | 57.14 [" in md
    assert "relaxed micro F1" in md and "**boundary**" in md
    assert (out / "f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mode_defaults_to_the_registry_nested_flag(
    fake_model, mini_registry: Registry, mini_root: Path
) -> None:
    mini_registry.benchmarks["mini"].nested = True
    run(fake_model, mini_registry, mini_root)
    run(fake_model, mini_registry, mini_root, mode="multi_label")
    assert [c["mode"] for c in fake_model.calls] == ["nested", "multi_label"]
    with pytest.raises(InputError, match="mode must be one of"):
        run(fake_model, mini_registry, mini_root, mode="greedy")


def test_misaligned_or_missing_predictions_fail(mini_registry: Registry, mini_root: Path) -> None:
    class Broken:
        def predict_batch(self, texts, labels, threshold=0.5, mode="flat", batch_size=8):
            return [[]]

    with pytest.raises(InputError, match="returned 1 prediction lists for 3 texts"):
        run(Broken(), mini_registry, mini_root)

    from biomedner.types import Entity

    class Shifted:
        def predict_batch(self, texts, labels, threshold=0.5, mode="flat", batch_size=8):
            return [[Entity(0, 3, "xyz", "disease")] for _ in texts]

    with pytest.raises(InputError, match="does not match the text of document 'm1'"):
        run(Shifted(), mini_registry, mini_root)
