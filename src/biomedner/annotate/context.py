"""The state one run shares between its engine and the shard writer: output folder, manifest,
progress. Engines call :meth:`RunContext.is_done` and :meth:`RunContext.commit`; nothing else
touches the output."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from biomedner.annotate.manifest import Manifest, RunSettings, ShardRecord
from biomedner.annotate.output import output_document, shard_path, write_shard
from biomedner.annotate.predictor import passages_of
from biomedner.annotate.progress import Progress
from biomedner.annotate.records import Reject
from biomedner.annotate.shards import Shard
from biomedner.errors import InputError
from biomedner.types import Entity


class AnnotateStopped(Exception):
    """A bad record stopped the run (``--on-error stop``); finished shards are kept."""

    def __init__(self, reject: Reject, finished: int) -> None:
        self.reject = reject
        self.finished = finished
        super().__init__(reject.message())


class RunContext:
    def __init__(
        self, out_dir: Path, settings: RunSettings, manifest: Manifest, progress: Progress
    ) -> None:
        self.out_dir = out_dir
        self.settings = settings
        self.manifest = manifest
        self.progress = progress
        self.written = 0
        self.skipped = 0
        self.documents_this_run = 0

    def is_done(self, shard: Shard) -> bool:
        """True for a shard an earlier run finished (its input unchanged); InputError when the
        input under that shard has changed since."""
        record = self.manifest.shards.get(shard.key)
        if record is None or not (self.out_dir / record.output).exists():
            return False
        if record.input_hash != shard.input_hash:
            raise InputError(
                f"input {shard.path} has changed since shard {shard.key} was written "
                f"(records {shard.index * self.settings.shard_size} onwards); pass --overwrite "
                "to annotate it afresh"
            )
        self.skipped += 1
        self.progress.advance(shard)
        return True

    def commit(self, shard: Shard, predicted: list[list[Entity]]) -> None:
        s = self.settings
        docs = [
            output_document(
                doc, ents, keep_gold=s.keep_gold, annotator=s.model, to_format=s.to_format
            )
            for doc, ents in zip(shard.documents, predicted, strict=True)
        ]
        path = shard_path(self.out_dir, shard.key, s.to_format)
        write_shard(docs, path, s.to_format)
        if shard.rejects:
            _write_lines(
                self.rejects_path(shard.key),
                [json.dumps(r.to_dict(), ensure_ascii=False) for r in shard.rejects],
            )
        per_label = Counter(e.label for ents in predicted for e in ents)
        n_entities = sum(per_label.values())
        self.manifest.append(
            ShardRecord(
                shard=shard.key,
                input=shard.path,
                format=shard.format,
                byte_start=shard.byte_start,
                byte_end=shard.byte_end,
                input_hash=shard.input_hash,
                output=str(path.relative_to(self.out_dir)),
                documents=len(docs),
                passages=sum(len(passages_of(d)) for d in shard.documents),
                entities=n_entities,
                entities_per_label=dict(sorted(per_label.items())),
                rejects=len(shard.rejects),
                model=s.model,
                config_hash=s.config_hash,
            )
        )
        self.written += 1
        self.documents_this_run += len(docs)
        self.progress.advance(shard, documents=len(docs), entities=n_entities)

    def rejects_path(self, key: str) -> Path:
        return self.out_dir / "shards" / f"{key}.rejects.jsonl"

    def stopped(self, reject: Reject) -> AnnotateStopped:
        return AnnotateStopped(reject, len(self.manifest.shards))


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
