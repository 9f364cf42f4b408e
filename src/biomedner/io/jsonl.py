"""Small JSONL helpers: strict reading with file/line errors and
atomic writing (temp file + rename, so a killed run never leaves half a file)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from biomedner.errors import FormatError
from biomedner.io.atomic import atomic_open


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)``; blank lines are skipped, anything that is not a JSON object
    raises FormatError(file, line, reason)."""
    path = Path(path)
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(
                    f"not valid UTF-8 ({exc.reason} at byte {exc.start} of the line)",
                    str(path),
                    lineno,
                ) from None
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FormatError(f"not valid JSON ({exc.msg})", str(path), lineno) from None
            if not isinstance(data, dict):
                raise FormatError("each line must be a JSON object", str(path), lineno)
            yield lineno, data


def require_str(data: dict[str, Any], key: str, path: str | os.PathLike[str], line: int) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise FormatError(f"field {key!r} must be a string", str(path), line)
    return value


def write_jsonl_atomic(rows: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_json_atomic(data: Any, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def report_path_for(out: str | os.PathLike[str]) -> Path:
    """``dir/name.jsonl`` -> ``dir/name.report.json``: the report lives beside its output."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.stem
    return out.with_name(f"{stem}.report.json")


def load_texts(path: str | os.PathLike[str]) -> dict[str, tuple[str, str | None]]:
    """``{"id", "text", "source"?}`` JSONL -> ``{id: (text, source)}``; repeated ids are an error."""
    out: dict[str, tuple[str, str | None]] = {}
    for line, data in iter_jsonl(path):
        rid = require_str(data, "id", path, line)
        text = require_str(data, "text", path, line)
        if rid in out:
            raise FormatError(f"duplicate text id {rid!r}", str(path), line)
        source = data.get("source")
        out[rid] = (text, source if isinstance(source, str) else None)
    return out
