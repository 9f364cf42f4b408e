"""brat standoff: ``NAME.txt`` (the text) beside ``NAME.ann`` (``T1<TAB>Type 0 5<TAB>surface``).

Offsets count every character of the ``.txt`` file including ``\\r``, so the text is read with
``newline=''``. Discontinuous ``T`` annotations (``0 5;9 14``) go through the policy of
:mod:`biomedner.corpora.spans`. ``N`` lines (``Reference T1 db:id``) become entity ids; relations,
events, attributes, equivalences and notes are counted in the report, not kept.

Some corpora (CHIA) carry line breaks inside the surface text of multi-fragment annotations; a
line that is not an annotation line and follows such a ``T`` line is read as its continuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from biomedner.corpora._util import iter_lines, parse_int, read_text
from biomedner.corpora.document import Document
from biomedner.corpora.report import ReadReport
from biomedner.corpora.spans import resolve_fragments
from biomedner.errors import FormatError
from biomedner.io.atomic import atomic_open
from biomedner.types import Entity

MismatchPolicy = Literal["error", "skip"]

_ANN_LINE = re.compile(r"^(?:[TRAEMN]\d+|#\d*|\*)\t")
_OTHER_KINDS = {
    "R": "relations",
    "E": "events",
    "A": "attributes",
    "M": "attributes",
    "*": "equivalences",
    "#": "notes",
}


@dataclass
class _TLine:
    id: str
    label: str
    fragments: list[tuple[int, int]]
    surface: str
    line: int
    ids: list[str] = field(default_factory=list)


def ann_files(path: Path) -> list[Path]:
    """The ``.ann`` files a brat path denotes: every one in a directory (sorted), or the one
    beside a given ``.txt``/``.ann`` file."""
    if path.is_dir():
        found = sorted(path.glob("*.ann"))
        if not found:
            raise FormatError("no .ann files in this directory", str(path))
        return found
    if path.suffix in (".ann", ".txt"):
        return [path.with_suffix(".ann")]
    raise FormatError("a brat path must be a directory or a .txt/.ann file", str(path))


def read_brat(
    path: Path,
    report: ReadReport,
    *,
    discontinuous: str = "error",
    on_mismatch: str = "error",
    on_bad_line: str = "error",
) -> list[Document]:
    """``on_mismatch="skip"`` drops (and counts) annotations whose offsets do not fit the text;
    ``on_bad_line="skip"`` drops (and counts) lines that are no annotation at all. Both exist for
    corpora with known defects (CHIA); the default raises FormatError."""
    for name, value in (("on_mismatch", on_mismatch), ("on_bad_line", on_bad_line)):
        if value not in ("error", "skip"):
            raise ValueError(f"{name} must be 'error' or 'skip', got {value!r}")
    return [
        _read_pair(
            ann,
            report,
            discontinuous=discontinuous,
            on_mismatch=on_mismatch,
            on_bad_line=on_bad_line,
        )
        for ann in ann_files(path)
    ]


def _parse_ann(ann: Path, doc_id: str, report: ReadReport, on_bad_line: str) -> list[_TLine]:
    tlines: dict[str, _TLine] = {}
    last: _TLine | None = None
    for lineno, line in iter_lines(ann):
        if not _ANN_LINE.match(line):
            if last is not None and len(last.fragments) > 1 and line.strip():
                last.surface += "\n" + line
                report.add("surface_continuation_lines")
                continue
            if not line.strip():
                continue
            reason = f"document {doc_id!r}: not a brat annotation line: {line[:60]!r}"
            if on_bad_line == "skip":
                report.add("bad_lines_skipped", f"{ann}:{lineno}: {reason}")
                continue
            raise FormatError(reason, str(ann), lineno)
        last = None
        fields = line.split("\t")
        kind = fields[0][0]
        if kind == "T":
            if len(fields) < 3:
                raise FormatError(
                    f"document {doc_id!r}: T line needs 3 tab-separated fields "
                    "(id, 'Type start end', text)",
                    str(ann),
                    lineno,
                )
            head = fields[1].split(" ", 1)
            if len(head) != 2:
                raise FormatError(
                    f"document {doc_id!r}: expected 'Type start end' in {fields[1]!r}",
                    str(ann),
                    lineno,
                )
            frags = []
            for part in head[1].split(";"):
                nums = part.split()
                if len(nums) != 2:
                    raise FormatError(
                        f"document {doc_id!r}: bad offset pair {part!r}", str(ann), lineno
                    )
                start = parse_int(nums[0], "start offset", ann, lineno)
                end = parse_int(nums[1], "end offset", ann, lineno)
                frags.append((start, end))
            if fields[0] in tlines:
                raise FormatError(
                    f"document {doc_id!r}: duplicate annotation id {fields[0]}", str(ann), lineno
                )
            last = _TLine(fields[0], head[0], frags, "\t".join(fields[2:]), lineno)
            tlines[last.id] = last
        elif kind == "N":
            parts = fields[1].split() if len(fields) > 1 else []
            if len(parts) != 3 or parts[1] not in tlines:
                raise FormatError(
                    f"document {doc_id!r}: expected 'Reference T<n> db:id' after an earlier "
                    f"T line, got {fields[1:2]!r}",
                    str(ann),
                    lineno,
                )
            tlines[parts[1]].ids.append(parts[2])
        else:
            report.add(_OTHER_KINDS[kind])
    return list(tlines.values())


def _squash(s: str) -> str:
    return "".join(s.split())


def _read_pair(
    ann: Path, report: ReadReport, *, discontinuous: str, on_mismatch: str, on_bad_line: str
) -> Document:
    txt = ann.with_suffix(".txt")
    doc_id = ann.stem
    if not txt.exists():
        raise FormatError(f"document {doc_id!r}: missing text file {txt.name}", str(ann))
    text = read_text(txt)
    entities: list[Entity] = []
    for t in _parse_ann(ann, doc_id, report, on_bad_line):
        where = f"document {doc_id!r} annotation {t.id}"
        bad = None
        for s, e in t.fragments:
            if not (0 <= s < e <= len(text)):
                bad = f"offsets [{s}, {e}) are outside the text (length {len(text)})"
        if bad is None:
            actual = " ".join(text[s:e] for s, e in t.fragments)
            same = actual == t.surface or (
                # multi-fragment or line-spanning surfaces differ only in whitespace
                _squash(actual) == _squash(t.surface)
                and (len(t.fragments) > 1 or any(c in actual for c in "\r\n"))
            )
            if not same:
                bad = f"annotated text {t.surface!r} does not match the text there {actual!r}"
        if bad is not None:
            if on_mismatch == "skip":
                report.add("offset_mismatches_skipped", f"{ann}:{t.line}: {where}: {bad}")
                continue
            raise FormatError(f"{where}: {bad}", str(ann), t.line)
        for s, e in resolve_fragments(
            t.fragments, discontinuous, where=where, path=ann, line=t.line, report=report
        ):
            entities.append(Entity(s, e, text[s:e], t.label, ids=tuple(t.ids)))
        report.add("annotation_lines")
    return Document(doc_id, text, entities)


_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]+$")


def write_brat(docs: list[Document], path: Path, report: ReadReport) -> None:
    """Writes one ``.txt``/``.ann`` pair per document into the directory ``path``."""
    if path.exists() and not path.is_dir():
        raise FormatError("brat output must be a directory", str(path))
    seen: set[str] = set()
    for doc in docs:
        if not _SAFE_ID.match(doc.id) or doc.id in seen:
            raise FormatError(
                f"document id {doc.id!r} is not a unique, file-name-safe name "
                "(letters, digits, '.', '_', '-')",
                str(path),
            )
        seen.add(doc.id)
    path.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        lines = []
        n_norm = 0
        for i, e in enumerate(doc.sorted_entities(), start=1):
            label = e.label
            if " " in label or "\t" in label:
                label = "_".join(label.split())
                report.add("labels_with_spaces_rewritten")
            surface = e.text.replace("\r", " ").replace("\n", " ")
            lines.append(f"T{i}\t{label} {e.start} {e.end}\t{surface}")
            for ref in e.ids:
                if not ref or any(c.isspace() for c in ref):
                    raise FormatError(
                        f"document {doc.id!r}: id {ref!r} cannot be written as a brat N line",
                        str(path),
                    )
                n_norm += 1
                lines.append(f"N{n_norm}\tReference T{i} {ref}\t{surface}")
            if e.score is not None:
                report.add("scores_dropped")
        with atomic_open(path / f"{doc.id}.txt", newline="") as fh:
            fh.write(doc.text)
        with atomic_open(path / f"{doc.id}.ann", newline="") as fh:
            fh.write("".join(line + "\n" for line in lines))
        report.documents += 1
        report.entities += len(doc.entities)
