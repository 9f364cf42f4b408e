"""BioC XML <-> the dict shape of :mod:`biomedner.corpora.bioc`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biomedner.corpora.bioc import document_from_bioc, document_to_bioc
from biomedner.corpora.document import Document
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError
from biomedner.io.atomic import atomic_open


def _infons(el: ET.Element) -> dict[str, str]:
    return {i.get("key", ""): i.text or "" for i in el.findall("infon")}


def _annotation(el: ET.Element) -> dict[str, Any]:
    return {
        "id": el.get("id", ""),
        "infons": _infons(el),
        "locations": [
            {"offset": loc.get("offset"), "length": loc.get("length")}
            for loc in el.findall("location")
        ],
        "text": el.findtext("text"),
    }


def _relation(el: ET.Element) -> dict[str, Any]:
    return {
        "id": el.get("id", ""),
        "infons": _infons(el),
        "nodes": [{"refid": n.get("refid"), "role": n.get("role")} for n in el.findall("node")],
    }


def _unit(el: ET.Element) -> dict[str, Any]:
    return {
        "infons": _infons(el),
        "offset": el.findtext("offset", "0"),
        # keep "no <text>" distinct from "<text/>" so sentence-level passages are recognised
        "text": None if el.find("text") is None else (el.findtext("text") or ""),
        "sentences": [_unit(s) for s in el.findall("sentence")],
        "annotations": [_annotation(a) for a in el.findall("annotation")],
        "relations": [_relation(r) for r in el.findall("relation")],
    }


def read_bioc_xml(
    path: Path, report: ReadReport, *, discontinuous: str = "error"
) -> list[Document]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, _col = exc.position
        raise FormatError(f"XML is not well formed: {exc.msg}", str(path), line) from None
    except LookupError as exc:  # an encoding name in the XML declaration Python does not know
        raise FormatError(f"XML declares an unknown encoding ({exc})", str(path), 1) from None
    if root.tag != "collection":
        raise FormatError(f"root element is <{root.tag}>, expected <collection>", str(path), 1)
    return [
        document_from_bioc(_document_dict(d), path, report, discontinuous=discontinuous)
        for d in root.findall("document")
    ]


def iter_bioc_xml(
    path: Path, report: ReadReport, *, discontinuous: str = "error"
) -> Iterator[Document]:
    """The documents of :func:`read_bioc_xml`, one at a time, holding one ``<document>`` element
    in memory (BioC dumps of PMC are gigabytes)."""
    depth = 0
    root: ET.Element | None = None
    try:
        for event, el in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = el
                    if el.tag != "collection":
                        raise FormatError(
                            f"root element is <{el.tag}>, expected <collection>", str(path), 1
                        )
                depth += 1
                continue
            depth -= 1
            if depth == 1 and el.tag == "document":
                yield document_from_bioc(
                    _document_dict(el), path, report, discontinuous=discontinuous
                )
                root.remove(el)  # type: ignore[union-attr]
    except ET.ParseError as exc:
        line, _col = exc.position
        raise FormatError(f"XML is not well formed: {exc.msg}", str(path), line) from None


def _document_dict(d: ET.Element) -> dict[str, Any]:
    return {
        "id": d.findtext("id", ""),
        "infons": _infons(d),
        "passages": [_unit(p) for p in d.findall("passage")],
        "annotations": [_annotation(a) for a in d.findall("annotation")],
        "relations": [_relation(r) for r in d.findall("relation")],
    }


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _write_infons(parent: ET.Element, infons: dict[str, Any]) -> None:
    for k, v in infons.items():
        _sub(parent, "infon", str(v), key=str(k))


def _write_relation(parent: ET.Element, r: dict[str, Any]) -> None:
    rel = _sub(parent, "relation", id=str(r.get("id", "")))
    _write_infons(rel, r.get("infons") or {})
    for n in r.get("nodes") or []:
        _sub(rel, "node", refid=str(n.get("refid", "")), role=str(n.get("role", "")))


def write_bioc_xml(docs: list[Document], path: Path, report: ReadReport) -> None:
    root = ET.Element("collection")
    _sub(root, "source", "biomedner")
    _sub(root, "date", "")
    _sub(root, "key", "BioC.key")
    for doc in docs:
        d = document_to_bioc(doc)
        doc_el = _sub(root, "document")
        _sub(doc_el, "id", d["id"])
        _write_infons(doc_el, d["infons"])
        for p in d["passages"]:
            pe = _sub(doc_el, "passage")
            _write_infons(pe, p["infons"])
            _sub(pe, "offset", str(p["offset"]))
            _sub(pe, "text", p["text"])
            for a in p["annotations"]:
                ae = _sub(pe, "annotation", id=a["id"])
                _write_infons(ae, a["infons"])
                for loc in a["locations"]:
                    _sub(ae, "location", offset=str(loc["offset"]), length=str(loc["length"]))
                _sub(ae, "text", a["text"])
        for r in d["relations"]:
            _write_relation(doc_el, r)
        report.documents += 1
        report.entities += len(doc.entities)
    _check_xml_chars(docs, path)
    body = ET.tostring(root, encoding="unicode")
    with atomic_open(path, newline="") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>")
        fh.write('<!DOCTYPE collection SYSTEM "BioC.dtd">')
        fh.write(body)
        fh.write("\n")


def _check_xml_chars(docs: list[Document], path: Path) -> None:
    # XML 1.0 cannot hold most control characters, and a carriage return inside element text is
    # normalised away by every parser, which would shift offsets on reading back
    for doc in docs:
        for i, c in enumerate(doc.text):
            if (ord(c) < 32 and c not in "\t\n") or c == "\r":
                raise FormatError(
                    f"document {doc.id!r}: character {c!r} at offset {i} cannot be stored in "
                    "BioC XML without changing offsets; use BioC JSON or JSONL",
                    str(path),
                )
