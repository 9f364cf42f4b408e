"""What each reader makes of its hand-written fixture: exact offsets, labels, ids, reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomedner.corpora import read, read_with_report
from biomedner.errors import FormatError


def spans(doc):
    return [(e.start, e.end, e.text, e.label) for e in doc.sorted_entities()]


def test_pubtator_title_abstract_offsets_relations_and_extra_columns(fixtures: Path) -> None:
    docs, report = read_with_report(fixtures / "sample.pubtator", "pubtator")
    assert [d.id for d in docs] == ["1001", "1002"]
    d = docs[0]
    assert d.text.startswith("Imatinib resistance in chronic myeloid leukaemia. Patients with")
    assert [(p.type, p.offset) for p in d.passages] == [("title", 0), ("abstract", 50)]
    assert spans(d)[1] == (23, 48, "chronic myeloid leukaemia", "Disease")
    assert len(d.entities) == 6 and len(docs[1].entities) == 4
    composite = next(e for e in d.entities if e.text == "Hepatotoxicity and rash")
    assert composite.ids == ("D056486|D005076",)
    assert d.metadata["relations"] == [["CID", "D000068877", "D056486"]]
    assert d.metadata["pubtator_extra_columns"] == {"123:146:Disease": ["Hepatotoxicity", "rash"]}
    assert report.counts["relation_lines"] == 1
    assert report.counts["extra_mention_columns"] == 1


def test_pubtator_ncbi_variant_duplicate_ids_and_padded_surface(fixtures: Path) -> None:
    docs, report = read_with_report(fixtures / "ncbi_style.pubtator", "pubtator")
    assert [d.id for d in docs] == ["2001", "2001"]
    anaemia = next(e for e in docs[0].entities if e.label == "DiseaseClass")
    assert anaemia.text == "haemolytic anaemia"
    assert report.counts["surface_whitespace_differences"] == 1
    assert {e.label for e in docs[1].entities} == {"SpecificDisease", "DiseaseClass"}


def test_bioc_xml_passages_gap_and_relations(fixtures: Path) -> None:
    docs, report = read_with_report(fixtures / "sample.bioc.xml", "bioc-xml")
    d1, d2 = docs
    assert d1.text[: len("Mutations in KRAS")] == "Mutations in KRAS"
    assert spans(d1)[0] == (13, 17, "KRAS", "GeneOrGeneProduct")
    hct = next(e for e in d1.entities if e.label == "CellLine")
    assert d1.text[hct.start : hct.end] == "HCT116" and hct.ids == ("CVCL_0291",)
    assert len(d1.metadata["bioc_relations"]) == 1 and report.counts["relations"] == 1
    # the 3-character gap between passages is filled with spaces so offsets stay absolute
    assert d2.passages[1].offset == len("Asthma and eczema in children.") + 3
    assert d2.text[30:33] == "   "


def test_bioc_discontinuous_is_an_error_unless_a_policy_is_chosen(fixtures: Path) -> None:
    path = fixtures / "discontinuous.bioc.xml"
    with pytest.raises(FormatError, match=r"discontinuous.*fragments"):
        read(path, "bioc-xml")
    frag, report = read_with_report(path, "bioc-xml", discontinuous="fragments")
    assert [e.text for e in frag[0].sorted_entities()] == ["breast", "cancer"]
    assert report.counts["discontinuous_entities"] == 1
    merged = read(path, "bioc-xml", discontinuous="merge")
    assert [e.text for e in merged[0].entities] == ["breast and ovarian cancer"]
    assert read(path, "bioc-xml", discontinuous="skip")[0].entities == []


def test_bioc_json(fixtures: Path) -> None:
    (doc,) = read(fixtures / "sample.bioc.json", "bioc-json")
    assert doc.id == "4001" and doc.metadata["infons"] == {"journal": "none"}
    assert spans(doc)[-1][2:] == ("glucose", "Chemical")
    assert next(e.ids for e in doc.sorted_entities()) == ("D008687",)


def test_brat_lf_discontinuous_normalisation_and_counts(fixtures: Path) -> None:
    with pytest.raises(FormatError, match=r"doc_lf.ann:5: .*T5.*discontinuous"):
        read(fixtures / "brat", "brat")
    docs, report = read_with_report(fixtures / "brat", "brat", discontinuous="merge")
    crlf, lf = docs
    assert lf.id == "doc_lf"
    assert spans(lf)[0] == (0, 9, "Tamoxifen", "Chemical")
    assert lf.sorted_entities()[0].ids == ("MESH:D013629",)
    assert "hot flushes" in [e.text for e in lf.entities]
    assert report.counts["relations"] == 1 and report.counts["notes"] == 1
    assert report.counts["attributes"] == 1 and report.counts["discontinuous_entities"] == 1
    # CRLF: offsets count the carriage returns
    assert "\r\n" in crlf.text
    assert spans(crlf) == [
        (21, 27, "Adults", "Person"),
        (33, 48, "type 1 diabetes", "Condition"),
        (59, 71, "insulin pump", "Device"),
    ]


def test_brat_single_file_path(fixtures: Path) -> None:
    (doc,) = read(fixtures / "brat" / "doc_crlf.txt", "brat")
    assert doc.id == "doc_crlf" and len(doc.entities) == 3


def test_brat_multiline_surface_and_lenient_policies(tmp_path: Path) -> None:
    text = "Adults.\nNo prior\nsurgery or trauma.\n"
    (tmp_path / "x.txt").write_text(text, newline="")
    (tmp_path / "x.ann").write_text(
        "T1\tScope 0 7;8 16\tAdults.\nNo prior\n"
        "T2\tCondition 17 24\tsurgery\n"
        "stray text that is no annotation\n"
        "T3\tCondition 28 34\ttraumx\n",
        newline="",
    )
    with pytest.raises(FormatError, match=r"x.ann:4: .*not a brat annotation line"):
        read(tmp_path, "brat", discontinuous="fragments")
    with pytest.raises(FormatError, match=r"x.ann:5: .*'traumx'.*'trauma'"):
        read(tmp_path, "brat", discontinuous="fragments", on_bad_line="skip")
    (doc,), report = read_with_report(
        tmp_path, "brat", discontinuous="fragments", on_bad_line="skip", on_mismatch="skip"
    )
    assert [e.text for e in doc.sorted_entities()] == ["Adults.", "No prior", "surgery"]
    assert report.counts["surface_continuation_lines"] == 1
    assert report.counts["bad_lines_skipped"] == 1
    assert report.counts["offset_mismatches_skipped"] == 1


def test_conll_token_tag_iob2(fixtures: Path) -> None:
    docs, report = read_with_report(fixtures / "token_tag.tsv", "conll")
    assert report.counts["docstart_lines"] == 1
    assert [d.id for d in docs] == ["token_tag-000001", "token_tag-000002", "token_tag-000003"]
    assert docs[0].text == "Loss of p53 in hepatocellular carcinoma cells ."
    assert spans(docs[0]) == [
        (8, 11, "p53", "Gene_or_gene_product"),
        (15, 39, "hepatocellular carcinoma", "Cancer"),
        (40, 45, "cells", "Cell"),
    ]
    # adjacent mentions of one type stay separate (B- after I-)
    assert [e.text for e in docs[2].sorted_entities()] == ["IL-2 receptor", "IL-7"]


def test_conll_tag_token_columns_are_detected(fixtures: Path) -> None:
    docs = read(fixtures / "tag_token.bio", "conll")
    assert docs[0].text == "show me science fiction films 1990s"
    assert spans(docs[0]) == [(8, 23, "science fiction", "GENRE"), (30, 35, "1990s", "YEAR")]
    assert spans(docs[1]) == [(0, 12, "Ada Lovelace", "ACTOR")]
    assert read(fixtures / "tag_token.bio", "conll", columns="tag-token") == docs


def test_conll_iob1_and_orphan_inside_tags(fixtures: Path) -> None:
    (doc,) = read(fixtures / "iob1.tsv", "conll", scheme="iob1")
    assert [e.text for e in doc.sorted_entities()] == ["aspirin", "heparin", "warfarin"]
    (doc2,), report = read_with_report(fixtures / "iob1.tsv", "conll", scheme="iob2")
    assert [e.text for e in doc2.sorted_entities()] == ["aspirin", "heparin", "warfarin"]
    assert report.counts["orphan_inside_tags"] == 2


def test_gliner_json_inclusive_word_indices(fixtures: Path) -> None:
    docs = read(fixtures / "sample_gliner.json", "gliner")
    assert docs[0].text == "Aspirin inhibits COX-1 in human platelets ."
    assert spans(docs[0]) == [
        (0, 7, "Aspirin", "chemical"),
        (17, 22, "COX-1", "protein"),
        (26, 41, "human platelets", "cell type"),
    ]
    assert docs[0].metadata == {"negatives": ["disease"]}
    assert docs[1].entities == []
    assert [e.text for e in docs[2].sorted_entities()] == [
        "Chronic kidney disease",
        "kidney",
        "anaemia",
    ]


def test_jsonl_scores_and_ids(fixtures: Path) -> None:
    docs = read(fixtures / "sample.jsonl")  # format guessed from the suffix
    w = docs[0].sorted_entities()[0]
    assert (w.text, w.score, w.ids) == ("Warfarin", 0.91, ("D014859",))
    assert docs[2].text == "" and docs[2].entities == []
