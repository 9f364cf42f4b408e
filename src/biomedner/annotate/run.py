"""One ``annotate`` run: check everything that can be checked before a model loads, then hand
the shards to an engine and write the summary."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from biomedner.annotate.context import AnnotateStopped, RunContext
from biomedner.annotate.engine_local import cpu_threads, run_local
from biomedner.annotate.manifest import MANIFEST, Manifest, RunSettings, config_hash
from biomedner.annotate.options import OUTPUT_FORMATS, AnnotateOptions
from biomedner.annotate.predictor import PredictSettings
from biomedner.annotate.progress import Progress
from biomedner.annotate.shards import iter_shards
from biomedner.annotate.sources import Source, expand_inputs
from biomedner.annotate.summary import build_summary, collect_rejects, write_summary
from biomedner.errors import InputError
from biomedner.logging import get_logger

__all__ = ["AnnotateStopped", "Prepared", "prepare", "run_annotate"]

_log = get_logger(__name__)


class Prepared:
    """A run whose inputs, output folder and model config have been checked."""

    def __init__(
        self, options: AnnotateOptions, sources: list[Source], settings: RunSettings
    ) -> None:
        self.options = options
        self.sources = sources
        self.settings = settings


def default_output_format(sources: list[Source]) -> str:
    formats = sorted({s.format for s in sources})
    if len(formats) > 1:
        raise InputError(
            f"the inputs mix formats ({', '.join(formats)}); name the output format with --to"
        )
    return formats[0] if formats[0] in OUTPUT_FORMATS else "jsonl"


def prepare(options: AnnotateOptions) -> Prepared:
    """Raises InputError (or CheckpointError for the model) naming what to fix; loads no model."""
    from biomedner import __version__

    sources = expand_inputs(options.inputs, options.from_format)
    to_format = options.to_format or default_output_format(sources)
    if options.engine == "ray":
        from biomedner.annotate.engine_ray import require_ray

        require_ray()
    out = options.out
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    settings = RunSettings(
        model=options.model,
        config_hash=config_hash(options.model),
        labels=list(options.labels),
        threshold=options.threshold,
        mode=options.mode,
        to_format=to_format,
        keep_gold=options.keep_gold,
        shard_size=options.shard_size,
        on_error=options.on_error,
        discontinuous=options.discontinuous,
        inputs=[[s.path, s.format] for s in sources],
        library_version=__version__,
    )
    if not options.overwrite:
        manifest = Manifest(out)
        manifest.load()
        manifest.check_compatible(settings)
    return Prepared(options, sources, settings)


def _clear(out: Path) -> None:
    """Only what an earlier run wrote: other files in the folder are the user's."""
    shutil.rmtree(out / "shards", ignore_errors=True)
    for name in (MANIFEST, "rejects.jsonl", "summary.json"):
        (out / name).unlink(missing_ok=True)


def _remove_stale_temporaries(out: Path) -> None:
    """Half-written shards of a killed run (never renamed into place, so never recorded)."""
    for tmp in (out / "shards").glob(".*.tmp-*"):
        if tmp.is_dir():
            shutil.rmtree(tmp)
        else:
            tmp.unlink()


def _engine_info(options: AnnotateOptions) -> dict[str, Any]:
    if options.engine == "ray":
        return {
            "engine": "ray",
            "actors": options.actors,
            "cpus_per_actor": options.cpus_per_actor,
            "gpus_per_actor": options.gpus_per_actor,
            "ray_address": options.ray_address or "local",
        }
    devices = options.worker_devices
    return {"engine": "local", "workers": len(devices), "devices": devices}


def run_annotate(options: AnnotateOptions, prepared: Prepared | None = None) -> dict[str, Any]:
    """Annotates every input into ``options.out``; returns the summary (also in summary.json).
    Raises AnnotateStopped on a bad record under ``on_error="stop"``, after writing the summary
    of the shards finished so far."""
    prepared = prepared or prepare(options)
    settings, sources = prepared.settings, prepared.sources
    out = options.out
    if options.overwrite:
        _clear(out)
    _remove_stale_temporaries(out)
    manifest = Manifest(out)
    manifest.load()
    manifest.start(settings)
    total = sum(s.size() for s in sources)
    progress = Progress(total, enabled=options.progress)
    ctx = RunContext(out, settings, manifest, progress)
    predict = PredictSettings(
        model=options.model,
        labels=list(options.labels),
        threshold=options.threshold,
        mode=options.mode,
        batch_size=options.batch_size,
        precision=options.precision,
    )
    started = time.perf_counter()
    try:
        if options.engine == "ray":
            from biomedner.annotate.engine_ray import run_ray

            run_ray(
                ctx,
                sources,
                predict,
                actors=options.actors,
                cpus_per_actor=options.cpus_per_actor,
                gpus_per_actor=options.gpus_per_actor,
                address=options.ray_address,
                num_cpus=options.ray_num_cpus,
            )
        else:
            devices = options.worker_devices
            per_worker = [
                predict.model_copy(
                    update={
                        "device": dev,
                        "threads": cpu_threads(len(devices))
                        if dev == "cpu" and len(devices) > 1
                        else None,
                    }
                )
                for dev in devices
            ]
            shards = iter_shards(
                sources,
                settings.shard_size,
                stop_on_reject=settings.on_error == "stop",
                discontinuous=settings.discontinuous,
            )
            run_local(ctx, shards, per_worker)
    finally:
        progress.close()
        wall = time.perf_counter() - started
        collect_rejects(ctx)
        summary = build_summary(ctx, wall_time=wall, engine=_engine_info(options))
        write_summary(ctx, summary)
    return summary
