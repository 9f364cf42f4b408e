"""Biomedical corpus formats read into, and written from, one document model."""

from __future__ import annotations

from biomedner.corpora.document import Document, Passage
from biomedner.corpora.io import FORMATS, guess_format, read, read_with_report, write
from biomedner.corpora.report import ReadReport

__all__ = [
    "FORMATS",
    "Document",
    "Passage",
    "ReadReport",
    "guess_format",
    "read",
    "read_with_report",
    "write",
]
