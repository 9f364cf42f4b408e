"""GLiNER training data: a JSON list (or JSON lines) of
``{"tokenized_text": [...], "ner": [[first_word, last_word_inclusive, label], ...]}``.

The text of a record is its tokens joined by single spaces. Keys other than ``tokenized_text``
and ``ner`` (``negatives``, ids, ...) are kept in ``metadata`` and written back. Writing splits
the text at whitespace and again at entity boundaries, so every entity is whole words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biomedner.corpora._util import read_text
from biomedner.corpora.conll import split_tokens
from biomedner.corpora.document import Document
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError
from biomedner.io.atomic import atomic_open
from biomedner.types import Entity


def _records(path: Path) -> list[tuple[int | None, Any]]:
    raw = read_text(path)
    stripped = raw.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FormatError(f"invalid JSON: {exc.msg}", str(path), exc.lineno) from None
        return [(None, r) for r in data]
    out = []
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((lineno, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise FormatError(f"invalid JSON line: {exc.msg}", str(path), lineno) from None
    return out


def read_gliner(path: Path, report: ReadReport) -> list[Document]:
    docs = []
    for n, (lineno, rec) in enumerate(_records(path)):
        where = f"record {n}"
        if not isinstance(rec, dict) or not isinstance(rec.get("tokenized_text"), list):
            raise FormatError(
                f"{where}: expected an object with a 'tokenized_text' list", str(path), lineno
            )
        tokens = rec["tokenized_text"]
        starts, pos = [], 0
        for tok in tokens:
            if not isinstance(tok, str) or not tok or any(c.isspace() for c in tok):
                raise FormatError(
                    f"{where}: token {tok!r} is empty, not a string or has spaces",
                    str(path),
                    lineno,
                )
            starts.append(pos)
            pos += len(tok) + 1
        text = " ".join(tokens)
        entities = []
        for item in rec.get("ner", []):
            if not (isinstance(item, list | tuple) and len(item) >= 3):
                raise FormatError(
                    f"{where}: ner item {item!r} is not [start, end, label]", str(path), lineno
                )
            a, b, label = item[0], item[1], item[2]
            if not (isinstance(a, int) and isinstance(b, int) and 0 <= a <= b < len(tokens)):
                raise FormatError(
                    f"{where}: word span [{a}, {b}] (inclusive) is outside 0..{len(tokens) - 1}",
                    str(path),
                    lineno,
                )
            s, e = starts[a], starts[b] + len(tokens[b])
            entities.append(Entity(s, e, text[s:e], str(label)))
        meta = {k: v for k, v in rec.items() if k not in ("tokenized_text", "ner")}
        doc_id = str(meta.pop("id", n))
        docs.append(Document(doc_id, text, entities, metadata=meta))
    return docs


def to_gliner_record(doc: Document) -> dict[str, Any]:
    spans = split_tokens(doc.text, [(e.start, e.end) for e in doc.entities])
    start_idx = {s: i for i, (s, _) in enumerate(spans)}
    end_idx = {e: i for i, (_, e) in enumerate(spans)}
    ner = []
    for e in doc.sorted_entities():
        if e.start not in start_idx or e.end not in end_idx:
            raise FormatError(
                f"document {doc.id!r}: entity {e.text!r} begins or ends with whitespace, so it "
                "cannot be expressed in words"
            )
        ner.append([start_idx[e.start], end_idx[e.end], e.label])
    return {
        "id": doc.id,
        "tokenized_text": [doc.text[s:e] for s, e in spans],
        "ner": ner,
        **{k: v for k, v in doc.metadata.items() if k not in ("id", "tokenized_text", "ner")},
    }


def write_gliner(docs: list[Document], path: Path, report: ReadReport) -> None:
    records = [to_gliner_record(d) for d in docs]
    report.documents += len(docs)
    report.entities += sum(len(d.entities) for d in docs)
    if any(e.score is not None for d in docs for e in d.entities):
        report.add("scores_dropped")
    with atomic_open(path, newline="") as fh:
        json.dump(records, fh, ensure_ascii=False)
        fh.write("\n")
