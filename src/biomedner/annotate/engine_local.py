"""The local engine: the parent reads and cuts shards; one model predicts them in this process,
or N worker processes (one model each, on a CPU share or their own GPU) predict them while the
parent writes the results back in input order."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from biomedner.annotate.context import RunContext
from biomedner.annotate.predictor import PredictSettings, ShardPredictor
from biomedner.annotate.shards import Shard
from biomedner.corpora import Document
from biomedner.types import Entity

_WORKER: ShardPredictor | None = None


def run_local(ctx: RunContext, shards: Iterator[Shard], settings: list[PredictSettings]) -> None:
    """``settings`` holds one entry per worker (its device and thread count)."""
    if len(settings) == 1:
        predictor = ShardPredictor(settings[0])
        for shard in shards:
            if shard.fatal is not None:
                raise ctx.stopped(shard.fatal)
            if not ctx.is_done(shard):
                ctx.commit(shard, predictor.predict(shard.documents))
        return
    _run_pool(ctx, shards, settings)


def _init_worker(queue: Any) -> None:
    global _WORKER
    _WORKER = ShardPredictor(PredictSettings.model_validate(queue.get()))


def _predict(docs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    assert _WORKER is not None
    predicted = _WORKER.predict([Document.from_dict(d) for d in docs])
    return [[e.to_dict() for e in ents] for ents in predicted]


def _run_pool(ctx: RunContext, shards: Iterator[Shard], settings: list[PredictSettings]) -> None:
    spawn = multiprocessing.get_context("spawn")  # fork would share torch's thread pools
    queue = spawn.Queue()
    for s in settings:
        queue.put(s.model_dump())
    # two shards per worker in flight: workers never wait, memory stays a few shards
    window: deque[tuple[Shard, Future[list[list[dict[str, Any]]]]]] = deque()
    limit = 2 * len(settings)
    with ProcessPoolExecutor(
        max_workers=len(settings), mp_context=spawn, initializer=_init_worker, initargs=(queue,)
    ) as pool:

        def drain(keep: int) -> None:
            while len(window) > keep:
                shard, future = window.popleft()
                predicted = [[Entity.from_dict(e) for e in ents] for ents in future.result()]
                ctx.commit(shard, predicted)

        try:
            for shard in shards:
                if shard.fatal is not None:
                    drain(0)
                    raise ctx.stopped(shard.fatal)
                if ctx.is_done(shard):
                    continue
                docs = [d.to_dict() for d in shard.documents]
                window.append((shard, pool.submit(_predict, docs)))
                drain(limit - 1)
            drain(0)
        except BaseException:
            for _, future in window:
                future.cancel()
            raise


def cpu_threads(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)
