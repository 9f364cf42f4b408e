"""Output documents and the atomic shard writer, shared by every engine.

Predicted annotations carry their label and score; the model id travels as the ``annotator``
(document metadata in JSONL, an annotation infon in BioC, extra mention columns ``score`` and
``annotator`` in PubTator, an ``AnnotatorNotes`` line in brat)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from biomedner.corpora import Document, write
from biomedner.corpora.report import ReadReport
from biomedner.types import Entity

SHARD_SUFFIXES = {
    "pubtator": ".pubtator",
    "bioc-xml": ".xml",
    "bioc-json": ".json",
    "jsonl": ".jsonl",
    "brat": "",  # a folder of .txt/.ann pairs
}
# metadata that describes the gold annotations and goes when they are dropped
_GOLD_METADATA = ("relations", "bioc_relations", "pubtator_extra_columns")


def _order(e: Entity) -> tuple[int, int, str, bool, float]:
    return (e.start, e.end, e.label, e.score is not None, e.score or 0.0)


def output_document(
    doc: Document, predicted: list[Entity], *, keep_gold: bool, annotator: str, to_format: str
) -> Document:
    gold = doc.entities if keep_gold else []
    metadata = {k: v for k, v in doc.metadata.items() if keep_gold or k not in _GOLD_METADATA}
    metadata["annotator"] = annotator
    if to_format == "pubtator":
        extra = dict(metadata.get("pubtator_extra_columns", {}))
        gold_keys = {f"{e.start}:{e.end}:{e.label}" for e in gold}
        for e in predicted:
            key = f"{e.start}:{e.end}:{e.label}"
            # a gold mention with the same span and label keeps its own columns
            if key not in gold_keys:
                extra[key] = [repr(float(e.score or 0.0)), annotator]
        if extra:
            metadata["pubtator_extra_columns"] = extra
    return Document(
        id=doc.id,
        text=doc.text,
        entities=sorted([*gold, *predicted], key=_order),
        passages=list(doc.passages),
        metadata=metadata,
    )


def shard_path(out_dir: Path, key: str, to_format: str) -> Path:
    return out_dir / "shards" / f"{key}{SHARD_SUFFIXES[to_format]}"


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def write_shard(docs: list[Document], final: Path, to_format: str) -> ReadReport:
    """Writes a temporary file (or folder) beside ``final``, then renames it into place, so a
    shard on disk is always complete."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        report = write(docs, tmp, to_format)
        if to_format == "brat":
            _add_brat_notes(docs, tmp)
        _fsync(tmp)
        if final.is_dir():
            # a folder cannot be renamed over a non-empty one; a stale one is an earlier
            # unrecorded attempt at this very shard
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise
    return report


def _fsync(path: Path) -> None:
    for f in sorted(path.iterdir()) if path.is_dir() else [path]:
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


def _add_brat_notes(docs: list[Document], folder: Path) -> None:
    # the brat writer numbers T lines in sorted_entities() order; a note names its T line
    for doc in docs:
        notes = []
        for i, e in enumerate(doc.sorted_entities(), start=1):
            if e.score is not None:
                notes.append(
                    f"#{len(notes) + 1}\tAnnotatorNotes T{i}\t"
                    f"score={float(e.score)!r} annotator={doc.metadata.get('annotator', '')}\n"
                )
        if notes:
            with open(folder / f"{doc.id}.ann", "a", encoding="utf-8", newline="") as fh:
                fh.writelines(notes)
