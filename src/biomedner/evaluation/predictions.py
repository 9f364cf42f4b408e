"""Reading ``biomedner predict`` output for scoring: ``{"id", "entities": [...]}`` lines carry no
text, so each record takes the text of the gold document with the same id, and every predicted
span is checked against that text (a prediction made on another text is an error, not a
plausible score)."""

from __future__ import annotations

import json
from pathlib import Path

from biomedner.corpora import Document
from biomedner.corpora._util import checked_entity
from biomedner.errors import FormatError
from biomedner.io.jsonl import iter_jsonl


def is_predict_output(path: str | Path) -> bool:
    """A JSONL file whose first record has entities and no text: what ``predict`` writes."""
    p = Path(path)
    if not p.is_file() or p.suffix.lower() not in (".jsonl", ".ndjson"):
        return False
    with p.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    first = json.loads(raw)
                except ValueError:
                    return False  # the corpus reader reports it with its line
                return isinstance(first, dict) and "entities" in first and "text" not in first
    return False


def read_predict_output(path: str | Path, gold: list[Document]) -> list[Document]:
    p = Path(path)
    texts = {d.id: d.text for d in gold}
    docs: list[Document] = []
    seen: set[str] = set()
    for line, record in iter_jsonl(p):
        doc_id = record.get("id")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
            raise FormatError("record needs an 'id' (string or integer)", str(p), line)
        doc_id = str(doc_id)
        if doc_id in seen:
            raise FormatError(f"id {doc_id!r} appears twice", str(p), line)
        seen.add(doc_id)
        if doc_id not in texts:
            raise FormatError(
                f"id {doc_id!r} is not a document of the gold file; predictions must use the "
                "gold documents' ids",
                str(p),
                line,
            )
        raw_entities = record.get("entities")
        if not isinstance(raw_entities, list):
            raise FormatError("'entities' must be a list", str(p), line)
        entities = []
        for item in raw_entities:
            if not isinstance(item, dict):
                raise FormatError(f"entity {item!r} is not an object", str(p), line)
            start, end, label = item.get("start"), item.get("end"), item.get("label")
            if not (_is_int(start) and _is_int(end) and isinstance(label, str)):
                raise FormatError(
                    f"entity {item!r} needs integer 'start', 'end' and a string 'label'",
                    str(p),
                    line,
                )
            surface = item.get("text")
            score = item.get("score")
            entities.append(
                checked_entity(
                    texts[doc_id],
                    start,
                    end,
                    label,
                    surface=surface if isinstance(surface, str) else None,
                    doc_id=doc_id,
                    path=p,
                    line=line,
                    score=float(score) if isinstance(score, int | float) else None,
                )
            )
        docs.append(Document(id=doc_id, text=texts[doc_id], entities=entities))
    return docs


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
