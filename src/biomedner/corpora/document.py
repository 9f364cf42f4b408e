"""The corpus document model shared by every reader, writer and the evaluation harness.

A document is the original text plus end-exclusive character-offset entities into that text.
Passages (title, abstract, ...) are optional views with absolute offsets, as in BioC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from biomedner.errors import InputError
from biomedner.types import Entity


@dataclass(frozen=True, slots=True)
class Passage:
    """A named region of a document: ``document.text[offset:offset + len(text)] == text``."""

    offset: int
    text: str
    type: str = ""

    @property
    def end(self) -> int:
        return self.offset + len(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "text": self.text, "type": self.type}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(offset=int(data["offset"]), text=data["text"], type=data.get("type", ""))


@dataclass(slots=True)
class Document:
    """Text with entities. Construction checks every entity and passage against ``text`` and
    raises :class:`InputError` naming the document id, so a misaligned corpus fails early.

    ``metadata`` carries format-specific extras that must survive a round trip (PubTator relation
    lines, GLiNER ``negatives``, ...); it must be JSON-serialisable.
    """

    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id = str(self.id)
        self.entities = list(self.entities)
        self.passages = list(self.passages)
        problem = self.validate()
        if problem is not None:
            raise InputError(f"document {self.id!r}: {problem}")

    def validate(self) -> str | None:
        """Return a description of the first inconsistency, or None when the document is sound."""
        n = len(self.text)
        for ent in self.entities:
            if ent.end > n:
                return (
                    f"entity {ent.text!r} [{ent.start}, {ent.end}) ends past the text (length {n})"
                )
            actual = self.text[ent.start : ent.end]
            if actual != ent.text:
                return (
                    f"entity text {ent.text!r} does not match text[{ent.start}:{ent.end}] "
                    f"= {actual!r}"
                )
        for p in self.passages:
            if p.offset < 0 or self.text[p.offset : p.end] != p.text:
                return f"passage {p.type!r} at offset {p.offset} does not match the document text"
        return None

    def with_entities(self, entities: list[Entity]) -> Document:
        """A copy holding other entities (e.g. predictions) over the same text."""
        return Document(
            id=self.id,
            text=self.text,
            entities=list(entities),
            passages=list(self.passages),
            metadata=dict(self.metadata),
        )

    def sorted_entities(self) -> list[Entity]:
        return sorted(self.entities, key=lambda e: (e.start, e.end, e.label))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict() for e in self.entities],
        }
        if self.passages:
            out["passages"] = [p.to_dict() for p in self.passages]
        if self.metadata:
            out["metadata"] = self.metadata
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            id=str(data["id"]),
            text=data["text"],
            entities=[Entity.from_dict(e) for e in data.get("entities", [])],
            passages=[Passage.from_dict(p) for p in data.get("passages", [])],
            metadata=dict(data.get("metadata") or {}),
        )


def make_entity(
    text: str,
    start: int,
    end: int,
    label: str,
    *,
    score: float | None = None,
    ids: tuple[str, ...] = (),
) -> Entity:
    """An entity whose surface form is taken from ``text`` itself (readers use this when a format
    stores only offsets)."""
    return Entity(start=start, end=end, text=text[start:end], label=label, score=score, ids=ids)
