"""The canonical training record and its JSONL reader/writer.

One record per line::

    {"id": "pmid:123", "text": "BRCA1 mutations raise breast cancer risk.",
     "entities": [{"start": 0, "end": 5, "label": "gene"},
                  {"start": 22, "end": 35, "label": "disease"}],
     "negatives": ["cell line"],
     "provenance": {"source": "synthetic/teacher_v1"}}

Offsets are characters into ``text``, ``end`` exclusive (the package-wide convention). ``negatives``
are labels known to be absent from the text; they must not also label an entity. Tokenization is never
stored, so changing the word splitter cannot desynchronise data and model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from biomedner.errors import FormatError


class SpanLabel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(ge=0)
    end: int = Field(gt=0)
    label: str

    @field_validator("label")
    @classmethod
    def _label_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("label must not be empty")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SpanLabel:
        if self.end <= self.start:
            raise ValueError(f"entity end ({self.end}) must be greater than start ({self.start})")
        return self


class TrainingRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    entities: list[SpanLabel] = Field(default_factory=list)
    negatives: list[str] = Field(default_factory=list)
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("id must not be empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainingRecord:
        n = len(self.text)
        seen: set[tuple[int, int, str]] = set()
        for ent in self.entities:
            if ent.end > n:
                raise ValueError(
                    f"entity [{ent.start}, {ent.end}) {ent.label!r} ends past the text (length {n})"
                )
            if not self.text[ent.start : ent.end].strip():
                raise ValueError(f"entity [{ent.start}, {ent.end}) covers only whitespace")
            key = (ent.start, ent.end, ent.label)
            if key in seen:
                raise ValueError(f"entity [{ent.start}, {ent.end}) {ent.label!r} is listed twice")
            seen.add(key)
        positive = {e.label for e in self.entities}
        clash = sorted(positive.intersection(self.negatives))
        if clash:
            raise ValueError(f"labels {clash} are both entity labels and negatives")
        if len(set(self.negatives)) != len(self.negatives):
            raise ValueError("negatives contain duplicates")
        return self

    def span_text(self, ent: SpanLabel) -> str:
        return self.text[ent.start : ent.end]


def _reason(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "invalid record: " + "; ".join(parts)


def iter_records(path: str | os.PathLike[str]) -> Iterator[TrainingRecord]:
    """Yield records from a JSONL file. Blank lines are skipped; anything else that is not a valid
    record, or repeats an earlier id, raises FormatError naming the file and line."""
    from biomedner.io.jsonl import iter_jsonl

    seen_ids: set[str] = set()
    for lineno, data in iter_jsonl(path):
        try:
            record = TrainingRecord.model_validate(data)
        except ValidationError as exc:
            raise FormatError(_reason(exc), str(path), lineno) from None
        if record.id in seen_ids:
            raise FormatError(f"duplicate record id {record.id!r}", str(path), lineno)
        seen_ids.add(record.id)
        yield record


def read_records(path: str | os.PathLike[str]) -> list[TrainingRecord]:
    return list(iter_records(path))


def record_to_json(record: TrainingRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False)


def write_records(records: Iterable[TrainingRecord], path: str | os.PathLike[str]) -> int:
    """Write records as JSONL atomically (a temp file renamed into place, so a killed run never
    leaves a half-written file behind). Returns the number written."""
    from biomedner.io.jsonl import write_jsonl_atomic

    return write_jsonl_atomic((record.model_dump(mode="json") for record in records), path)
