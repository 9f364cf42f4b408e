"""Corpus documents to and from request bodies, through the ``biomedner.corpora`` readers and
writers (which work on files, so the content passes through a private temporary directory)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from biomedner.corpora import Document, read_with_report, write
from biomedner.errors import FormatError, InputError

_SUFFIX = {"bioc-json": ".json", "pubtator": ".pubtator"}


def read_documents(fmt: str, content: Any) -> tuple[list[Document], Counter[str]]:
    """Documents and the reader's counts (e.g. ``relations`` kept aside). Malformed content
    raises InputError with the reader's reason and line, never a temporary file's name."""
    if fmt == "pubtator" and not isinstance(content, str):
        raise InputError("content: PubTator content must be a string (the file's text)")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    with tempfile.TemporaryDirectory(prefix="biomedner-serve-") as tmp:
        path = Path(tmp) / f"request{_SUFFIX[fmt]}"
        path.write_text(text, encoding="utf-8", newline="")
        try:
            docs, report = read_with_report(path, fmt)
        except FormatError as exc:
            where = f" (line {exc.line})" if exc.line is not None else ""
            raise InputError(f"content is not valid {fmt}{where}: {exc.reason}") from None
    if not docs:
        raise InputError(f"content holds no {fmt} documents")
    return docs, report.counts


def write_documents(fmt: str, docs: list[Document]) -> tuple[str | dict[str, Any], Counter[str]]:
    """The documents in ``fmt`` (BioC JSON as an object) and the writer's counts."""
    with tempfile.TemporaryDirectory(prefix="biomedner-serve-") as tmp:
        path = Path(tmp) / f"response{_SUFFIX[fmt]}"
        try:
            report = write(docs, path, fmt)
        except FormatError as exc:
            raise InputError(f"the documents cannot be written as {fmt}: {exc.reason}") from None
        text = path.read_bytes().decode("utf-8")  # exact characters, no newline translation
    return (json.loads(text) if fmt == "bioc-json" else text), report.counts
