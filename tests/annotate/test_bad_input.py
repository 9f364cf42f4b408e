"""A bad record stops the run naming file, line, document and reason, keeping finished shards;
``on_error="skip"`` writes it to rejects.jsonl and counts it. Nothing is dropped silently."""

from __future__ import annotations

import json

import pytest

from biomedner.annotate import AnnotateStopped
from tests.annotate.conftest import write_jsonl
from tests.annotate.helpers import annotate, read_output


def _jsonl_with_bad_line(path):
    write_jsonl(path, 5)
    lines = path.read_text().splitlines()
    lines.insert(4, '{"id": "broken", "text": "no closing brace"')
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_json_line_stops_and_keeps_finished_shards(tiny_models, tmp_path):
    src = _jsonl_with_bad_line(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    with pytest.raises(AnnotateStopped, match=r"in\.jsonl:5: invalid JSON") as info:
        annotate([src], out, tiny_models["uni"])
    assert info.value.finished == 2
    assert sorted(p.name for p in (out / "shards").iterdir()) == [
        "00000-000000.jsonl",
        "00000-000001.jsonl",
    ]
    assert [d.id for d in read_output(out, "jsonl")] == ["doc0", "doc1", "doc2", "doc3"]
    assert not (out / "rejects.jsonl").exists()


def test_skip_writes_rejects_and_counts_them(tiny_models, tmp_path):
    src = _jsonl_with_bad_line(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    summary = annotate([src], out, tiny_models["uni"], on_error="skip")
    assert summary["rejects"] == 1 and summary["documents"] == 5
    (reject,) = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert reject["file"] == str(src) and reject["line"] == 5 and reject["doc_id"] is None
    assert reject["reason"].startswith("invalid JSON") and "no closing brace" in reject["record"]
    assert [d.id for d in read_output(out, "jsonl")] == [f"doc{i}" for i in range(5)]
    # the reject counts toward its shard, so resuming re-reads the same shards
    again = annotate([src], out, tiny_models["uni"], on_error="skip")
    assert again["shards_skipped_finished"] == 3 and again["rejects"] == 1


def test_pubtator_offsets_outside_the_text(tiny_models, tmp_path):
    src = tmp_path / "in.pubtator"
    src.write_text(
        "1|t|Insulin works.\n1|a|Yes.\n1\t0\t7\tInsulin\tChemical\n\n"
        "2|t|Aspirin too.\n2|a|\n2\t40\t47\tAspirin\tChemical\n\n"
        "3|t|Cancer.\n3|a|\n",
        encoding="utf-8",
    )
    with pytest.raises(AnnotateStopped, match=r"in\.pubtator:7: document '2': offsets \[40, 47\)"):
        annotate([src], tmp_path / "stop", tiny_models["uni"], shard_size=1, to_format="jsonl")
    summary = annotate([src], tmp_path / "skip", tiny_models["uni"], shard_size=1, on_error="skip")
    assert summary["rejects"] == 1 and summary["documents"] == 2
    (reject,) = [
        json.loads(x) for x in (tmp_path / "skip" / "rejects.jsonl").read_text().split("\n") if x
    ]
    assert reject["doc_id"] == "2" and reject["line"] == 7 and reject["record"].startswith("2|t|")
    assert [d.id for d in read_output(tmp_path / "skip", "pubtator")] == ["1", "3"]


def test_bioc_json_passage_that_is_not_text(tiny_models, tmp_path):
    src = tmp_path / "in.json"
    doc = {"id": "p1", "passages": [{"offset": 0, "text": 42, "annotations": []}]}
    src.write_text(json.dumps({"source": "", "documents": [doc]}), encoding="utf-8")
    with pytest.raises(AnnotateStopped, match=r"in\.json: malformed record"):
        annotate([src], tmp_path / "out", tiny_models["uni"])


def test_unreadable_file_is_named(tiny_models, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "\xff\xfe"}\n')
    with pytest.raises(AnnotateStopped, match=r"in\.jsonl:2: not valid UTF-8"):
        annotate([src], tmp_path / "out", tiny_models["uni"], shard_size=1)
    assert [d.id for d in read_output(tmp_path / "out", "jsonl")] == ["a"]
