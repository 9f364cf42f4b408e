"""What a streaming reader yields: a document, or a rejected record with where and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from biomedner.corpora import Document


@dataclass(frozen=True)
class Reject:
    """A record that could not be read: ``file``, ``line`` (when the format has lines), the
    document id when it could be read, the reason, and the raw record text when there is one."""

    file: str
    reason: str
    line: int | None = None
    doc_id: str | None = None
    record: str | None = None

    def message(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        doc = (
            f"document {self.doc_id!r}: " if self.doc_id and self.doc_id not in self.reason else ""
        )
        return f"{where}: {doc}{self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reject:
        return cls(**data)


@dataclass(frozen=True)
class Item:
    """One record of a source, in input order. ``byte_end`` is how far into the source it ends
    (a file position for line formats; an even share of the file for whole-file formats)."""

    doc: Document | None
    reject: Reject | None
    byte_start: int
    byte_end: int
