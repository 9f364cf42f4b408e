"""The progress bar on stderr: input bytes read (so the ETA covers the whole corpus), with
documents, documents/s and entities of this run alongside."""

from __future__ import annotations

import sys
import time

from biomedner.annotate.shards import Shard


class Progress:
    def __init__(self, total_bytes: int, *, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total_bytes,
            unit="B",
            unit_scale=True,
            desc="annotate",
            file=sys.stderr,
            disable=not enabled,
            dynamic_ncols=True,
        )
        self.started = time.perf_counter()
        self.documents = 0
        self.entities = 0
        self._read_to: dict[int, int] = {}

    def advance(self, shard: Shard, *, documents: int = 0, entities: int = 0) -> None:
        seen = self._read_to.get(shard.source_index, 0)
        if shard.byte_end > seen:
            self.bar.update(shard.byte_end - seen)
            self._read_to[shard.source_index] = shard.byte_end
        self.documents += documents
        self.entities += entities
        rate = self.documents / max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix(docs=self.documents, docs_s=f"{rate:.1f}", entities=self.entities)

    def close(self) -> None:
        self.bar.close()
