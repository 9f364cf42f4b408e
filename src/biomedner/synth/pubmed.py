"""PubMed baseline/update XML (``pubmed25nNNNN.xml[.gz]``) -> articles, streamed.

Each ``<PubmedArticle>`` yields a :class:`PubmedArticle` with the PMID, title, abstract, MeSH
descriptor names and a publication date. Structured abstracts (several ``<AbstractText Label=..>``
sections) become one ``LABEL: text`` line per section, as NLM displays them. Inline markup
(``<i>``, ``<sup>``, ...) is flattened to its text; whitespace runs inside a section collapse to one
space. Articles without an abstract are yielded with ``abstract == ""`` (curation decides whether to
keep them). Update files also carry ``<DeleteCitation>`` blocks; their PMIDs are yielded as
:class:`PubmedDeletion` so a reader processing baseline then updates can honour them.
"""

from __future__ import annotations

import gzip
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from biomedner.errors import FormatError

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


@dataclass(frozen=True)
class PubmedArticle:
    pmid: str
    title: str
    abstract: str
    mesh: tuple[str, ...] = ()
    date: str | None = None
    version: int = 1

    @property
    def has_abstract(self) -> bool:
        return bool(self.abstract)

    def text(self, include_title: bool = True) -> str:
        """Title and abstract on separate lines (either may be empty)."""
        parts = [self.title] if include_title and self.title else []
        if self.abstract:
            parts.append(self.abstract)
        return "\n".join(parts)


@dataclass(frozen=True)
class PubmedDeletion:
    pmids: tuple[str, ...]


@dataclass(frozen=True)
class PubmedSkipped:
    """A record this reader does not turn into text (``<PubmedBookArticle>``), reported so the
    caller can count it."""

    kind: str


def _flat(elem: ET.Element | None) -> str:
    if elem is None:
        return ""
    return " ".join("".join(elem.itertext()).split())


def _month(value: str) -> int | None:
    value = value.strip().lower()
    if value.isdigit():
        n = int(value)
        return n if 1 <= n <= 12 else None
    return _MONTHS.get(value[:3])


def _date(elem: ET.Element | None) -> str | None:
    """``<Year>2024</Year><Month>Jan</Month><Day>5</Day>`` -> ``2024-01-05`` (as precise as given);
    a free-form ``<MedlineDate>`` is returned as written."""
    if elem is None:
        return None
    year = (elem.findtext("Year") or "").strip()
    if not year:
        medline = _flat(elem.find("MedlineDate"))
        return medline or None
    month = _month(elem.findtext("Month") or "")
    if month is None:
        return year
    day = (elem.findtext("Day") or "").strip()
    if day.isdigit():
        return f"{year}-{month:02d}-{int(day):02d}"
    return f"{year}-{month:02d}"


def _abstract(article: ET.Element | None) -> str:
    if article is None:
        return ""
    abstract = article.find("Abstract")
    if abstract is None:
        return ""
    lines = []
    for section in abstract.findall("AbstractText"):
        body = _flat(section)
        if not body:
            continue
        label = (section.get("Label") or "").strip()
        lines.append(f"{label}: {body}" if label else body)
    return "\n".join(lines)


def parse_article(elem: ET.Element, path: str = "<xml>") -> PubmedArticle:
    citation = elem.find("MedlineCitation")
    if citation is None:
        raise FormatError("PubmedArticle without MedlineCitation", path)
    pmid_elem = citation.find("PMID")  # direct child only: comment lists hold other PMIDs
    pmid = _flat(pmid_elem)
    if not pmid:
        raise FormatError("PubmedArticle without a PMID", path)
    version = int(pmid_elem.get("Version", "1")) if pmid_elem is not None else 1
    article = citation.find("Article")
    title = _flat(article.find("ArticleTitle")) if article is not None else ""
    date = None
    if article is not None:
        date = _date(article.find("Journal/JournalIssue/PubDate")) or _date(
            article.find("ArticleDate")
        )
    date = date or _date(citation.find("DateCompleted"))
    mesh = tuple(
        name
        for name in (
            _flat(d) for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")
        )
        if name
    )
    return PubmedArticle(
        pmid=pmid, title=title, abstract=_abstract(article), mesh=mesh, date=date, version=version
    )


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def iter_pubmed_xml(
    path: str | os.PathLike[str],
) -> Iterator[PubmedArticle | PubmedDeletion | PubmedSkipped]:
    """Stream articles and deletions from one PubMed XML file (plain or gzipped). Memory stays
    flat: each record's element tree is discarded after it is read."""
    path = Path(path)
    try:
        with _open(path) as fh:
            context = ET.iterparse(fh, events=("start", "end"))
            root: ET.Element | None = None
            for event, elem in context:
                if event == "start":
                    if root is None:
                        root = elem
                    continue
                if elem.tag == "PubmedArticle":
                    yield parse_article(elem, str(path))
                elif elem.tag == "DeleteCitation":
                    pmids = tuple(p for p in (_flat(x) for x in elem.findall("PMID")) if p)
                    yield PubmedDeletion(pmids)
                elif elem.tag == "PubmedBookArticle":
                    yield PubmedSkipped("book_article")
                else:
                    continue
                # Finished records are dropped from the tree so a 30k-article file stays small.
                elem.clear()
                if root is not None:
                    root.clear()
            if root is None or root.tag != "PubmedArticleSet":
                raise FormatError("not a PubMed XML file (root is not PubmedArticleSet)", str(path))
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise FormatError(f"malformed XML ({exc})", str(path), line) from None
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise FormatError(f"cannot read file ({exc})", str(path)) from None
