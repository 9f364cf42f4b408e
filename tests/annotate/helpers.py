"""Running annotate in-process and reading its output back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from biomedner.annotate import AnnotateOptions, run_annotate
from biomedner.corpora import Document, read

LABELS = ["drug", "disease", "gene"]


def annotate(inputs: list[Path], out: Path, model: Path, **options: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "labels": LABELS,
        "threshold": 0.3,
        "shard_size": 2,
        "progress": False,
    }
    settings.update(options)
    return run_annotate(
        AnnotateOptions(inputs=[str(p) for p in inputs], out=out, model=str(model), **settings)
    )


def read_output(out: Path, fmt: str) -> list[Document]:
    """Every output document, shards in name (= input) order."""
    shards = sorted(p for p in (out / "shards").iterdir() if not p.name.endswith(".rejects.jsonl"))
    docs: list[Document] = []
    for shard in shards:
        docs.extend(read(shard, fmt))
    return docs


def shard_bytes(out: Path) -> dict[str, bytes]:
    files = sorted(p for p in (out / "shards").rglob("*") if p.is_file())
    return {str(p.relative_to(out)): p.read_bytes() for p in files}
