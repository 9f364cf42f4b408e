"""Training data on disk: records with raw text and character-offset entities."""

from __future__ import annotations

from biomedner.data.records import (
    SpanLabel,
    TrainingRecord,
    iter_records,
    read_records,
    write_records,
)

__all__ = ["SpanLabel", "TrainingRecord", "iter_records", "read_records", "write_records"]
