"""Malformed input fails with the file, the line and the reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from biomedner.corpora import Document, read, write
from biomedner.errors import FormatError, InputError


def put(tmp_path: Path, name: str, content: str) -> Path:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8", newline="")
    return p


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("9|t|Gout flares.\n9|a|\n9\t0\t4\tGOUT\tDisease\n", 3, r"'GOUT' does not match .* 'Gout'"),
        ("9|t|Gout.\n9\t0\t40\tGout\tDisease\n", 2, r"outside the text"),
        ("9|t|Gout.\n8\t0\t4\tGout\tDisease\n", 2, r"document '8' inside document '9'"),
        ("9\t0\t4\tGout\tDisease\n", 1, r"before any 'PMID\|t\|title'"),
        ("9|t|Gout.\n9\tjunk\n", 2, r"got 2 field"),
        (
            "9|t|Gout.\n9\t0\tfour\tGout\tDisease\n",
            2,
            r"end offset 'four' is not a non-negative integer",
        ),
        ("9|t|Gout.\n9\t0\t4\tGout\n", 2, r"mention line needs"),
    ],
)
def test_pubtator_errors(tmp_path: Path, content: str, line: int, reason: str) -> None:
    p = put(tmp_path, "bad.pubtator", content)
    with pytest.raises(FormatError) as info:
        read(p, "pubtator")
    assert info.value.path == str(p) and info.value.line == line
    assert str(info.value).startswith(f"{p}:{line}: ")

    assert re.search(reason, info.value.reason)


def test_pubtator_relation_lines_are_kept(tmp_path: Path) -> None:
    p = put(tmp_path, "x.pubtator", "9|t|Gout.\n9\tAssociation\tD1\tD2\tNovel\n")
    (doc,) = read(p, "pubtator")
    assert doc.entities == [] and doc.metadata["relations"] == [
        ["Association", "D1", "D2", "Novel"]
    ]


def test_bioc_xml_errors(tmp_path: Path) -> None:
    p = put(tmp_path, "a.xml", "<collection><document><id>1</id>\n<passage></collection>")
    with pytest.raises(FormatError, match=r"a.xml:2: XML is not well formed"):
        read(p, "bioc-xml")
    p = put(
        tmp_path,
        "b.xml",
        "<collection><document><id>7</id><passage><offset>0</offset><text>Gout.</text>"
        '<annotation id="x"><infon key="type">D</infon><location offset="0" length="4"/>'
        "<text>Goat</text></annotation></passage></document></collection>",
    )
    with pytest.raises(FormatError, match=r"b.xml: document '7': annotated text 'Goat'"):
        read(p, "bioc-xml")
    p = put(tmp_path, "c.xml", "<documents/>")
    with pytest.raises(FormatError, match="expected <collection>"):
        read(p, "bioc-xml")


def test_bioc_json_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"a.json:2: invalid JSON"):
        read(put(tmp_path, "a.json", '{"documents": [\n oops]}'), "bioc-json")
    with pytest.raises(FormatError, match="'documents' list"):
        read(put(tmp_path, "b.json", '{"docs": []}'), "bioc-json")


def test_brat_errors(tmp_path: Path) -> None:
    put(tmp_path, "d.txt", "Anaemia in CKD.")
    put(tmp_path, "d.ann", "T1\tDisease 0 7\tAnaemia\nT2\tDisease 11 x\tCKD\n")
    with pytest.raises(FormatError, match=r"d.ann:2: end offset 'x' is not a non-negative integer"):
        read(tmp_path, "brat")
    put(tmp_path, "d.ann", "T1\tDisease 0 7\n")
    with pytest.raises(FormatError, match=r"d.ann:1: .*needs 3 tab-separated fields"):
        read(tmp_path, "brat")
    put(tmp_path, "d.ann", "T1\tDisease 0 7\tAnaemic\n")
    with pytest.raises(FormatError, match=r"d.ann:1: document 'd' annotation T1: annotated text"):
        read(tmp_path, "brat")
    (tmp_path / "d.txt").unlink()
    with pytest.raises(FormatError, match=r"missing text file d\.txt"):
        read(tmp_path, "brat")


def test_conll_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"a.tsv:2: expected a token and a tag"):
        read(put(tmp_path, "a.tsv", "Gout\tO\nflares\n"), "conll")
    with pytest.raises(FormatError, match=r"b.tsv:2: 'X-Disease' is not an IOB tag"):
        read(
            put(tmp_path, "b.tsv", "Gout\tB-Disease\nflares\tX-Disease\n"),
            "conll",
            columns="token-tag",
        )
    with pytest.raises(FormatError, match="neither the first nor the last column"):
        read(put(tmp_path, "c.tsv", "Gout\tflares\n"), "conll")


def test_gliner_and_jsonl_errors(tmp_path: Path) -> None:
    p = put(tmp_path, "g.json", '[{"tokenized_text": ["a", "b"], "ner": [[1, 2, "x"]]}]')
    with pytest.raises(FormatError, match=r"record 0: word span \[1, 2\]"):
        read(p, "gliner")
    p = put(tmp_path, "g.jsonl", '{"tokenized_text": ["a"], "ner": []}\n{"ner": []}\n')
    with pytest.raises(FormatError, match=r"g.jsonl:2: record 1: expected an object"):
        read(p, "gliner")
    p = put(
        tmp_path,
        "a.jsonl",
        '{"id": "1", "text": "Gout"}\n{"id": "2", "text": "Gout", '
        '"entities": [{"start": 0, "end": 4, "text": "Goat", "label": "D"}]}\n',
    )
    with pytest.raises(FormatError, match=r"a.jsonl:2: document '2': entity text 'Goat'"):
        read(p, "jsonl")
    p = put(tmp_path, "b.jsonl", '{"id": "1", "text": "Gout", "extra": 1}\n')
    with pytest.raises(FormatError, match=r"b.jsonl:1: unknown keys \['extra'\]"):
        read(p, "jsonl")


def test_unknown_format_option_and_missing_file(tmp_path: Path) -> None:
    p = put(tmp_path, "a.jsonl", "")
    with pytest.raises(InputError, match="unknown format 'conllu'"):
        read(p, "conllu")
    with pytest.raises(InputError, match=r"takes no option\(s\) \['scheme'\]"):
        read(p, "jsonl", scheme="iob1")
    with pytest.raises(FormatError, match="no such file"):
        read(tmp_path / "missing.jsonl", "jsonl")
    with pytest.raises(InputError, match="cannot tell the format"):
        read(put(tmp_path, "x.dat", "x"))


def test_writers_refuse_what_they_cannot_hold(tmp_path: Path) -> None:
    nested = Document.from_dict(
        {
            "id": "n",
            "text": "lung cancer",
            "entities": [
                {"start": 0, "end": 11, "text": "lung cancer", "label": "Disease"},
                {"start": 0, "end": 4, "text": "lung", "label": "Organ"},
            ],
        }
    )
    with pytest.raises(FormatError, match="overlap; IOB cannot hold nested"):
        write([nested], tmp_path / "n.tsv", "conll")
    with pytest.raises(FormatError, match="not a unique, file-name-safe name"):
        write([Document("a/b", "x")], tmp_path / "brat", "brat")
    crlf = Document("r", "Gout\r\nflare")
    with pytest.raises(FormatError, match="cannot be stored in BioC XML"):
        write([crlf], tmp_path / "r.xml", "bioc-xml")
    report = write([crlf], tmp_path / "r.pubtator", "pubtator")
    assert report.counts["line_breaks_replaced"] == 1
    assert read(tmp_path / "r.pubtator", "pubtator")[0].text == "Gout  flare"
