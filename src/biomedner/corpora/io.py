"""One entry point for every corpus format: ``read(path, format)`` and ``write(docs, path,
format)``. Format-specific options pass through as keyword arguments (e.g. ``discontinuous=``
for brat and BioC, ``columns=``/``scheme=`` for CoNLL)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from biomedner.corpora.bioc_json import read_bioc_json, write_bioc_json
from biomedner.corpora.bioc_xml import read_bioc_xml, write_bioc_xml
from biomedner.corpora.brat import read_brat, write_brat
from biomedner.corpora.conll import read_conll, write_conll
from biomedner.corpora.document import Document
from biomedner.corpora.gliner_json import read_gliner, write_gliner
from biomedner.corpora.jsonl import read_jsonl, write_jsonl
from biomedner.corpora.pubtator import read_pubtator, write_pubtator
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError, InputError

_READERS: dict[str, Callable[..., list[Document]]] = {
    "pubtator": read_pubtator,
    "bioc-xml": read_bioc_xml,
    "bioc-json": read_bioc_json,
    "brat": read_brat,
    "conll": read_conll,
    "gliner": read_gliner,
    "jsonl": read_jsonl,
}
_WRITERS: dict[str, Callable[[list[Document], Path, ReadReport], None]] = {
    "pubtator": write_pubtator,
    "bioc-xml": write_bioc_xml,
    "bioc-json": write_bioc_json,
    "brat": write_brat,
    "conll": write_conll,
    "gliner": write_gliner,
    "jsonl": write_jsonl,
}
FORMATS: tuple[str, ...] = tuple(_READERS)

_SUFFIXES = {
    ".pubtator": "pubtator",
    ".xml": "bioc-xml",
    ".jsonl": "jsonl",
    ".tsv": "conll",
    ".conll": "conll",
    ".iob": "conll",
    ".iob2": "conll",
    ".bio": "conll",
    ".ann": "brat",
}


def guess_format(path: str | Path) -> str:
    """The format a path most likely holds, from its kind and name; ``.json`` files are told
    apart by their first key. Raises InputError when nothing fits: pass the format then."""
    p = Path(path)
    if p.is_dir():
        return "brat"
    suffix = p.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if "pubtator" in p.name.lower():
        return "pubtator"
    if suffix == ".txt" and p.with_suffix(".ann").exists():
        return "brat"
    if suffix == ".json" and p.exists():
        with open(p, encoding="utf-8") as fh:
            head = fh.read(4096)
        return "gliner" if "tokenized_text" in head else "bioc-json"
    raise InputError(f"cannot tell the format of {str(p)!r}; name it with one of {FORMATS}")


def _check(fmt: str, table: dict[str, Any]) -> None:
    if fmt not in table:
        raise InputError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")


def read_with_report(
    path: str | Path, format: str | None = None, **options: Any
) -> tuple[list[Document], ReadReport]:
    p = Path(path)
    fmt = format or guess_format(p)
    _check(fmt, _READERS)
    if not p.exists():
        raise FormatError("no such file or directory", str(p))
    reader = _READERS[fmt]
    allowed = set(inspect.signature(reader).parameters) - {"path", "report"}
    unknown = set(options) - allowed
    if unknown:
        raise InputError(
            f"format {fmt!r} takes no option(s) {sorted(unknown)}; it takes {sorted(allowed)}"
        )
    report = ReadReport(path=str(p), format=fmt)
    docs = reader(p, report, **options)
    report.documents = len(docs)
    report.entities = sum(len(d.entities) for d in docs)
    report.log()
    return docs, report


def read(path: str | Path, format: str | None = None, **options: Any) -> list[Document]:
    """Documents from a corpus file (or a brat directory). Malformed input raises FormatError
    naming the file, the line when the format has lines, and the reason."""
    return read_with_report(path, format, **options)[0]


def write(docs: Iterable[Document], path: str | Path, format: str | None = None) -> ReadReport:
    """Writes documents; returns what had to be adapted (e.g. ``scores_dropped`` for formats
    without scores). Documents a format cannot hold raise FormatError."""
    p = Path(path)
    fmt = format or guess_format(p)
    _check(fmt, _WRITERS)
    report = ReadReport(path=str(p), format=fmt)
    if fmt != "brat":
        p.parent.mkdir(parents=True, exist_ok=True)
    _WRITERS[fmt](list(docs), p, report)
    report.log()
    return report
