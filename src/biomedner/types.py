"""The public value types. One span convention: character offsets into the original text,
``end`` exclusive, so ``text[start:end] == entity.text`` always holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DecodeMode = Literal["flat", "nested", "multi_label"]
DECODE_MODES: tuple[str, ...] = ("flat", "nested", "multi_label")


@dataclass(frozen=True, slots=True)
class Entity:
    """A typed mention: ``text == document[start:end]``; ``score`` is None for gold annotations;
    ``ids`` holds normalisation identifiers (e.g. MeSH ids) when a corpus provides them."""

    start: int
    end: int
    text: str
    label: str
    score: float | None = None
    ids: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise ValueError(
                f"entity offsets must satisfy 0 <= start < end, got start={self.start} end={self.end}"
            )
        if len(self.text) != self.end - self.start:
            raise ValueError(
                f"entity text {self.text!r} has length {len(self.text)} but its offsets "
                f"[{self.start}, {self.end}) span {self.end - self.start} characters"
            )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.score is None:
            del out["score"]
        if not self.ids:
            del out["ids"]
        else:
            out["ids"] = list(self.ids)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entity:
        return cls(
            start=int(data["start"]),
            end=int(data["end"]),
            text=data["text"],
            label=data["label"],
            score=None if data.get("score") is None else float(data["score"]),
            ids=tuple(data.get("ids") or ()),
        )
