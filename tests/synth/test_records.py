"""The canonical training record and its JSONL reader/writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomedner.data import SpanLabel, TrainingRecord, read_records, write_records
from biomedner.errors import FormatError

TEXT = "Imatinib inhibits BCR-ABL in chronic myeloid leukemia."


def _record(**kw: object) -> TrainingRecord:
    data: dict[str, object] = {
        "id": "r1",
        "text": TEXT,
        "entities": [
            {"start": 0, "end": 8, "label": "drug"},
            {"start": 18, "end": 25, "label": "gene"},
        ],
    }
    data.update(kw)
    return TrainingRecord.model_validate(data)


def test_roundtrip(tmp_path: Path) -> None:
    rec = _record(negatives=["cell line"], provenance={"source": "handwritten"})
    assert [rec.span_text(e) for e in rec.entities] == ["Imatinib", "BCR-ABL"]
    n = write_records([rec, _record(id="r2", entities=[])], tmp_path / "r.jsonl")
    assert n == 2
    back = read_records(tmp_path / "r.jsonl")
    assert back[0] == rec and back[1].entities == []
    assert json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0]) == {
        "id": "r1",
        "text": TEXT,
        "entities": [
            {"start": 0, "end": 8, "label": "drug"},
            {"start": 18, "end": 25, "label": "gene"},
        ],
        "negatives": ["cell line"],
        "provenance": {"source": "handwritten"},
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entities": [{"start": 30, "end": 99, "label": "x"}]}, "ends past the text"),
        ({"entities": [{"start": 5, "end": 5, "label": "x"}]}, "greater than start"),
        ({"entities": [{"start": -1, "end": 3, "label": "x"}]}, "greater than or equal to 0"),
        ({"entities": [{"start": 0, "end": 8, "label": " "}]}, "label must not be empty"),
        ({"entities": [{"start": 8, "end": 9, "label": "x"}]}, "only whitespace"),
        ({"entities": [{"start": 0, "end": 8, "label": "drug", "score": 1}]}, "Extra inputs"),
        ({"negatives": ["drug"]}, "both entity labels and negatives"),
        ({"id": ""}, "id must not be empty"),
        ({"comment": "x"}, "Extra inputs"),
    ],
)
def test_invalid_records_name_file_and_line(tmp_path: Path, change: dict, message: str) -> None:
    good = _record().model_dump()
    bad = {**good, "id": "r2", **change}
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(FormatError, match=message) as err:
        read_records(path)
    assert err.value.path == str(path) and err.value.line == 3


def test_duplicate_ids_and_bad_json(tmp_path: Path) -> None:
    good = json.dumps(_record().model_dump())
    path = tmp_path / "r.jsonl"
    path.write_text(good + "\n" + good + "\n")
    with pytest.raises(FormatError, match=r"r\.jsonl:2: duplicate record id 'r1'"):
        read_records(path)
    path.write_text(good + "\n{not json\n")
    with pytest.raises(FormatError, match=r":2: not valid JSON"):
        read_records(path)
    path.write_text("[1, 2]\n")
    with pytest.raises(FormatError, match=r":1: each line must be a JSON object"):
        read_records(path)


def test_duplicate_entity_is_rejected() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        _record(entities=[SpanLabel(start=0, end=8, label="drug")] * 2)
