"""Small helpers shared by the readers: exact text loading and entity checks with locations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError
from biomedner.types import Entity


def read_text(path: Path) -> str:
    """The file's exact characters. ``newline=''`` keeps ``\\r`` so offsets that count it (brat
    files with CRLF line ends) stay valid."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise FormatError(f"cannot read file: {exc.strerror}", str(path)) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = "; the file looks like UTF-16: save it as UTF-8"
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FormatError(
            f"not valid UTF-8 ({exc.reason} at byte {column} of the line){hint}", str(path), line
        ) from None


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line end) for a line-oriented format."""
    for i, line in enumerate(read_text(path).split("\n"), start=1):
        yield i, line[:-1] if line.endswith("\r") else line


def parse_int(value: str, what: str, path: Path, line: int) -> int:
    """A non-negative offset written in ASCII digits only: int() would also take " 12", "1_0"
    and non-ASCII digits, which no corpus format means."""
    if not (value.isascii() and value.isdigit()):
        raise FormatError(f"{what} {value!r} is not a non-negative integer", str(path), line)
    return int(value)


def checked_entity(
    text: str,
    start: int,
    end: int,
    label: str,
    *,
    surface: str | None,
    doc_id: str,
    path: Path,
    line: int | None,
    ids: tuple[str, ...] = (),
    score: float | None = None,
    report: ReadReport | None = None,
) -> Entity:
    """An entity built from the document text; fails with file, line and document id when the
    offsets fall outside the text or the annotated surface form differs from the text there.
    A surface that differs only by whitespace at its ends (NCBI-disease has one) is accepted and
    counted as ``surface_whitespace_differences``."""
    if not (0 <= start < end <= len(text)):
        raise FormatError(
            f"document {doc_id!r}: offsets [{start}, {end}) are outside the text "
            f"(length {len(text)})",
            str(path),
            line,
        )
    actual = text[start:end]
    if (
        surface is not None
        and surface != actual
        and report is not None
        and surface.strip() == actual.strip()
    ):
        report.add(
            "surface_whitespace_differences",
            f"{path}:{line}: document {doc_id!r}: {surface!r} read as {actual!r}",
        )
        surface = actual
    if surface is not None and surface != actual:
        raise FormatError(
            f"document {doc_id!r}: annotated text {surface!r} does not match "
            f"text[{start}:{end}] = {actual!r}",
            str(path),
            line,
        )
    return Entity(start=start, end=end, text=actual, label=label, score=score, ids=ids)


def single_line_field(value: str, what: str, doc_id: str, path: Path) -> str:
    """Writers of line-oriented formats cannot store tabs or line breaks inside a field."""
    if any(c in value for c in "\t\n\r"):
        raise FormatError(
            f"document {doc_id!r}: {what} {value!r} contains a tab or line break, which this "
            "format cannot store",
            str(path),
        )
    return value
