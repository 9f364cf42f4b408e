"""Cutting sources into shards of ``shard_size`` records.

A shard never spans two sources, so its name (``<source index>-<shard index>``) and its content
depend only on the inputs and the shard size: a rerun cuts the same shards, which is what makes
resume exact. Rejected records count toward the shard they fall in, so a shard's documents and
rejects together are always the same input records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from biomedner.annotate.readers import iter_items
from biomedner.annotate.records import Item, Reject
from biomedner.annotate.sources import Source
from biomedner.corpora import Document


@dataclass
class Shard:
    source_index: int
    index: int
    path: str
    format: str
    byte_start: int
    byte_end: int
    documents: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    input_hash: str = ""
    fatal: Reject | None = None  # a bad record met under --on-error stop: nothing to write

    @property
    def key(self) -> str:
        return shard_key(self.source_index, self.index)

    def to_json(self) -> str:
        """Everything an engine needs to ship a shard to another process or machine."""
        return json.dumps(
            {
                "source_index": self.source_index,
                "index": self.index,
                "path": self.path,
                "format": self.format,
                "byte_start": self.byte_start,
                "byte_end": self.byte_end,
                "documents": [d.to_dict() for d in self.documents],
                "rejects": [r.to_dict() for r in self.rejects],
                "input_hash": self.input_hash,
                "fatal": self.fatal.to_dict() if self.fatal else None,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Shard:
        data: dict[str, Any] = json.loads(text)
        return cls(
            source_index=data["source_index"],
            index=data["index"],
            path=data["path"],
            format=data["format"],
            byte_start=data["byte_start"],
            byte_end=data["byte_end"],
            documents=[Document.from_dict(d) for d in data["documents"]],
            rejects=[Reject.from_dict(r) for r in data["rejects"]],
            input_hash=data["input_hash"],
            fatal=Reject.from_dict(data["fatal"]) if data["fatal"] else None,
        )


def shard_key(source_index: int, index: int) -> str:
    return f"{source_index:05d}-{index:06d}"


def _hash(items: list[Item]) -> str:
    h = hashlib.sha256()
    for item in items:
        rec = item.doc.to_dict() if item.doc is not None else {"reject": item.reject.to_dict()}  # type: ignore[union-attr]
        h.update(json.dumps(rec, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _make(source_index: int, index: int, source: Source, items: list[Item]) -> Shard:
    return Shard(
        source_index=source_index,
        index=index,
        path=source.path,
        format=source.format,
        byte_start=items[0].byte_start,
        byte_end=max(item.byte_end for item in items),
        documents=[item.doc for item in items if item.doc is not None],
        rejects=[item.reject for item in items if item.reject is not None],
        input_hash=_hash(items),
    )


def iter_source_shards(
    source_index: int,
    source: Source,
    shard_size: int,
    *,
    stop_on_reject: bool,
    discontinuous: str = "error",
) -> Iterator[Shard]:
    """The shards of one source, in order. Under ``stop_on_reject`` the first bad record ends
    the stream with a shard whose ``fatal`` names it (the partial shard is not returned)."""
    items: list[Item] = []
    index = 0
    for item in iter_items(source, discontinuous=discontinuous):
        if item.reject is not None and stop_on_reject:
            yield Shard(
                source_index, index, source.path, source.format, item.byte_start, item.byte_end,
                fatal=item.reject,
            )  # fmt: skip
            return
        items.append(item)
        if len(items) == shard_size:
            yield _make(source_index, index, source, items)
            items, index = [], index + 1
    if items:
        yield _make(source_index, index, source, items)


def iter_shards(
    sources: list[Source], shard_size: int, *, stop_on_reject: bool, discontinuous: str = "error"
) -> Iterator[Shard]:
    for i, source in enumerate(sources):
        for shard in iter_source_shards(
            i, source, shard_size, stop_on_reject=stop_on_reject, discontinuous=discontinuous
        ):
            yield shard
            if shard.fatal is not None:
                return
