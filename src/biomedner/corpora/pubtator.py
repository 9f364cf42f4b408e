"""PubTator: ``PMID|t|title`` and ``PMID|a|abstract`` lines, then tab-separated mention lines
``PMID start end text type [ids [extra...]]``; documents separated by blank lines.

The document text is the passages joined by one space, which is the offset convention of the
format. Relation lines (``PMID type arg1 arg2 ...``, as in BC5CDR and BioRED) are kept in
``metadata["relations"]`` and written back. Mention columns after the ids column (BC5CDR composite
mentions) are kept in ``metadata["pubtator_extra_columns"]`` keyed by ``"start:end:type"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from biomedner.corpora._util import checked_entity, iter_lines, parse_int, single_line_field
from biomedner.corpora.document import Document, Passage
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError
from biomedner.io.atomic import write_text_atomic
from biomedner.types import Entity

_PASSAGE = re.compile(r"^([^|\t]+)\|([A-Za-z])\|(.*)$")
_TYPES = {"t": "title", "a": "abstract"}
_NUMBER_LIKE = re.compile(r"^\s*[-+.]?\d")
_LETTERS = {v: k for k, v in _TYPES.items()}


class _Pending:
    def __init__(self, doc_id: str, line: int) -> None:
        self.id = doc_id
        self.line = line
        self.passages: list[tuple[str, str]] = []
        self.mentions: list[tuple[int, list[str]]] = []
        self.relations: list[list[str]] = []


def read_pubtator(path: Path, report: ReadReport) -> list[Document]:
    return list(iter_pubtator(iter_lines(path), path, report))


def iter_pubtator(
    lines: Iterable[tuple[int, str]], path: Path, report: ReadReport
) -> Iterator[Document]:
    """Documents from ``(line number, line)`` pairs, each yielded once its last line is read, so
    a caller can stream a large file."""
    cur: _Pending | None = None
    for lineno, line in lines:
        if not line.strip():
            if cur is not None:
                yield _build(cur, path, report)
            cur = None
            continue
        m = _PASSAGE.match(line)
        if m and "\t" not in line.split("|", 2)[0]:
            doc_id, letter, body = m.groups()
            # a new title, or a passage under another PMID, starts a new document even without
            # the blank separator line some files omit
            if cur is not None and (doc_id != cur.id or (letter == "t" and cur.passages)):
                yield _build(cur, path, report)
                cur = None
            if cur is None:
                cur = _Pending(doc_id, lineno)
            if cur.mentions or cur.relations:
                raise FormatError(
                    f"document {doc_id!r}: passage line after annotation lines", str(path), lineno
                )
            cur.passages.append((_TYPES.get(letter, letter), body))
            continue
        fields = line.split("\t")
        if cur is None:
            raise FormatError("annotation line before any 'PMID|t|title' line", str(path), lineno)
        if fields[0] != cur.id:
            raise FormatError(
                f"annotation line for document {fields[0]!r} inside document {cur.id!r}",
                str(path),
                lineno,
            )
        # a second field that starts like a number marks a mention line (relation lines have a
        # type name there); "12a" or "-3" is a broken offset, an error, not a relation line
        if len(fields) > 1 and _NUMBER_LIKE.match(fields[1]):
            if len(fields) < 5:
                raise FormatError(
                    f"mention line needs 'PMID start end text type', got {len(fields)} fields",
                    str(path),
                    lineno,
                )
            cur.mentions.append((lineno, fields))
        elif len(fields) >= 3:
            cur.relations.append(fields[1:])
            report.add("relation_lines")
        else:
            raise FormatError(
                "expected a passage line 'PMID|t|text', a mention line with at least 5 "
                f"tab-separated fields or a relation line, got {len(fields)} field(s)",
                str(path),
                lineno,
            )
    if cur is not None:
        yield _build(cur, path, report)


def _build(p: _Pending, path: Path, report: ReadReport) -> Document:
    passages: list[Passage] = []
    parts: list[str] = []
    offset = 0
    for ptype, body in p.passages:
        if not body:
            report.add("empty_passages")
            continue
        if parts:
            offset += 1
        passages.append(Passage(offset, body, ptype))
        parts.append(body)
        offset += len(body)
    text = " ".join(parts)
    entities: list[Entity] = []
    extra: dict[str, list[str]] = {}
    for lineno, f in p.mentions:
        start = parse_int(f[1], "start offset", path, lineno)
        end = parse_int(f[2], "end offset", path, lineno)
        label = f[4]
        ids = (f[5],) if len(f) > 5 and f[5] else ()
        entities.append(
            checked_entity(
                text,
                start,
                end,
                label,
                surface=f[3],
                doc_id=p.id,
                path=path,
                line=lineno,
                ids=ids,
                report=report,
            )
        )
        if len(f) > 6:
            extra[f"{start}:{end}:{label}"] = f[6:]
            report.add("extra_mention_columns")
    metadata: dict[str, Any] = {}
    if p.relations:
        metadata["relations"] = p.relations
    if extra:
        metadata["pubtator_extra_columns"] = extra
    return Document(id=p.id, text=text, entities=entities, passages=passages, metadata=metadata)


def _split_title(text: str, passages: list[Passage]) -> tuple[str, str]:
    """Title and abstract such that ``title + " " + abstract == text`` (abstract may be empty,
    then the title is the whole text)."""
    if passages:
        cut = passages[0].end
        if cut < len(text) and text[cut] == " ":
            return text[:cut], text[cut + 1 :]
    return text, ""


def write_pubtator(docs: list[Document], path: Path, report: ReadReport) -> None:
    out: list[str] = []
    for doc in docs:
        single_line_field(doc.id, "document id", doc.id, path)
        if "|" in doc.id:
            raise FormatError(f"document id {doc.id!r} contains '|'", str(path))
        text = doc.text
        if any(c in text for c in "\r\n"):
            # same length, so every offset stays valid; PubTator cannot store line breaks
            report.add("line_breaks_replaced", f"{doc.id}: line breaks written as spaces")
            text = text.replace("\r", " ").replace("\n", " ")
        title, abstract = _split_title(text, doc.passages)
        out.append(f"{doc.id}|t|{title}")
        out.append(f"{doc.id}|a|{abstract}")
        extra = doc.metadata.get("pubtator_extra_columns", {})
        for e in doc.sorted_entities():
            key = f"{e.start}:{e.end}:{e.label}"
            fields = [doc.id, str(e.start), str(e.end), text[e.start : e.end]]
            fields.append(single_line_field(e.label, "label", doc.id, path))
            if e.ids or key in extra:
                fields.append(single_line_field("|".join(e.ids), "ids", doc.id, path))
            fields.extend(extra.get(key, []))
            if e.score is not None:
                report.add("scores_dropped")
            out.append("\t".join(fields))
        for rel in doc.metadata.get("relations", []):
            out.append("\t".join([doc.id, *(str(x) for x in rel)]))
        out.append("")
        report.documents += 1
        report.entities += len(doc.entities)
    write_text_atomic(path, "\n".join(out) + ("\n" if out else ""))
