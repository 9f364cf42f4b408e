"""Corpus readers: PubMed XML, plain text, CSV and JSONL -> :class:`CorpusDoc`.

A source is one path (a file or a folder, read recursively in name order) with one name; balanced
sampling later works per source. The format is taken from the file name unless given
(``.xml``/``.xml.gz`` PubMed, ``.txt``, ``.csv``/``.tsv``, ``.jsonl``). For CSV and JSONL the text
column is ``text_field`` or the first present of :data:`TEXT_FIELDS`; an id column is used when
present, otherwise the id is a hash of the text (the convention of ``synthetic/teacher_v1``).
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from biomedner.errors import FormatError
from biomedner.io.jsonl import iter_jsonl
from biomedner.synth.pubmed import PubmedArticle, PubmedDeletion, iter_pubmed_xml

TEXT_FIELDS = ("text", "abstract", "medical_abstract", "body", "content")
ID_FIELDS = ("id", "doc_id", "pmid", "PMID")
PMID_FIELDS = ("pmid", "PMID")

SourceFormat = Literal["auto", "pubmed", "txt", "csv", "jsonl"]


@dataclass(frozen=True)
class CorpusDoc:
    id: str
    text: str
    source: str
    pmid: str | None = None
    title: str | None = None
    date: str | None = None
    mesh: tuple[str, ...] = ()
    has_abstract: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "source": self.source, "text": self.text}
        if self.pmid:
            out["pmid"] = self.pmid
        if self.title:
            out["title"] = self.title
        if self.date:
            out["date"] = self.date
        if self.mesh:
            out["mesh"] = list(self.mesh)
        return out


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    name: str | None = None
    format: SourceFormat = "auto"
    text_field: str | None = None
    id_field: str | None = None
    pmid_field: str | None = None
    txt_split: Literal["file", "line", "blank_line"] = "file"
    include_title: bool = True

    @classmethod
    def parse(cls, value: str) -> SourceSpec:
        """``"NAME=PATH"`` or ``"PATH"`` (name = file stem)."""
        if "=" in value and not Path(value).exists():
            name, path = value.split("=", 1)
            return cls(path=path, name=name)
        return cls(path=value)

    @property
    def source_name(self) -> str:
        if self.name:
            return self.name
        p = Path(self.path)
        name = p.name
        for suffix in (".gz", ".xml", ".jsonl", ".csv", ".tsv", ".txt"):
            name = name.removesuffix(suffix)
        return name


@dataclass
class ReadStats:
    counts: Counter[str] = field(default_factory=Counter)
    deleted_pmids: set[str] = field(default_factory=set)


def text_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def detect_format(path: Path) -> SourceFormat | None:
    name = path.name.lower()
    if name.endswith((".xml", ".xml.gz")):
        return "pubmed"
    if name.endswith(".txt"):
        return "txt"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith(".jsonl"):
        return "jsonl"
    return None


def _files(spec: SourceSpec, stats: ReadStats | None = None) -> list[tuple[Path, SourceFormat]]:
    """The files of a source. A file is read in the given format (or the one its name implies);
    in a folder, files of other formats (README, licences, a .txt beside PubMed XML) are skipped
    and counted as ``files_skipped``."""
    root = Path(spec.path)
    if not root.exists():
        raise FileNotFoundError(f"source {spec.source_name!r}: {root} does not exist")
    if root.is_file():
        fmt = spec.format if spec.format != "auto" else detect_format(root)
        if fmt is None:
            raise FormatError(
                "cannot tell the format from the file name; set format= (pubmed, txt, csv, jsonl)",
                str(root),
            )
        return [(root, fmt)]
    out: list[tuple[Path, SourceFormat]] = []
    for p in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        fmt = detect_format(p)
        if fmt is None or (spec.format != "auto" and fmt != spec.format):
            if stats is not None:
                stats.counts["files_skipped"] += 1
            continue
        out.append((p, fmt))
    return out


def _pick(fields: list[str] | None, wanted: str | None, defaults: tuple[str, ...]) -> str | None:
    fields = fields or []
    if wanted is not None:
        return wanted if wanted in fields else None
    return next((f for f in defaults if f in fields), None)


def _read_pubmed(path: Path, spec: SourceSpec, stats: ReadStats) -> Iterator[CorpusDoc]:
    for item in iter_pubmed_xml(path):
        if isinstance(item, PubmedDeletion):
            stats.counts["pubmed_deletions"] += len(item.pmids)
            stats.deleted_pmids.update(item.pmids)
            continue
        if not isinstance(item, PubmedArticle):
            stats.counts[f"pubmed_skipped_{item.kind}"] += 1
            continue
        stats.counts["pubmed_articles"] += 1
        if not item.has_abstract:
            stats.counts["pubmed_without_abstract"] += 1
        yield CorpusDoc(
            id=f"pmid:{item.pmid}",
            text=item.text(spec.include_title),
            source=spec.source_name,
            pmid=item.pmid,
            title=item.title or None,
            date=item.date,
            mesh=item.mesh,
            has_abstract=item.has_abstract,
        )


def _read_txt(path: Path, spec: SourceSpec) -> Iterator[CorpusDoc]:
    content = path.read_text(encoding="utf-8")
    if spec.txt_split == "file":
        chunks = [content.strip()]
    elif spec.txt_split == "line":
        chunks = [line.strip() for line in content.splitlines()]
    else:
        chunks = [" ".join(block.split()) for block in content.split("\n\n")]
    for i, chunk in enumerate(c for c in chunks if c):
        doc_id = path.stem if spec.txt_split == "file" else f"{path.stem}:{i + 1}"
        yield CorpusDoc(id=doc_id, text=chunk, source=spec.source_name)


def _read_csv(path: Path, spec: SourceSpec) -> Iterator[CorpusDoc]:
    # abstracts can exceed the csv module's default 128 KiB field limit
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        fields = list(reader.fieldnames or [])
        text_col = _pick(fields, spec.text_field, TEXT_FIELDS)
        if text_col is None:
            raise FormatError(
                f"no text column (looked for {spec.text_field or ', '.join(TEXT_FIELDS)}; "
                f"columns are {', '.join(fields)}); set text_field",
                str(path),
                1,
            )
        id_col = _pick(fields, spec.id_field, ID_FIELDS)
        pmid_col = _pick(fields, spec.pmid_field, PMID_FIELDS)
        for row_no, row in enumerate(reader, start=2):
            if None in row:
                raise FormatError("row has more fields than the header", str(path), row_no)
            text = (row.get(text_col) or "").strip()
            if not text:
                yield CorpusDoc(id=f"{path.stem}:{row_no}", text="", source=spec.source_name)
                continue
            yield _doc(
                text,
                spec,
                row.get(id_col) if id_col else None,
                row.get(pmid_col) if pmid_col else None,
            )


def _doc(text: str, spec: SourceSpec, raw_id: Any, raw_pmid: Any, title: Any = None) -> CorpusDoc:
    pmid = str(raw_pmid).strip() if raw_pmid not in (None, "") else None
    doc_id = str(raw_id).strip() if raw_id not in (None, "") else None
    if doc_id is None:
        doc_id = f"pmid:{pmid}" if pmid else text_id(text)
    return CorpusDoc(
        id=doc_id,
        text=text,
        source=spec.source_name,
        pmid=pmid,
        title=title if isinstance(title, str) and title else None,
    )


def _read_jsonl(path: Path, spec: SourceSpec) -> Iterator[CorpusDoc]:
    text_key: str | None = None
    for line, data in iter_jsonl(path):
        key = spec.text_field or text_key or _pick(list(data), None, TEXT_FIELDS)
        if key is None or key not in data:
            raise FormatError(
                f"no text field (looked for {spec.text_field or ', '.join(TEXT_FIELDS)}); "
                "set text_field",
                str(path),
                line,
            )
        text_key = key
        text = data[key]
        if not isinstance(text, str):
            raise FormatError(f"field {key!r} must be a string", str(path), line)
        id_key = _pick(list(data), spec.id_field, ID_FIELDS)
        pmid_key = _pick(list(data), spec.pmid_field, PMID_FIELDS)
        doc = _doc(
            text.strip(),
            spec,
            data.get(id_key) if id_key else None,
            data.get(pmid_key) if pmid_key else None,
            data.get("title"),
        )
        if not spec.name and isinstance(data.get("source"), str) and data["source"]:
            doc = CorpusDoc(**{**doc.__dict__, "source": data["source"]})
        yield doc


def read_source(spec: SourceSpec, stats: ReadStats | None = None) -> Iterator[CorpusDoc]:
    """Every document of one source, in file order. Empty texts are yielded too (quality filters
    count them); PubMed deletions are collected in ``stats.deleted_pmids``."""
    stats = stats if stats is not None else ReadStats()
    for path, fmt in _files(spec, stats):
        stats.counts["files"] += 1
        if fmt == "pubmed":
            yield from _read_pubmed(path, spec, stats)
        elif fmt == "txt":
            yield from _read_txt(path, spec)
        elif fmt == "csv":
            yield from _read_csv(path, spec)
        else:
            yield from _read_jsonl(path, spec)
