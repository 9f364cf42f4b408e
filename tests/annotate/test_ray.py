"""The Ray Data engine on a local Ray instance (2 CPU actors) writes what the local engine
writes, document for document, and resumes from the same manifest."""

from __future__ import annotations

import pytest

from tests.annotate.conftest import write_jsonl, write_pubtator
from tests.annotate.helpers import annotate, read_output

pytestmark = pytest.mark.ray

RAY = {"engine": "ray", "actors": 2, "cpus_per_actor": 0.5, "ray_num_cpus": 2}


def test_ray_engine_equals_local_engine(tiny_models, tmp_path):
    pytest.importorskip("ray.data")
    jsonl = write_jsonl(tmp_path / "a.jsonl", 7)
    pubtator = write_pubtator(tmp_path / "b.pubtator", 4)
    inputs = [jsonl, pubtator]
    local = annotate(inputs, tmp_path / "local", tiny_models["bi"], to_format="jsonl")
    ray_out = tmp_path / "ray"
    summary = annotate(inputs, ray_out, tiny_models["bi"], to_format="jsonl", **RAY)
    assert summary["engine"] == "ray" and summary["actors"] == 2
    assert summary["documents"] == local["documents"] == 11
    assert summary["shards"] == local["shards"] == 6
    assert summary["entities_per_label"] == local["entities_per_label"]
    a, b = read_output(tmp_path / "local", "jsonl"), read_output(ray_out, "jsonl")
    assert [d.id for d in a] == [d.id for d in b]
    for x, y in zip(a, b, strict=True):
        assert (x.text, x.passages) == (y.text, y.passages)
        assert [(e.start, e.end, e.label) for e in x.entities] == [
            (e.start, e.end, e.label) for e in y.entities
        ]
        assert [e.score for e in x.entities] == pytest.approx(
            [e.score for e in y.entities], abs=1e-5
        )
    # the same manifest: a rerun with the local engine finds every Ray shard finished
    again = annotate(inputs, ray_out, tiny_models["bi"], to_format="jsonl")
    assert again["shards_skipped_finished"] == 6 and again["shards_written_this_run"] == 0
