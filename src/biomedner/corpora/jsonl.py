"""biomedner JSONL, the canonical form: one ``{"id", "text", "entities": [{start, end, text,
label, score?, ids?}], "passages"?, "metadata"?}`` object per line (``Document.to_dict``)."""

from __future__ import annotations

import json
from pathlib import Path

from biomedner.corpora._util import read_text
from biomedner.corpora.document import Document
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError, InputError
from biomedner.io.atomic import atomic_open

_KEYS = {"id", "text", "entities", "passages", "metadata"}
_ENTITY_KEYS = {"start", "end", "text", "label", "score", "ids"}


def read_jsonl(path: Path, report: ReadReport) -> list[Document]:
    docs = []
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        docs.append(document_from_line(line, path, lineno))
    return docs


def document_from_line(line: str, path: Path, lineno: int) -> Document:
    """One JSONL line as a Document; FormatError (file, line, reason) when it is not one. Streaming
    readers call this record by record."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg}", str(path), lineno) from None
    if not isinstance(rec, dict) or "text" not in rec or not isinstance(rec["text"], str):
        raise FormatError("expected an object with a 'text' string", str(path), lineno)
    if "id" not in rec:
        raise FormatError("record has no 'id'", str(path), lineno)
    unknown = set(rec) - _KEYS
    if unknown:
        raise FormatError(f"unknown keys {sorted(unknown)}", str(path), lineno)
    for ent in rec.get("entities", []):
        if not isinstance(ent, dict) or not {"start", "end", "label"} <= set(ent):
            raise FormatError(f"entity {ent!r} needs 'start', 'end' and 'label'", str(path), lineno)
        if set(ent) - _ENTITY_KEYS:
            raise FormatError(
                f"entity has unknown keys {sorted(set(ent) - _ENTITY_KEYS)}", str(path), lineno
            )
        if "text" not in ent:
            # the surface form is optional on input; it is always written
            s, e = ent["start"], ent["end"]
            ent["text"] = rec["text"][s:e] if isinstance(s, int) and isinstance(e, int) else ""
    try:
        return Document.from_dict(rec)
    except (InputError, ValueError, TypeError) as exc:
        raise FormatError(str(exc), str(path), lineno) from None


def write_jsonl(docs: list[Document], path: Path, report: ReadReport) -> None:
    with atomic_open(path, newline="") as fh:
        for d in docs:
            fh.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
            report.documents += 1
            report.entities += len(d.entities)
