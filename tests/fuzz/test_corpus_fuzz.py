"""Random corruptions of a small file of each corpus format through its reader: byte flips,
truncation, inserted and deleted bytes, numbers (offsets) replaced by out-of-range ones, and the
whole file in a wrong encoding. Each read either fails with a FormatError naming the file (and
the line, for line-oriented formats) or returns documents whose spans are all valid."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biomedner.corpora import read_with_report
from biomedner.errors import FormatError

FIXTURES = Path(__file__).parents[1] / "corpora" / "fixtures"
# format -> (fixture, the file of it to corrupt, whether every error names a line). Errors in
# BioC and GLiNER JSON documents name the document (and annotation) instead: the XML and JSON
# parsers keep no line numbers for the values they return.
CASES = {
    "pubtator": ("sample.pubtator", None, True),
    "bioc-xml": ("sample.bioc.xml", None, False),
    "bioc-json": ("sample.bioc.json", None, False),
    "conll": ("token_tag.tsv", None, True),
    "gliner": ("sample_gliner.json", None, False),
    "jsonl": ("sample.jsonl", None, True),
    "brat-ann": ("brat", "doc_crlf.ann", True),
    "brat-txt": ("brat", "doc_lf.txt", False),
}
_NUMBER = re.compile(rb"\d+")

flip = st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7))
truncate = st.tuples(st.just("truncate"), st.integers(0, 1 << 20))
insert = st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8))
delete = st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 40))
offset = st.tuples(
    st.just("offset"),
    st.integers(0, 1 << 20),
    st.sampled_from([b"0", b"-1", b"999999", b"4294967296", b"1e3", b"0x10", b""]),
)
encoding = st.tuples(
    st.just("encoding"), st.sampled_from(["utf-16", "latin-1", "utf-8-sig", "cp1252"])
)
mutations = st.lists(
    st.one_of(flip, truncate, insert, delete, offset, encoding), min_size=1, max_size=3
)


def corrupt(data: bytes, steps: list[tuple]) -> bytes:
    for step in steps:
        kind = step[0]
        n = max(len(data), 1)
        if kind == "flip" and data:
            i = step[1] % len(data)
            data = data[:i] + bytes([data[i] ^ (1 << step[2])]) + data[i + 1 :]
        elif kind == "truncate":
            data = data[: step[1] % n]
        elif kind == "insert":
            i = step[1] % n
            data = data[:i] + step[2] + data[i:]
        elif kind == "delete":
            i = step[1] % n
            data = data[:i] + data[i + step[2] :]
        elif kind == "offset":
            numbers = list(_NUMBER.finditer(data))
            if numbers:
                m = numbers[step[1] % len(numbers)]
                data = data[: m.start()] + step[2] + data[m.end() :]
        elif kind == "encoding":
            text = data.decode("utf-8", errors="replace").replace("e", "é", 1)
            data = text.encode(step[1], errors="replace")
    return data


def _check_documents(docs) -> None:
    for doc in docs:
        for e in doc.entities:
            assert 0 <= e.start < e.end <= len(doc.text), (doc.id, e)
            assert doc.text[e.start : e.end] == e.text, (doc.id, e)
        for p in doc.passages:
            assert doc.text[p.offset : p.end] == p.text, (doc.id, p)


@pytest.mark.parametrize("case", list(CASES))
@given(steps=mutations)
def test_corrupted_files_fail_clearly_or_read_valid_spans(case, steps):
    fixture, member, has_lines = CASES[case]
    fmt = case.split("-")[0] if case.startswith("brat") else case
    with tempfile.TemporaryDirectory() as tmp:
        src = FIXTURES / fixture
        if src.is_dir():
            target_dir = Path(tmp) / fixture
            shutil.copytree(src, target_dir)
            path, victim = target_dir, target_dir / member
        else:
            path = victim = Path(tmp) / fixture
            shutil.copy(src, path)
        victim.write_bytes(corrupt(victim.read_bytes(), steps))
        try:
            # the brat fixture holds a discontinuous annotation on purpose: read it as fragments
            options = {"discontinuous": "fragments"} if fmt == "brat" else {}
            docs, _ = read_with_report(path, fmt, **options)
        except FormatError as exc:
            assert exc.path is not None, exc
            where = Path(exc.path)
            # the file itself, or for brat the folder or one of its files
            assert where == path or where.parent == path, exc
            assert str(where) in str(exc)
            if has_lines and where.suffix != ".txt":
                assert exc.line is not None, exc
            return
        _check_documents(docs)
