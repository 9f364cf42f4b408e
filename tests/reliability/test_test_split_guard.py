"""Item 4: training on a benchmark's test split is refused by content, whatever the working
directory, the file's name or where it was copied to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from biomedner.errors import ConfigError
from biomedner.evaluation import test_splits
from biomedner.evaluation.benchmarks import load_registry
from tests.reliability.contract import assert_user_error, invoke, recipe

SHARED = Path(__file__).parents[2] / ".." / "shared" / "data" / "benchmarks"


def test_the_file_hashes_follow_the_registry():
    """benchmark_test_files.json was made from the registered version of every test split."""
    shipped = json.loads(
        (Path(test_splits.__file__).with_name(test_splits.TEST_FILES)).read_text(encoding="utf-8")
    )
    registry = load_registry()
    for name, spec in registry.benchmarks.items():
        if "test" in spec.splits:
            assert shipped["benchmarks"][name]["split_sha256"] == spec.sha256["test"], name
            assert shipped["benchmarks"][name]["files"], name


@pytest.fixture
def fake_test_file(tmp_path, monkeypatch):
    """A file registered as a test split (its hash added to the known ones)."""
    data = tmp_path / "data" / "NCBItestset_corpus.txt"
    data.parent.mkdir()
    data.write_text("1|t|Gout.\n1\t0\t4\tGout\tDisease\n\n", encoding="utf-8")
    known = {test_splits.file_digest(data): "benchmark 'fake' test split (fake/test.txt)"}
    monkeypatch.setattr(test_splits, "_known", lambda: known)
    return data


def test_a_renamed_copy_elsewhere_is_recognised(fake_test_file, tmp_path, monkeypatch):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    copy = elsewhere / "my_training_data.pubtator"
    shutil.copy(fake_test_file, copy)
    monkeypatch.chdir(elsewhere)
    assert test_splits.registered_test_split(copy) is not None
    assert test_splits.registered_test_split(elsewhere) is not None  # a folder holding it
    with pytest.raises(ConfigError, match="benchmark 'fake' test split"):
        test_splits.refuse_test_split(Path("my_training_data.pubtator"), "source")
    other = elsewhere / "train.pubtator"
    other.write_text("2|t|Other.\n\n", encoding="utf-8")
    assert test_splits.registered_test_split(other) is None


def test_train_refuses_it_before_creating_anything(no_model_load, fake_test_file, tmp_path):
    copy = tmp_path / "corpus.jsonl"
    shutil.copy(fake_test_file, copy)
    out = tmp_path / "run"
    result = invoke(["train", recipe(tmp_path, str(copy), out)])
    assert "test split" in assert_user_error(result, "corpus.jsonl")
    assert not out.exists()


def test_names_like_ncbi_test_files_are_caught():
    from biomedner.training.sources import _TEST_NAME

    for name in ("NCBItestset_corpus.txt", "CDR_TestSet.PubTator.txt", "Test.PubTator", "test.tsv"):
        assert _TEST_NAME.search(name), name
    for name in ("latest.jsonl", "contest.txt", "train.tsv"):
        assert not _TEST_NAME.search(name), name


@pytest.mark.shared_data
def test_the_real_ncbi_test_file_renamed_is_refused(no_model_load, tmp_path, monkeypatch):
    src = SHARED / "ncbi_disease" / "test" / "NCBItestset_corpus.txt"
    if not src.is_file():
        pytest.skip("../shared/data is not beside the checkout")
    copy = tmp_path / "diseases.txt"
    shutil.copy(src, copy)
    monkeypatch.chdir(tmp_path)  # the old guard looked for ../shared/data from here
    result = invoke(["train", recipe(tmp_path, str(copy), tmp_path / "run")])
    assert "'ncbi_disease' test split" in assert_user_error(result, "diseases.txt")
