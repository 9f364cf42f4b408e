"""BioC documents as plain dicts (the BioC JSON shape); the XML and JSON modules only translate
between this shape and their syntax.

Annotation offsets in BioC are absolute, so the document text is the passages placed at their
offsets, with any gap filled by spaces. The ``type`` infon is the label, ``identifier`` holds the
normalisation ids, and a ``score`` infon (written by biomedner for predictions) is read back.
A document whose ``metadata["annotator"]`` names a model writes it as the ``annotator`` infon of
every scored (predicted) annotation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from biomedner.corpora._util import checked_entity
from biomedner.corpora.document import Document, Passage
from biomedner.corpora.report import ReadReport
from biomedner.corpora.spans import resolve_fragments
from biomedner.errors import FormatError
from biomedner.types import Entity

_KNOWN_INFONS = {"type", "identifier", "score", "annotator"}


def _as_int(value: Any, what: str, path: Path, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: {what} {value!r} is not an integer", str(path)) from None


def document_from_bioc(
    d: dict[str, Any], path: Path, report: ReadReport, *, discontinuous: str = "error"
) -> Document:
    doc_id = str(d.get("id", ""))
    if not doc_id:
        raise FormatError("BioC document without an id", str(path))
    units: list[tuple[int, str, str]] = []
    raw_annotations: list[dict[str, Any]] = []
    for p in d.get("passages", []):
        ptype = str((p.get("infons") or {}).get("type", ""))
        p_off = _as_int(p.get("offset", 0), "passage offset", path, f"document {doc_id!r}")
        raw_annotations.extend(p.get("annotations") or [])
        if p.get("text") is not None:
            units.append((p_off, p["text"], ptype))
        for s in p.get("sentences") or []:
            s_off = _as_int(s.get("offset", 0), "sentence offset", path, f"document {doc_id!r}")
            if s.get("text") is not None and p.get("text") is None:
                units.append((s_off, s["text"], "sentence"))
            raw_annotations.extend(s.get("annotations") or [])
        if p.get("relations"):
            report.add("relations", n=len(p["relations"]))
    raw_annotations.extend(d.get("annotations") or [])

    parts: list[str] = []
    length = 0
    passages: list[Passage] = []
    for off, text, ptype in sorted(units, key=lambda u: u[0]):
        if off < length:
            raise FormatError(
                f"document {doc_id!r}: passage at offset {off} overlaps the previous passage "
                f"(which ends at {length})",
                str(path),
            )
        parts.append(" " * (off - length))
        parts.append(text)
        length = off + len(text)
        if text:
            passages.append(Passage(off, text, ptype))
    full = "".join(parts)

    entities: list[Entity] = []
    for a in raw_annotations:
        infons = a.get("infons") or {}
        where = f"document {doc_id!r} annotation {a.get('id', '?')!r}"
        label = infons.get("type")
        if not label:
            raise FormatError(f"{where}: annotation has no 'type' infon", str(path))
        frags = [
            (
                _as_int(loc.get("offset"), "location offset", path, where),
                _as_int(loc.get("offset"), "location offset", path, where)
                + _as_int(loc.get("length"), "location length", path, where),
            )
            for loc in a.get("locations") or []
        ]
        if not frags:
            raise FormatError(f"{where}: annotation has no location", str(path))
        ids = tuple(x for x in [str(infons.get("identifier", "") or "")] if x)
        score = infons.get("score")
        score_f = None if score in (None, "") else float(score)
        if set(infons) - _KNOWN_INFONS:
            report.add("annotation_infons_dropped")
        surface = a.get("text") if len(frags) == 1 else None
        for start, end in resolve_fragments(
            frags, discontinuous, where=where, path=path, line=None, report=report
        ):
            entities.append(
                checked_entity(
                    full,
                    start,
                    end,
                    str(label),
                    surface=surface,
                    doc_id=doc_id,
                    path=path,
                    line=None,
                    ids=ids,
                    score=score_f,
                    report=report,
                )
            )
    metadata: dict[str, Any] = {}
    if d.get("infons"):
        metadata["infons"] = dict(d["infons"])
    if d.get("relations"):
        metadata["bioc_relations"] = list(d["relations"])
        report.add("relations", n=len(d["relations"]))
    return Document(doc_id, full, entities, passages, metadata)


def _layout(doc: Document) -> list[Passage]:
    """Passages that rebuild the text exactly under the reader's rule (gaps are spaces);
    otherwise one passage holding the whole text."""
    pos = 0
    ok = bool(doc.passages)
    for p in sorted(doc.passages, key=lambda p: p.offset):
        if p.offset < pos or doc.text[pos : p.offset].strip(" "):
            ok = False
            break
        pos = p.end
    if ok and not doc.text[pos:].strip(" ") and pos == len(doc.text):
        return sorted(doc.passages, key=lambda p: p.offset)
    return [Passage(0, doc.text, "text")]


def document_to_bioc(doc: Document) -> dict[str, Any]:
    passages = _layout(doc)
    out_passages: list[dict[str, Any]] = [
        {
            "offset": p.offset,
            "infons": {"type": p.type} if p.type else {},
            "text": p.text,
            "sentences": [],
            "annotations": [],
            "relations": [],
        }
        for p in passages
    ]
    for i, e in enumerate(doc.sorted_entities()):
        home = 0
        for k, p in enumerate(passages):
            if p.offset <= e.start < p.end:
                home = k
        infons: dict[str, str] = {"type": e.label}
        if e.ids:
            infons["identifier"] = ",".join(e.ids)
        if e.score is not None:
            infons["score"] = repr(float(e.score))
            if doc.metadata.get("annotator"):
                infons["annotator"] = str(doc.metadata["annotator"])
        out_passages[home]["annotations"].append(
            {
                "id": str(i),
                "infons": infons,
                "locations": [{"offset": e.start, "length": e.end - e.start}],
                "text": e.text,
            }
        )
    return {
        "id": doc.id,
        "infons": dict(doc.metadata.get("infons", {})),
        "passages": out_passages,
        "annotations": [],
        "relations": list(doc.metadata.get("bioc_relations", [])),
    }
