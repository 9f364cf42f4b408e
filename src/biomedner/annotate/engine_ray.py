"""The Ray Data engine: sources are read and cut into shards by Ray tasks (``flat_map``), a pool
of model actors predicts one shard per call (``map_batches`` with :class:`RayShardPredictor`),
and the driver writes each shard and its manifest line in input order through the same
:class:`RunContext` as the local engine, so output and resume are identical.

Ray is imported here only; ``biomedner[ray]`` installs it."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from biomedner.annotate.context import RunContext
from biomedner.annotate.predictor import PredictSettings, ShardPredictor
from biomedner.annotate.shards import Shard, iter_source_shards
from biomedner.annotate.sources import Source
from biomedner.errors import InputError
from biomedner.logging import get_logger
from biomedner.types import Entity

_log = get_logger(__name__)
# reading a source is light next to predicting; a small CPU share keeps the readers from
# waiting for a free CPU that the model actors hold
_READ_CPUS = 0.25


def require_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise InputError("--engine ray needs Ray Data: pip install 'biomedner[ray]'") from None
    return ray


class _ReadShards:
    """Ray ``flat_map`` function: one source index in, that source's shards out. Shards an
    earlier run finished travel as their key and input hash only."""

    def __init__(
        self,
        sources: list[Source],
        shard_size: int,
        stop: bool,
        done: dict[str, str],
        discontinuous: str,
    ) -> None:
        self.discontinuous = discontinuous
        self.sources = sources
        self.shard_size = shard_size
        self.stop = stop
        self.done = done

    def __call__(self, row: dict[str, Any]) -> Any:
        i = int(row["source_index"])
        for shard in iter_source_shards(
            i,
            self.sources[i],
            self.shard_size,
            stop_on_reject=self.stop,
            discontinuous=self.discontinuous,
        ):
            status = "fatal" if shard.fatal is not None else "todo"
            if status == "todo" and self.done.get(shard.key) == shard.input_hash:
                status = "done"
                shard.documents, shard.rejects = [], []
            yield {"status": status, "shard": shard.to_json(), "entities": ""}


class RayShardPredictor:
    """Ray Data actor: loads the model once, then predicts one shard per batch row."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.predictor = ShardPredictor(PredictSettings.model_validate(settings))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        entities = []
        for status, text in zip(batch["status"], batch["shard"], strict=True):
            if status != "todo":
                entities.append("")
                continue
            shard = Shard.from_json(str(text))
            predicted = self.predictor.predict(shard.documents)
            entities.append(json.dumps([[e.to_dict() for e in ents] for ents in predicted]))
        return {"status": batch["status"], "shard": batch["shard"], "entities": entities}


def run_ray(
    ctx: RunContext,
    sources: list[Source],
    settings: PredictSettings,
    *,
    actors: int,
    cpus_per_actor: float,
    gpus_per_actor: float,
    address: str | None,
    num_cpus: int | None,
) -> None:
    ray = require_ray()
    # the actors hold their CPUs for the whole run; the read tasks need a share besides, or they
    # wait forever for a CPU
    needed = actors * cpus_per_actor + _READ_CPUS
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(
                # an explicit --ray-num-cpus is kept (and checked below); by default the
                # instance gets the machine's cores, or enough logical CPUs for the pool
                num_cpus=num_cpus or max(os.cpu_count() or 1, math.ceil(needed)),
                include_dashboard=False,
                log_to_driver=False,
                # the object store only carries shards in flight
                object_store_memory=256 * 1024 * 1024,
            )
        started = True
    try:
        available = ray.cluster_resources().get("CPU", 0.0)
        if available < needed:
            raise InputError(
                f"the Ray cluster has {available:g} CPUs; --actors {actors} x --cpus-per-actor "
                f"{cpus_per_actor:g} plus {_READ_CPUS} for reading needs {needed:g}"
            )
        _pipeline(ray, ctx, sources, settings, actors, cpus_per_actor, gpus_per_actor)
    finally:
        if started:
            ray.shutdown()


def _pipeline(
    ray: Any,
    ctx: RunContext,
    sources: list[Source],
    settings: PredictSettings,
    actors: int,
    cpus_per_actor: float,
    gpus_per_actor: float,
) -> None:
    from ray.data import DataContext

    data_ctx = DataContext.get_current()
    data_ctx.execution_options.preserve_order = True  # shards come back in input order
    data_ctx.enable_progress_bars = False  # our own bar reports progress
    done = {
        key: rec.input_hash
        for key, rec in ctx.manifest.shards.items()
        if (ctx.out_dir / rec.output).exists()
    }
    stop = ctx.settings.on_error == "stop"
    threads = max(1, int(cpus_per_actor))
    # Ray gives a GPU actor its own CUDA_VISIBLE_DEVICES, so "cuda" is the GPU it was assigned
    device = "cuda" if gpus_per_actor > 0 else "cpu"
    actor_settings = settings.model_copy(update={"threads": threads, "device": device}).model_dump()
    ds = ray.data.from_items(
        [{"source_index": i} for i in range(len(sources))], override_num_blocks=len(sources)
    )
    # read tasks run in other working directories, on other nodes of a cluster
    absolute = [Source(str(Path(src.path).resolve()), src.format) for src in sources]
    ds = ds.flat_map(
        _ReadShards(absolute, ctx.settings.shard_size, stop, done, ctx.settings.discontinuous),
        num_cpus=_READ_CPUS,
    )
    ds = ds.map_batches(
        RayShardPredictor,
        fn_constructor_kwargs={"settings": actor_settings},
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
        num_gpus=gpus_per_actor,
    )
    for row in ds.iter_rows():
        shard = Shard.from_json(row["shard"])
        if row["status"] == "fatal":
            assert shard.fatal is not None
            raise ctx.stopped(shard.fatal)
        if row["status"] == "done":
            ctx.is_done(shard)
            continue
        if ctx.is_done(shard):  # raises when the input under a recorded shard has changed
            continue
        predicted = [[Entity.from_dict(e) for e in ents] for ents in json.loads(row["entities"])]
        ctx.commit(shard, predicted)
