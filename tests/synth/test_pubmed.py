"""PubMed XML parsing on a hand-written file."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from biomedner.errors import FormatError
from biomedner.synth.pubmed import PubmedArticle, PubmedDeletion, PubmedSkipped, iter_pubmed_xml
from biomedner.synth.sources import ReadStats, SourceSpec, read_source

SAMPLE = Path(__file__).parent / "data" / "pubmed_sample.xml"


def test_articles_deletions_and_skips() -> None:
    items = list(iter_pubmed_xml(SAMPLE))
    articles = [i for i in items if isinstance(i, PubmedArticle)]
    assert [a.pmid for a in articles] == ["90000001", "90000002", "90000003"]
    assert [i for i in items if isinstance(i, PubmedDeletion)] == [
        PubmedDeletion(("80000001", "80000002"))
    ]
    assert [i for i in items if isinstance(i, PubmedSkipped)] == [PubmedSkipped("book_article")]


def test_structured_abstract_markup_mesh_and_date() -> None:
    art = next(iter_pubmed_xml(SAMPLE))
    assert isinstance(art, PubmedArticle)
    # inline markup flattened; whitespace runs (the no-break space too) become one space
    assert art.title == "Empagliflozin slows albuminuria progression in type 2 diabetes."
    assert art.abstract == (
        "BACKGROUND: Sodium-glucose co-transporter 2 inhibitors lower glucose.\n"
        "METHODS: We followed 412 adults for 18 months; HbA1c was measured quarterly.\n"
        "RESULTS: Albumin excretion fell by 31% (P<0.01)."
    )
    assert art.mesh == ("Diabetes Mellitus, Type 2", "Humans")
    assert art.date == "2024-01-05"
    assert art.text() == art.title + "\n" + art.abstract
    assert art.text(include_title=False) == art.abstract


def test_missing_abstract_and_free_form_date() -> None:
    art = list(iter_pubmed_xml(SAMPLE))[1]
    assert isinstance(art, PubmedArticle)
    assert art.abstract == "" and not art.has_abstract
    assert art.text() == "Letter: on the naming of rare skin disorders."
    assert art.date == "1998 Winter-Spring"
    assert art.mesh == ()


def test_unicode_and_version() -> None:
    art = list(iter_pubmed_xml(SAMPLE))[2]
    assert isinstance(art, PubmedArticle)
    assert art.title.startswith("Rôle du facteur de nécrose tumorale α")
    assert "TNF-α" in art.abstract and "≥ 18 years" in art.abstract and "5 µg/mL" in art.abstract
    assert art.version == 2
    assert art.date == "2023-11"


def test_gzip_and_source_reader(tmp_path: Path) -> None:
    folder = tmp_path / "baseline"
    folder.mkdir()
    with SAMPLE.open("rb") as src, gzip.open(folder / "pubmed25n0001.xml.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (folder / "README.txt").write_text("not a corpus file")  # skipped: not the given format
    stats = ReadStats()
    docs = list(read_source(SourceSpec(path=str(folder), name="pubmed", format="pubmed"), stats))
    assert [d.id for d in docs] == ["pmid:90000001", "pmid:90000002", "pmid:90000003"]
    assert docs[0].source == "pubmed" and docs[0].pmid == "90000001"
    assert docs[0].mesh == ("Diabetes Mellitus, Type 2", "Humans")
    assert not docs[1].has_abstract
    assert stats.counts["pubmed_articles"] == 3
    assert stats.counts["pubmed_without_abstract"] == 1
    assert stats.counts["pubmed_skipped_book_article"] == 1
    assert stats.counts["files_skipped"] == 1
    assert stats.deleted_pmids == {"80000001", "80000002"}
    assert docs[0].to_json()["text"].startswith("Empagliflozin")


def test_malformed_xml_is_a_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<PubmedArticleSet>\n<PubmedArticle><MedlineCitation>\n</PubmedArticleSet>\n")
    with pytest.raises(FormatError, match="malformed XML") as err:
        list(iter_pubmed_xml(bad))
    assert err.value.path == str(bad) and err.value.line == 3
    other = tmp_path / "other.xml"
    other.write_text("<html><body/></html>")
    with pytest.raises(FormatError, match="not a PubMed XML file"):
        list(iter_pubmed_xml(other))
    nopmid = tmp_path / "nopmid.xml"
    nopmid.write_text(
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><Article><ArticleTitle>T"
        "</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    with pytest.raises(FormatError, match="without a PMID"):
        list(iter_pubmed_xml(nopmid))
