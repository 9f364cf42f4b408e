"""What a reader did besides returning documents: counts of everything it skipped, repaired or
split, so nothing is dropped silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from biomedner.logging import get_logger

_log = get_logger(__name__)

# Notes are capped so a corpus with thousands of repairs does not produce a huge report.
_MAX_NOTES = 50


@dataclass
class ReadReport:
    """``counts`` keys are stable names (e.g. ``relation_lines``, ``discontinuous_entities``);
    ``notes`` are the first few human-readable details (file:line: what happened)."""

    path: str = ""
    format: str = ""
    documents: int = 0
    entities: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, note: str | None = None, n: int = 1) -> None:
        self.counts[key] += n
        if note is not None and len(self.notes) < _MAX_NOTES:
            self.notes.append(note)

    def merge(self, other: ReadReport) -> None:
        self.documents += other.documents
        self.entities += other.entities
        self.counts.update(other.counts)
        room = _MAX_NOTES - len(self.notes)
        if room > 0:
            self.notes.extend(other.notes[:room])

    def log(self) -> None:
        if self.counts:
            _log.info("read %s (%s): %s", self.path, self.format, dict(self.counts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "documents": self.documents,
            "entities": self.entities,
            "counts": dict(self.counts),
            "notes": list(self.notes),
        }
