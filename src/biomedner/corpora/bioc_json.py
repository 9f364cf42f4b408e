"""BioC JSON (the collection shape served by the PubMed/PMC BioC APIs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biomedner.corpora._util import read_text
from biomedner.corpora.bioc import document_from_bioc, document_to_bioc
from biomedner.corpora.document import Document
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError
from biomedner.io.atomic import atomic_open


def read_bioc_json(
    path: Path, report: ReadReport, *, discontinuous: str = "error"
) -> list[Document]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg}", str(path), exc.lineno) from None
    # the APIs return either one collection or a list of collections
    collections: list[Any] = data if isinstance(data, list) else [data]
    docs = []
    for c in collections:
        if not isinstance(c, dict) or not isinstance(c.get("documents"), list):
            raise FormatError(
                "expected a BioC collection object with a 'documents' list", str(path)
            )
        for d in c["documents"]:
            docs.append(document_from_bioc(d, path, report, discontinuous=discontinuous))
    return docs


def write_bioc_json(docs: list[Document], path: Path, report: ReadReport) -> None:
    collection = {
        "source": "biomedner",
        "date": "",
        "key": "BioC.key",
        "infons": {},
        "documents": [document_to_bioc(d) for d in docs],
    }
    report.documents += len(docs)
    report.entities += sum(len(d.entities) for d in docs)
    with atomic_open(path, newline="") as fh:
        json.dump(collection, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
