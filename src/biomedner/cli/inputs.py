"""The one way the command line reads the texts a user gives it (``predict``'s INPUT).

INPUT is an existing ``.jsonl`` file of ``{"id", "text"}`` records, any other existing file (one
text), or the text itself. A string that names a path (a file-like suffix, or a folder part that
exists) which is missing is an error, never a text: annotating ``nope/a.txt`` as if it were prose
gives output that looks plausible and is wrong. File texts are read exactly as stored (no
line-end translation), so offsets index the file's own characters, CRLF files included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from biomedner.corpora._util import read_text
from biomedner.errors import FormatError, InputError
from biomedner.text.characters import lone_surrogate

RECORD_SUFFIXES = frozenset({".jsonl", ".ndjson"})
# a single token ending like a file name: a missing "x.txt" is a typo, not a text to annotate
_FILE_LIKE = re.compile(
    r"^\S*\.(txt|text|jsonl|ndjson|json|tsv|csv|xml|pubtator|ann|conll|iob|iob2|bio|gz)$",
    re.IGNORECASE,
)
# longer strings are texts: no file system takes a path this long
_MAX_PATH = 4096


@dataclass(frozen=True)
class Inputs:
    kind: str  # "jsonl", "file" or "text"
    records: list[tuple[str, str]]  # (id, text)


def read_inputs(source: str, what: str = "INPUT") -> Inputs:
    if len(source) < _MAX_PATH and "\n" not in source:
        path = Path(source)
        if path.is_dir():
            raise InputError(
                f"{what} {source!r} is a folder; give a text, a .txt file or a .jsonl file"
            )
        if path.is_file():
            if path.suffix.lower() in RECORD_SUFFIXES:
                return Inputs("jsonl", read_records(path))
            text = read_text(path)
            check_unicode(text, path, None)
            return Inputs("file", [(path.stem, text)])
        if _looks_like_path(source):
            raise InputError(
                f"{what} {source!r} looks like a file path, but there is no such file; give an "
                "existing .txt or .jsonl file, or the text itself"
            )
    check_unicode(source, what, None)
    return Inputs("text", [("text", source)])


def _looks_like_path(source: str) -> bool:
    if _FILE_LIKE.match(source):
        return True
    # "runs/x/input" whose folder part exists: a path with a typo in its last part
    parent = Path(source).parent
    return not any(c.isspace() for c in source) and str(parent) != "." and parent.is_dir()


def read_records(path: Path) -> list[tuple[str, str]]:
    """``{"id", "text"}`` JSONL; a repeated id, a missing text or text that is not valid
    Unicode is an error naming the file and line."""
    from biomedner.io.jsonl import iter_jsonl, require_str

    seen: set[str] = set()
    out = []
    for line_no, record in iter_jsonl(path):
        text = require_str(record, "text", path, line_no)
        check_unicode(text, path, line_no)
        doc_id = str(record.get("id", line_no))
        if doc_id in seen:
            raise FormatError(f"id {doc_id!r} appears twice", str(path), line_no)
        seen.add(doc_id)
        out.append((doc_id, text))
    return out


def check_unicode(text: str, where: str | Path, line: int | None) -> None:
    """FormatError naming the file (and line) or option if ``text`` holds a lone surrogate."""
    problem = lone_surrogate(text)
    if problem is not None:
        raise FormatError(f"the text holds {problem}; fix the input", str(where), line)
