"""Streaming readers: ``iter_items(source)`` yields a source's records one at a time.

JSONL is read line by line and PubTator document by document, so memory stays bounded by one
record whatever the file size; BioC XML is parsed one ``<document>`` at a time; a brat or text
folder one file at a time. BioC JSON, CoNLL and GLiNER JSON have no record boundary a stream can
find cheaply, so they are read one whole file at a time through ``biomedner.corpora``.

A malformed record becomes a :class:`Reject` (file, line, document id, reason) and reading goes
on with the next record where the format allows it; whether a reject stops the run is the
caller's decision."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from biomedner.annotate.lines import Line, iter_file_lines
from biomedner.annotate.records import Item, Reject
from biomedner.annotate.sources import Source
from biomedner.corpora import Document, read
from biomedner.corpora._util import read_text
from biomedner.corpora.bioc_xml import iter_bioc_xml
from biomedner.corpora.brat import ann_files, read_brat
from biomedner.corpora.jsonl import document_from_line
from biomedner.corpora.pubtator import iter_pubtator
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError, InputError

# errors a malformed record can raise inside a reader besides FormatError (a passage that is not
# text fails while the text is joined, a missing key while a dict is read)
_RECORD_ERRORS = (FormatError, InputError, TypeError, ValueError, KeyError, AttributeError)
_PUBTATOR_PASSAGE = re.compile(r"^([^|\t]+)\|([A-Za-z])\|")


def iter_items(source: Source, *, discontinuous: str = "error") -> Iterator[Item]:
    """``discontinuous`` is the policy for input annotations made of several fragments (brat,
    BioC): see :mod:`biomedner.corpora.spans`."""
    path = Path(source.path)
    readers: dict[str, Callable[[Path, str], Iterator[Item]]] = {
        "jsonl": _jsonl,
        "pubtator": _pubtator,
        "bioc-xml": _bioc_xml,
        "brat": _brat,
        "text": _text,
    }
    reader = readers.get(source.format)
    if reader is None:
        yield from _whole_file(path, source.format, discontinuous)
        return
    try:
        yield from reader(path, discontinuous)
    except OSError as exc:
        size = _size(path)
        yield Item(None, Reject(str(path), f"cannot read: {exc.strerror}"), size, size)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _reason(exc: Exception) -> tuple[str, int | None]:
    if isinstance(exc, FormatError):
        return exc.reason, exc.line
    return f"malformed record ({type(exc).__name__}: {exc})", None


def _jsonl(path: Path, _discontinuous: str) -> Iterator[Item]:
    for line in iter_file_lines(path):
        if line.text is None:
            yield Item(None, Reject(str(path), line.error or "", line.number), line.start, line.end)
            continue
        if not line.text.strip():
            continue
        try:
            doc = document_from_line(line.text, path, line.number)
        except _RECORD_ERRORS as exc:
            reason, _ = _reason(exc)
            reject = Reject(str(path), reason, line.number, _json_id(line.text), line.text)
            yield Item(None, reject, line.start, line.end)
            continue
        yield Item(doc, None, line.start, line.end)


def _json_id(text: str) -> str | None:
    try:
        rec = json.loads(text)
    except json.JSONDecodeError:
        return None
    return str(rec["id"]) if isinstance(rec, dict) and "id" in rec else None


def _pubtator_blocks(path: Path) -> Iterator[list[Line]]:
    """The lines of one document at a time, cut where the corpora reader starts a new document
    (a blank line, a title line, a passage line of another PMID)."""
    block: list[Line] = []
    block_id: str | None = None
    for line in iter_file_lines(path):
        text = line.text
        if text is not None and not text.strip():
            if block:
                yield block
            block, block_id = [], None
            continue
        m = _PUBTATOR_PASSAGE.match(text or "")
        if m and block and (m.group(1) != block_id or m.group(2) == "t"):
            yield block
            block, block_id = [], None
        if m and block_id is None:
            block_id = m.group(1)
        block.append(line)
    if block:
        yield block


def _pubtator(path: Path, _discontinuous: str) -> Iterator[Item]:
    for block in _pubtator_blocks(path):
        start, end = block[0].start, block[-1].end
        first = block[0].text or ""
        doc_id = first.split("|", 1)[0].split("\t", 1)[0] or None
        raw = "\n".join(line.text or "" for line in block)
        bad = next((line for line in block if line.text is None), None)
        if bad is not None:
            yield Item(
                None, Reject(str(path), bad.error or "", bad.number, doc_id, raw), start, end
            )
            continue
        pairs = [(line.number, line.text or "") for line in block]
        try:
            docs = list(iter_pubtator(pairs, path, ReadReport(str(path), "pubtator")))
        except (*_RECORD_ERRORS, IndexError) as exc:
            reason, lineno = _reason(exc)
            line_no = lineno if lineno is not None else block[0].number
            yield Item(None, Reject(str(path), reason, line_no, doc_id, raw), start, end)
            continue
        for doc in docs:
            yield Item(doc, None, start, end)


def _bioc_xml(path: Path, discontinuous: str) -> Iterator[Item]:
    size = _size(path)
    docs = iter_bioc_xml(path, ReadReport(str(path), "bioc-xml"), discontinuous=discontinuous)
    # positions inside an XML stream are not exposed: the last document carries the file's size,
    # so progress moves one file at a time
    held: Document | None = None
    while True:
        try:
            doc = next(docs)
        except StopIteration:
            break
        except _RECORD_ERRORS as exc:
            # the parser cannot resume after a broken element: the rest of the file is one reject
            if held is not None:
                yield Item(held, None, 0, 0)
            reason, line = _reason(exc)
            yield Item(None, Reject(str(path), reason, line), 0, size)
            return
        if held is not None:
            yield Item(held, None, 0, 0)
        held = doc
    if held is not None:
        yield Item(held, None, 0, size)


def _brat(path: Path, discontinuous: str) -> Iterator[Item]:
    try:
        anns = ann_files(path)
    except FormatError as exc:
        yield Item(None, Reject(str(path), exc.reason), 0, 0)
        return
    pos = 0
    for ann in anns:
        size = _size(ann) + _size(ann.with_suffix(".txt"))
        start, pos = pos, pos + size
        try:
            (doc,) = read_brat(ann, ReadReport(str(ann), "brat"), discontinuous=discontinuous)
        except _RECORD_ERRORS as exc:
            reason, line = _reason(exc)
            yield Item(None, Reject(str(ann), reason, line, ann.stem), start, pos)
            continue
        yield Item(doc, None, start, pos)


def _text(path: Path, _discontinuous: str) -> Iterator[Item]:
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    pos = 0
    for f in files:
        start, pos = pos, pos + _size(f)
        try:
            doc = Document(id=f.stem, text=read_text(f))
        except _RECORD_ERRORS as exc:
            reason, _ = _reason(exc)
            yield Item(None, Reject(str(f), reason, None, f.stem), start, pos)
            continue
        yield Item(doc, None, start, pos)


def _whole_file(path: Path, fmt: str, discontinuous: str) -> Iterator[Item]:
    size = _size(path)
    try:
        options = {"discontinuous": discontinuous} if fmt == "bioc-json" else {}
        docs = read(path, fmt, **options)
    except _RECORD_ERRORS as exc:
        reason, line = _reason(exc)
        yield Item(None, Reject(str(path), reason, line), 0, size)
        return
    except OSError as exc:
        yield Item(None, Reject(str(path), f"cannot read: {exc.strerror}"), 0, size)
        return
    n = len(docs)
    for i, doc in enumerate(docs):
        yield Item(doc, None, size * i // max(n, 1), size * (i + 1) // max(n, 1))
