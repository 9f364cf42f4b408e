"""The one place that decides whether a file is (or a folder holds) a registered benchmark's test
split. The decision is by content: the sha256 of every file's bytes against the file hashes of
each registered test split, so it holds whatever the working directory, wherever the data root,
and however the file was renamed or copied (``NCBItestset_corpus.txt`` as ``my_data.txt``).

The file hashes live in ``benchmark_test_files.json`` beside the registry, generated from the
benchmark data by ``python -m biomedner.evaluation.test_splits DATA_ROOT``. Each entry records
the registry's split hash it was made from, and a test checks they still agree, so the list
cannot silently fall behind ``benchmarks.json``. A test split carved from a pool (CHIA) lists
the files of its own documents only.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from importlib import resources
from pathlib import Path

from biomedner.errors import BiomednerError, ConfigError

TEST_FILES = "benchmark_test_files.json"
_BLOCK = 1 << 20


@cache
def _known() -> dict[str, str]:
    """sha256 -> "benchmark test split (relative/path)"."""
    text = resources.files("biomedner.evaluation").joinpath(TEST_FILES).read_text("utf-8")
    data = json.loads(text)
    out = {}
    for name, entry in data["benchmarks"].items():
        for digest, rel in entry["files"].items():
            out[digest] = f"benchmark {name!r} test split ({rel})"
    return out


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def path_digest(path: Path) -> str:
    """sha256 of a file, or of a folder's files (sorted relative paths and their digests)."""
    if not path.is_dir():
        return file_digest(path)
    h = hashlib.sha256()
    for q in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(f"{q.relative_to(path).as_posix()}\0{file_digest(q)}\n".encode())
    return h.hexdigest()


def registered_test_split(path: str | Path) -> str | None:
    """What registered test split ``path`` is or holds (a description), or None."""
    p = Path(path)
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    known = _known()
    for f in files:
        if f.is_file():
            hit = known.get(file_digest(f))
            if hit is not None:
                return hit if f == p else f"{hit}, as {f}"
    return None


def refuse_test_split(path: str | Path, what: str) -> None:
    """ConfigError when ``path`` is a registered test split: training on it would leak test data."""
    hit = registered_test_split(path)
    if hit is not None:
        raise ConfigError(
            f"{what} {str(path)!r} is the {hit} (same content); training on benchmark test data "
            "is refused"
        )


def build_test_files(data_root: str | Path) -> dict[str, object]:
    """The content of ``benchmark_test_files.json`` from the benchmark data under ``data_root``."""
    from biomedner.evaluation.benchmarks import (
        _shipped,
        _split_files,
        load_benchmark,
        resolve_data_root,
        split_hash,
    )

    reg = _shipped()
    root = resolve_data_root(data_root)
    out: dict[str, object] = {"registry_version": reg.registry_version, "benchmarks": {}}
    for name, spec in reg.benchmarks.items():
        sspec = spec.splits.get("test")
        if sspec is None:
            continue
        files = _split_files(root, sspec)
        if sspec.select is not None:
            # a pool shared with other splits: only the files named after the test documents
            ids = {d.id for d in load_benchmark(name, "test", data_root=root).documents}
            files = [f for f in files if f.stem in ids]
        # content that also occurs outside the test split (an empty .ann file, a document
        # shared with train) says nothing about where a file came from
        mine = set(files)
        elsewhere = {
            file_digest(f)
            for other in spec.splits.values()
            for f in _split_files(root, other)
            if f not in mine
        }
        digests = {file_digest(f): f for f in files if f.stat().st_size > 0}
        out["benchmarks"][name] = {  # type: ignore[index]
            "split_sha256": split_hash(root, sspec),
            "files": {
                d: f.relative_to(root).as_posix()
                for d, f in sorted(digests.items())
                if d not in elsewhere
            },
        }
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m biomedner.evaluation.test_splits DATA_ROOT", file=sys.stderr)
        return 2
    try:
        data = build_test_files(argv[0])
    except BiomednerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    target = Path(__file__).with_name(TEST_FILES)
    from biomedner.io.atomic import write_text_atomic

    write_text_atomic(target, json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
