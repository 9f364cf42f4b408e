"""Stage-2 data options: per-type query files (Pile-NER style), where sampled negatives come
from, sources turned off by weight 0, removing a key with --set, data hashes in the report."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from biomedner.data.type_queries import read_type_queries
from biomedner.errors import ConfigError, FormatError
from biomedner.training.config import config_from_dict
from biomedner.training.sampling import BatchContext, example_labels
from biomedner.training.sources import load_source
from tests.training.conftest import tiny_config

PASSAGE = "The Rhine flows past Basel. Basel hosts a museum about the Rhine."


def _query(pair: str, label: str, gold: list[str], text: str = PASSAGE) -> str:
    row = {"doc_question_pairID": pair, "tagName": label, "input": text, "output": json.dumps(gold)}
    return json.dumps(row) + "\n"


@pytest.fixture
def queries_file(tmp_path) -> Path:
    path = tmp_path / "queries.jsonl"
    path.write_text(
        _query("7:0", "river", ["Rhine"])
        + _query("7:1", "city", ["Basel", "Zurich"])
        + _query("7:2", "mountain", [])
        + _query("9:0", "river", [], "Nothing to find here at all."),
        encoding="utf-8",
    )
    return path


def test_queries_of_one_passage_become_one_record_with_every_occurrence(queries_file):
    counts: Counter[str] = Counter()
    records = read_type_queries(queries_file, counts)
    assert [r.id for r in records] == ["7", "9"]
    first = records[0]
    found = sorted((first.text[e.start : e.end], e.start, e.label) for e in first.entities)
    assert found == [("Basel", 21, "city"), ("Basel", 28, "city"),
                     ("Rhine", 4, "river"), ("Rhine", 59, "river")]  # fmt: skip
    assert first.negatives == ["mountain"]  # asked, no answer; "Zurich" is not in the text
    assert records[1].entities == [] and records[1].negatives == ["river"]
    assert counts["mentions_not_in_passage_skipped"] == 1
    assert counts["occurrences"] == 4 and counts["queries"] == 4


def test_a_passage_with_two_texts_or_a_bad_answer_is_an_error(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text(_query("1:0", "city", ["Basel"]) + _query("1:1", "river", [], "Other text."))
    with pytest.raises(FormatError, match=r"q.jsonl:2: passage '1' has a different text"):
        read_type_queries(bad, Counter())
    bad.write_text(json.dumps({"doc_question_pairID": "1:0", "tagName": "x", "input": "a",
                               "output": "{}"}) + "\n")  # fmt: skip
    with pytest.raises(FormatError, match="JSON list of strings"):
        read_type_queries(bad, Counter())


def _config(backbone, records_file, tmp_path, sources, max_len=32, **stage):
    cfg = tiny_config(backbone, records_file, tmp_path / "run")
    cfg["model"]["max_len"] = max_len
    cfg["stages"] = [{"name": "s2", "steps": 2, "sources": sources, **stage}]
    cfg["base_dir"] = str(tmp_path)
    return config_from_dict(cfg)


def test_query_windows_get_only_known_labels(tiny_backbone, records_file, queries_file, tmp_path):
    from biomedner.training.setup import build_model, prepare_stage

    config = _config(
        tiny_backbone, records_file, tmp_path,
        [{"kind": "records", "path": str(records_file)},
         {"kind": "type_queries", "path": str(queries_file)}],
        max_len=9,  # the passage is cut into windows, some without a "city" or a "river"
        negatives_from="stage",
    )  # fmt: skip
    model = build_model(config, __import__("torch").device("cpu"))
    data = prepare_stage(config, 0, config.stages[0], model, batch_size=2, bucket=1)
    records_pool, queries_pool = data.pools
    assert queries_pool == []  # per-type data: nothing sampled
    assert {"gene", "disease", "chemical"} <= set(records_pool)
    assert {"river", "city", "mountain"} <= set(records_pool)  # negatives_from = "stage"
    queries = data.stream.sources[1]
    assert len(queries) > 2
    assert any("city" in ex.negatives or "river" in ex.negatives for ex in queries)
    for ex in queries:
        present = {s[2] for s in ex.spans}
        assert not present & set(ex.negatives)
        assert present | set(ex.negatives) <= {"river", "city", "mountain"}
        assert present | set(ex.negatives)  # never an example without a known label
    rng = np.random.default_rng(0)
    ctx = BatchContext(model.pipeline, max_types=25, neg_type_ratio=5.0, shuffle_labels=False,
                       label_pool=queries_pool)  # fmt: skip
    for ex in queries:
        assert set(example_labels(ex, rng, ctx, Counter())) == {s[2] for s in ex.spans} | set(
            ex.negatives
        )


def test_source_pool_is_the_default(tiny_backbone, records_file, queries_file, tmp_path):
    from biomedner.training.setup import negative_pools

    config = _config(
        tiny_backbone, records_file, tmp_path,
        [{"kind": "records", "path": str(records_file)},
         {"kind": "records", "path": str(records_file)}],
    )  # fmt: skip
    stage = config.stages[0]
    assert negative_pools(stage.sources, stage.negatives_from, [["a"], ["b"]]) == [["a"], ["b"]]
    assert negative_pools(stage.sources, "stage", [["a"], ["b"]]) == [["a", "b"], ["a", "b"]]


def test_weight_zero_turns_a_source_off(tiny_backbone, records_file, tmp_path):
    from biomedner.training.setup import build_model, prepare_stage

    missing = tmp_path / "not_read.jsonl"
    config = _config(
        tiny_backbone, records_file, tmp_path,
        [{"kind": "records", "path": str(records_file)},
         {"kind": "records", "path": str(missing), "weight": 0}],
    )  # fmt: skip
    model = build_model(config, __import__("torch").device("cpu"))
    data = prepare_stage(config, 0, config.stages[0], model, batch_size=2, bucket=1)
    assert len(data.stream.sources) == 1
    assert data.info[1] == {"kind": "records", "weight": 0, "read": False}
    with pytest.raises(ConfigError, match="every source has weight 0"):
        _config(tiny_backbone, records_file, tmp_path,
                [{"kind": "records", "path": str(records_file), "weight": 0}])  # fmt: skip


def test_an_empty_set_value_removes_the_key(tiny_backbone, records_file, tmp_path):
    cfg = tiny_config(tiny_backbone, records_file, tmp_path / "run")
    cfg["base_dir"] = str(tmp_path)
    config = config_from_dict(
        cfg, ["model.checkpoint=" + json.dumps(str(tiny_backbone)), "model.backbone="]
    )
    assert config.model.backbone is None and config.model.checkpoint == str(tiny_backbone)
    with pytest.raises(ConfigError, match="exactly one of model.backbone and model.checkpoint"):
        config_from_dict(cfg, ["model.backbone="])


def test_the_report_names_each_file_by_its_hash(
    tiny_backbone, records_file, queries_file, tmp_path
):
    config = _config(
        tiny_backbone, records_file, tmp_path, [{"kind": "type_queries", "path": str(queries_file)}]
    )
    _, info = load_source(config.stages[0].sources[0], config)
    assert info["sha256"] == hashlib.sha256(queries_file.read_bytes()).hexdigest()
    assert info["counts"]["records"] == 2
