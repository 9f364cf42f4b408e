"""The registry file, its loader, label mapping, hashing and seeded splits (hand-made data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomedner.corpora import Document
from biomedner.errors import ConfigError, InputError
from biomedner.evaluation.benchmarks import (
    BenchmarkDataError,
    Registry,
    Select,
    _select,
    get_benchmark,
    list_benchmarks,
    load_benchmark,
    load_registry,
    resolve_data_root,
)

PAPER_LABELS = {
    "ncbi_disease": ["Disease"],
    "bc5cdr": ["Chemical", "Disease"],
    "biored": [
        "Cell line",
        "Chemical entity",
        "Disease or phenotype",
        "Gene or gene product",
        "Organism",
        "Sequence variant",
    ],
}


def test_shipped_registry_lists_the_benchmarks_with_paper_labels() -> None:
    assert set(list_benchmarks()) >= {
        "ncbi_disease",
        "bc5cdr",
        "biored",
        "jnlpba",
        "bionlp13cg",
        "craft",
        "chia",
    }
    for name, labels in PAPER_LABELS.items():
        assert get_benchmark(name).labels == labels
    for name in list_benchmarks():
        spec = get_benchmark(name)
        assert spec.licence and spec.description
        assert set(spec.sha256) == set(spec.splits), name
        assert set(spec.splits) == {"train", "dev", "test"}, name
    assert get_benchmark("chia").nested is True
    assert get_benchmark("chia").labels.count("Reference point") == 1


def test_unknown_benchmark_and_split(mini_registry: Registry, mini_root: Path) -> None:
    with pytest.raises(InputError, match="unknown benchmark 'nope'; registered: ncbi_disease"):
        get_benchmark("nope")
    with pytest.raises(InputError, match="has no split 'train'"):
        load_benchmark("mini", "train", data_root=mini_root, registry=mini_registry)


def test_registry_rejects_unknown_keys(tmp_path: Path) -> None:
    bad = {
        "registry_version": 1,
        "benchmarks": {
            "x": {
                "description": "d",
                "format": "jsonl",
                "splits": {"test": {"files": ["a"]}},
                "label_map": {},
                "nested": False,
                "licence": "l",
                "colour": "red",
            }
        },
    }
    (tmp_path / "r.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="colour"):
        load_registry(tmp_path / "r.json")


def test_load_maps_labels_and_records_hash(mini_registry: Registry, mini_root: Path) -> None:
    b = load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry)
    assert b.labels == ["chemical compound", "disease"]
    assert [d.id for d in b.documents] == ["m1", "m2", "m3"]
    assert {e.label for d in b.documents for e in d.entities} == set(b.labels)
    assert b.n_mentions == 7 and len(b.data_hash) == 64 and b.registry_version == 7


def test_hash_mismatch_fails_unless_not_verified(mini_registry: Registry, mini_root: Path) -> None:
    spec = mini_registry.benchmarks["mini"]
    good = load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry).data_hash
    spec.sha256["test"] = good
    load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry)
    path = mini_root / "mini" / "test.pubtator"
    path.write_text(path.read_text().replace("goitre", "goiter"))
    with pytest.raises(BenchmarkDataError, match="differ from the registered version"):
        load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry)
    b = load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry, verify=False)
    assert b.data_hash != good


def test_unmapped_types_are_an_error_and_dropped_types_are_counted(
    mini_registry: Registry, mini_root: Path
) -> None:
    spec = mini_registry.benchmarks["mini"]
    del spec.label_map["Chemical"]
    with pytest.raises(BenchmarkDataError, match=r"raw types \['Chemical'\]"):
        load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry)
    spec.drop_types.append("Chemical")
    b = load_benchmark("mini", "test", data_root=mini_root, registry=mini_registry)
    assert b.n_mentions == 4 and b.counts["dropped_type:Chemical"] == 3


def test_missing_files_name_the_data_root(mini_registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(BenchmarkDataError, match="BIOMEDNER_DATA"):
        load_benchmark("mini", "test", data_root=tmp_path / "nowhere", registry=mini_registry)


def test_data_root_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIOMEDNER_DATA", raising=False)
    assert resolve_data_root() == Path("../shared/data/benchmarks")
    monkeypatch.setenv("BIOMEDNER_DATA", str(tmp_path))
    assert resolve_data_root() == tmp_path
    (tmp_path / "benchmarks").mkdir()
    assert resolve_data_root() == tmp_path / "benchmarks"
    assert resolve_data_root(tmp_path / "x") == tmp_path / "x"


def test_seeded_selection_partitions_by_group() -> None:
    docs = [Document(f"NCT{i:03d}_{part}", "x") for i in range(40) for part in ("inc", "exc")]
    parts = [
        _select(
            docs, Select(fractions=[0.8, 0.1, 0.1], part=k, seed=42, group_pattern=r"^(NCT\d+)")
        )
        for k in range(3)
    ]
    ids = [{d.id for d in p} for p in parts]
    assert [len(p) for p in parts] == [64, 8, 8]
    assert not (ids[0] & ids[1]) and not (ids[1] & ids[2]) and not (ids[0] & ids[2])
    for p in parts:  # both criteria files of a trial land in the same part
        trials = {d.id.split("_")[0] for d in p}
        assert len(trials) * 2 == len(p)
    again = _select(
        docs, Select(fractions=[0.8, 0.1, 0.1], part=1, seed=42, group_pattern=r"^(NCT\d+)")
    )
    assert [d.id for d in again] == [d.id for d in parts[1]]
    with pytest.raises(ValueError, match="sum to 1"):
        Select(fractions=[0.5, 0.4], part=0)
