"""Every writer reads back what it wrote: no entity lost, no offset shifted."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomedner.corpora import FORMATS, Document, read, write

SAME_FORMAT = [
    ("sample.pubtator", "pubtator", {}),
    ("ncbi_style.pubtator", "pubtator", {}),
    ("sample.bioc.xml", "bioc-xml", {}),
    ("discontinuous.bioc.xml", "bioc-xml", {"discontinuous": "fragments"}),
    ("sample.bioc.json", "bioc-json", {}),
    ("brat", "brat", {"discontinuous": "fragments"}),
    ("token_tag.tsv", "conll", {}),
    ("tag_token.bio", "conll", {}),
    ("sample_gliner.json", "gliner", {}),
    ("sample.jsonl", "jsonl", {}),
]


def key(doc: Document) -> tuple:
    return (
        doc.text,
        sorted((e.start, e.end, e.text, e.label) for e in doc.entities),
    )


def out_path(tmp_path: Path, fmt: str) -> Path:
    return tmp_path / ("out_dir" if fmt == "brat" else f"out.{fmt}")


@pytest.mark.parametrize(("name", "fmt", "opts"), SAME_FORMAT)
def test_same_format_round_trip(
    fixtures: Path, tmp_path: Path, name: str, fmt: str, opts: dict
) -> None:
    docs = read(fixtures / name, fmt, **opts)
    assert sum(len(d.entities) for d in docs) > 0
    out = out_path(tmp_path, fmt)
    write(docs, out, fmt)
    back = read(out, fmt)
    if fmt == "conll":
        # sentence ids come from the file name
        assert [key(d) for d in back] == [key(d) for d in docs]
    else:
        assert [d.id for d in back] == [d.id for d in docs]
        assert [key(d) for d in back] == [key(d) for d in docs]
    if fmt in ("jsonl", "bioc-json", "bioc-xml", "pubtator", "brat"):
        assert [[e.ids for e in d.sorted_entities()] for d in back] == [
            [e.ids for e in d.sorted_entities()] for d in docs
        ]
    if fmt in ("jsonl", "bioc-json", "bioc-xml"):
        assert [[e.score for e in d.sorted_entities()] for d in back] == [
            [e.score for e in d.sorted_entities()] for d in docs
        ]


def test_pubtator_lines_survive_including_relations_and_extra_columns(
    fixtures: Path, tmp_path: Path
) -> None:
    src = fixtures / "sample.pubtator"
    write(read(src, "pubtator"), tmp_path / "x.pubtator", "pubtator")
    original = [ln for ln in src.read_text().splitlines() if ln]
    rewritten = [ln for ln in (tmp_path / "x.pubtator").read_text().splitlines() if ln]
    assert rewritten == original


def test_brat_crlf_text_survives_byte_for_byte(fixtures: Path, tmp_path: Path) -> None:
    docs = read(fixtures / "brat" / "doc_crlf.txt", "brat")
    write(docs, tmp_path / "b", "brat")
    assert (tmp_path / "b" / "doc_crlf.txt").read_bytes() == (
        fixtures / "brat" / "doc_crlf.txt"
    ).read_bytes()


FLAT = Document.from_dict(
    {
        "id": "flat-1",
        "text": "Gefitinib targets EGFR in lung adenocarcinoma cell lines .",
        "entities": [
            {"start": 0, "end": 9, "text": "Gefitinib", "label": "Chemical", "ids": ["D000077156"]},
            {"start": 18, "end": 22, "text": "EGFR", "label": "Gene"},
            {"start": 26, "end": 45, "text": "lung adenocarcinoma", "label": "Disease"},
        ],
    }
)
FLAT2 = Document.from_dict(
    {
        "id": "flat-2",
        "text": "Zinc deficiency impairs T-cell function",
        "entities": [
            {"start": 0, "end": 4, "text": "Zinc", "label": "Chemical"},
            {"start": 24, "end": 30, "text": "T-cell", "label": "CellType"},
        ],
    }
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_cross_format_from_canonical(tmp_path: Path, fmt: str) -> None:
    out = out_path(tmp_path, fmt)
    write([FLAT, FLAT2], out, fmt)
    back = read(out, fmt)
    assert [key(d) for d in back] == [key(FLAT), key(FLAT2)]


@pytest.mark.parametrize("src", ["sample.pubtator", "sample.bioc.xml", "sample.bioc.json"])
@pytest.mark.parametrize("dst", ["pubtator", "bioc-xml", "bioc-json", "jsonl", "brat"])
def test_document_formats_convert_without_loss(
    fixtures: Path, tmp_path: Path, src: str, dst: str
) -> None:
    # (the second BioC XML document has a 3-space gap between passages; PubTator keeps it
    # inside the abstract, so text and offsets still survive)
    docs = read(fixtures / src)
    out = out_path(tmp_path, dst)
    write(docs, out, dst)
    back = read(out, dst)
    assert [key(d) for d in back] == [key(d) for d in docs]


def test_writers_report_what_they_cannot_keep(fixtures: Path, tmp_path: Path) -> None:
    docs = read(fixtures / "sample.jsonl")
    report = write(docs, tmp_path / "p.pubtator", "pubtator")
    assert report.counts["scores_dropped"] == 3
    report = write(docs[1:], tmp_path / "c.tsv", "conll")
    assert report.counts["empty_documents_skipped"] == 1


def test_brat_rewrites_labels_with_spaces(tmp_path: Path) -> None:
    doc = Document.from_dict(
        {
            "id": "s",
            "text": "KRAS",
            "entities": [{"start": 0, "end": 4, "text": "KRAS", "label": "gene or gene product"}],
        }
    )
    report = write([doc], tmp_path / "b", "brat")
    assert report.counts["labels_with_spaces_rewritten"] == 1
    assert read(tmp_path / "b", "brat")[0].entities[0].label == "gene_or_gene_product"
