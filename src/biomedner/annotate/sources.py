"""INPUT arguments (files, globs, folders) -> an ordered list of sources, each with its format.

Formats come from ``--from`` or are sniffed: first by name (``corpora.guess_format``), then by
the first bytes. A folder holding ``.ann`` files is one brat corpus; a folder of ``.txt`` files
is one document per file (format ``text``); any other folder is expanded to its files."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from biomedner.corpora import FORMATS, guess_format
from biomedner.errors import InputError

INPUT_FORMATS: tuple[str, ...] = (*FORMATS, "text")
_PUBTATOR_TITLE = re.compile(r"^[^|\t]+\|t\|")


@dataclass(frozen=True)
class Source:
    path: str
    format: str

    def size(self) -> int:
        """Bytes read from this source (progress and ETA are measured in them)."""
        p = Path(self.path)
        if p.is_dir():
            return sum(f.stat().st_size for f in p.iterdir() if f.suffix in (".ann", ".txt"))
        return p.stat().st_size


def expand_inputs(inputs: list[str], from_format: str | None) -> list[Source]:
    """Every source named by ``inputs``, in the order given (a glob or folder sorted by name).
    InputError names the argument that matched nothing or whose format cannot be told."""
    if from_format is not None and from_format not in INPUT_FORMATS:
        raise InputError(
            f"--from {from_format!r} is not a format; choose {', '.join(INPUT_FORMATS)}"
        )
    sources: list[Source] = []
    for arg in inputs:
        for path in _paths(arg, from_format):
            fmt = from_format or sniff_format(path)
            if fmt == "brat" and not path.is_dir() and path.suffix != ".ann":
                path = path.with_suffix(".ann")
            sources.append(Source(str(path), fmt))
    seen: set[str] = set()
    for s in sources:
        if s.path in seen:
            raise InputError(f"input {s.path} is named twice; each document must be read once")
        seen.add(s.path)
    return sources


def _paths(arg: str, from_format: str | None) -> list[Path]:
    path = Path(arg)
    if path.exists():
        if path.is_dir() and from_format not in ("brat", "text") and not _is_corpus_folder(path):
            found = sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
            if not found:
                raise InputError(f"input folder {arg} holds no files")
            return found
        return [path]
    if glob.has_magic(arg):
        found = sorted(Path(p) for p in glob.glob(arg) if not Path(p).name.startswith("."))
        if found:
            return found
        raise InputError(f"input pattern {arg!r} matches no file")
    raise InputError(f"input {arg} does not exist")


def _is_corpus_folder(path: Path) -> bool:
    """brat (``.ann`` files) or a folder of only ``.txt`` documents: read as one source."""
    files = [f for f in path.iterdir() if f.is_file() and not f.name.startswith(".")]
    suffixes = {f.suffix for f in files}
    return ".ann" in suffixes or suffixes == {".txt"}


def sniff_format(path: Path) -> str:
    if path.is_dir():
        return "brat" if any(path.glob("*.ann")) else "text"
    if path.suffix.lower() == ".txt" and not path.with_suffix(".ann").exists():
        return _sniff_content(path) or "text"
    try:
        return guess_format(path)
    except InputError:
        found = _sniff_content(path)
        if found is None:
            raise InputError(
                f"cannot tell the format of input {path}; name it with --from "
                f"({', '.join(INPUT_FORMATS)})"
            ) from None
        return found


def _sniff_content(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc.strerror}") from None
    first = next((line for line in head.splitlines() if line.strip()), "")
    if _PUBTATOR_TITLE.match(first):
        return "pubtator"
    if first.lstrip().startswith("{") and '"text"' in first:
        return "jsonl"
    if first.lstrip().startswith("<?xml") or "<collection" in head:
        return "bioc-xml"
    return None
