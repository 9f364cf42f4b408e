"""Lines of a file with their byte positions, read a buffer at a time.

Lines split at ``\\n`` only and lose a trailing ``\\r``, exactly as the corpora readers split a
file they hold whole, so streaming gives the same records and line numbers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    text: str | None  # None when the bytes are not UTF-8 (see ``error``)
    start: int
    end: int
    error: str | None = None


def iter_file_lines(path: Path) -> Iterator[Line]:
    with open(path, "rb") as fh:
        pos = 0
        # iterating a binary file splits at b"\n" only, keeping lone "\r" inside a line
        for number, raw in enumerate(fh, start=1):
            start, pos = pos, pos + len(raw)
            body = raw[:-1] if raw.endswith(b"\n") else raw
            if body.endswith(b"\r"):
                body = body[:-1]
            try:
                yield Line(number, body.decode("utf-8"), start, pos)
            except UnicodeDecodeError as exc:
                yield Line(number, None, start, pos, f"not valid UTF-8 ({exc.reason})")
