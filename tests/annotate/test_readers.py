"""The streaming readers give exactly the documents the whole-file corpora readers give, and
sniff formats from names and contents."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomedner.annotate.readers import iter_items
from biomedner.annotate.sources import Source, expand_inputs
from biomedner.corpora import read
from biomedner.errors import InputError

FIXTURES = Path(__file__).parents[1] / "corpora" / "fixtures"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("sample.pubtator", "pubtator"),
        ("ncbi_style.pubtator", "pubtator"),
        ("sample.bioc.xml", "bioc-xml"),
        ("sample.bioc.json", "bioc-json"),
        ("sample.jsonl", "jsonl"),
        ("brat", "brat"),
        ("iob1.tsv", "conll"),
    ],
)
def test_streaming_equals_whole_file_reading(name, fmt):
    path = FIXTURES / name
    (source,) = expand_inputs([str(path)], None)
    assert source.format == fmt
    options = {"discontinuous": "merge"} if fmt in ("brat", "bioc-xml", "bioc-json") else {}
    items = list(iter_items(source, **options))
    assert all(item.reject is None for item in items)
    assert [item.doc.to_dict() for item in items] == [
        d.to_dict() for d in read(path, fmt, **options)
    ]
    # positions only grow and end at the source's size (less trailing blank lines, which belong
    # to no record)
    ends = [item.byte_end for item in items]
    assert ends == sorted(ends) and 0 <= source.size() - ends[-1] <= 1


def test_pubtator_without_blank_lines_and_line_numbers(tmp_path):
    src = tmp_path / "x.txt"
    src.write_text(
        "1|t|Insulin.\n1|a|Works.\n1\t0\t7\tInsulin\tChemical\n2|t|Aspirin.\n2|a|\n"
        "2\t0\t7\tAspirin\tChemical\n",
        encoding="utf-8",
    )
    (source,) = expand_inputs([str(src)], None)
    assert source.format == "pubtator"  # sniffed from the first line
    items = list(iter_items(source))
    assert [i.doc.id for i in items] == ["1", "2"]
    assert [i.byte_end for i in items] == [
        len("1|t|Insulin.\n1|a|Works.\n1\t0\t7\tInsulin\tChemical\n"),
        src.stat().st_size,
    ]
    assert [d.to_dict() for d in read(src, "pubtator")] == [i.doc.to_dict() for i in items]


def test_folders_and_globs(tmp_path):
    texts = tmp_path / "notes"
    texts.mkdir()
    (texts / "b.txt").write_text("second", encoding="utf-8")
    (texts / "a.txt").write_text("first", encoding="utf-8")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "2.jsonl").write_text('{"id": "x", "text": "y"}\n', encoding="utf-8")
    (mixed / "1.pubtator").write_text("9|t|T.\n9|a|A.\n", encoding="utf-8")
    sources = expand_inputs([str(texts), str(mixed), str(tmp_path / "notes" / "*.txt")], None)
    assert [(Path(s.path).name, s.format) for s in sources] == [
        ("notes", "text"),
        ("1.pubtator", "pubtator"),
        ("2.jsonl", "jsonl"),
        ("a.txt", "text"),
        ("b.txt", "text"),
    ]
    assert [i.doc.id for i in iter_items(sources[0])] == ["a", "b"]
    with pytest.raises(InputError, match="named twice"):
        expand_inputs([str(mixed / "2.jsonl"), str(mixed / "*.jsonl")], None)
    with pytest.raises(InputError, match="--from 'csv' is not a format"):
        expand_inputs([str(mixed)], "csv")


def test_source_size_of_a_folder(tmp_path):
    (tmp_path / "a.txt").write_text("abc", encoding="utf-8")
    (tmp_path / "a.ann").write_text("", encoding="utf-8")
    assert Source(str(tmp_path), "brat").size() == 3
