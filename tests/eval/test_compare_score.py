"""Scoring prediction files and comparing two reports with paired tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomedner.corpora import read, write
from biomedner.errors import InputError
from biomedner.evaluation import compare_reports, evaluate, score_documents
from biomedner.evaluation.benchmarks import Registry
from biomedner.evaluation.markdown import comparison_markdown
from biomedner.evaluation.score_files import score_files
from biomedner.evaluation.scoring import BootstrapConfig


def test_compare_two_reports(fake_model_class, mini_registry: Registry, mini_root: Path) -> None:
    FakeModel = fake_model_class
    kw = {"data_root": mini_root, "registry": mini_registry, "bootstrap": BootstrapConfig(100)}
    a = evaluate(FakeModel(perfect=True, name_or_path="perfect"), ["mini"], **kw)
    b = evaluate(FakeModel(), ["mini"], **kw)
    cmp = compare_reports(a, b, n_iterations=2000, n_resamples=300)
    strict = cmp["benchmarks"]["mini"]["strict"]
    assert strict["f1_a"] == 1.0 and strict["difference"] == pytest.approx(3 / 7)
    # with three documents, the exact permutation p-value of a difference that every
    # document points the same way is 2 / 2**3
    assert strict["approximate_randomization"]["p_value"] == pytest.approx(0.25, abs=0.03)
    assert 0 < strict["paired_bootstrap"]["p_value"] <= 1
    md = comparison_markdown(cmp)
    assert "| mini | strict | 100.00 | 57.14 | +42.86 |" in md
    same = compare_reports(a, a, n_iterations=200, n_resamples=100)
    assert same["benchmarks"]["mini"]["strict"]["approximate_randomization"]["p_value"] == 1.0


def test_compare_refuses_different_data(
    fake_model_class, mini_registry: Registry, mini_root: Path
) -> None:
    FakeModel = fake_model_class
    kw = {"data_root": mini_root, "registry": mini_registry, "bootstrap": None}
    a = evaluate(FakeModel(), ["mini"], **kw)
    b = evaluate(FakeModel(), ["mini"], **kw)
    b.benchmarks["mini"]["data_hash"] = "0" * 64
    b.benchmarks["other"] = b.benchmarks["mini"]
    cmp = compare_reports(a, b, n_iterations=10, n_resamples=10)
    assert cmp["benchmarks"]["mini"] == {"skipped": "different data (split or data hash)"}
    assert cmp["benchmarks"]["other"] == {"skipped": "only in report B"}


def test_score_documents_pairs_by_id_and_checks_texts(
    mini_registry: Registry, mini_root: Path
) -> None:
    gold = read(mini_root / "mini" / "test.pubtator", "pubtator")
    r = score_documents(gold, list(reversed(gold)), bootstrap=None)
    assert r.f1("strict") == 1.0
    with pytest.raises(InputError, match="have no predictions"):
        score_documents(gold, gold[:2], bootstrap=None)
    r = score_documents(gold, gold[:2], allow_missing=True, bootstrap=None)
    assert r.metrics["strict"]["micro"]["fn"] == 2
    with pytest.raises(InputError, match="not in the gold set"):
        score_documents(gold[:2], gold, bootstrap=None)
    changed = [gold[0].with_entities([])]
    changed[0].text = gold[0].text.upper()
    with pytest.raises(InputError, match="texts differ"):
        score_documents(gold[:1], changed, bootstrap=None)


def test_score_files_with_a_label_map(fake_model, mini_root: Path, tmp_path: Path) -> None:
    gold_path = mini_root / "mini" / "test.pubtator"
    gold = read(gold_path, "pubtator")
    mapping = {"Chemical": "chemical compound", "Disease": "disease"}
    preds = fake_model.predict_batch([d.text for d in gold], sorted(mapping.values()))
    write([d.with_entities(p) for d, p in zip(gold, preds, strict=True)], tmp_path / "p.jsonl")
    report = score_files(gold_path, tmp_path / "p.jsonl", label_map=mapping, n_resamples=50)
    entry = report.benchmarks["test.pubtator"]
    assert entry["metrics"]["strict"]["micro"]["f1"] == pytest.approx(4 / 7)
    assert entry["labels"] == ["chemical compound", "disease"]
    with pytest.raises(InputError, match=r"gold types \['Chemical'\] are not in the label map"):
        score_files(gold_path, tmp_path / "p.jsonl", label_map={"Disease": "disease"})
