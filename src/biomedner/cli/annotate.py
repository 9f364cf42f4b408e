"""``biomedner annotate``: a whole corpus, streamed in shards, resumable, into a corpus format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.cli.options import check_choice
from biomedner.errors import BiomednerError, InputError
from biomedner.types import DECODE_MODES

_FIELD_FLAGS = {
    "labels": "--labels",
    "threshold": "--threshold",
    "shard_size": "--shard-size",
    "batch_size": "--batch-size",
    "workers": "--workers",
    "actors": "--actors",
    "cpus_per_actor": "--cpus-per-actor",
    "gpus_per_actor": "--gpus-per-actor",
    "ray_num_cpus": "--ray-num-cpus",
    "to_format": "--to",
}


def _check_devices(spec: str | None, workers: int, engine: str) -> list[str]:
    from biomedner.annotate.options import parse_devices

    if spec is None:
        return ["cpu"]
    if engine == "ray":
        raise InputError(
            "--devices is for the local engine; with --engine ray use --gpus-per-actor"
        )
    try:
        devices = parse_devices(spec)
    except ValueError as exc:
        raise InputError(f"--devices: {exc}") from None
    if len(devices) > 1 and workers not in (1, len(devices)):
        raise InputError(
            f"--workers {workers} does not match the {len(devices)} devices of --devices; "
            "one worker runs per listed device"
        )
    cuda = [d for d in devices if d.startswith("cuda")]
    if cuda:
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        for d in cuda:
            index = int(d.split(":")[1]) if ":" in d else 0
            if index >= count:
                raise InputError(f"--devices: {d} is not available here ({count} CUDA device(s))")
    return devices


@app.command("annotate")
def annotate_command(
    inputs: Annotated[
        list[str],
        typer.Argument(help="files, globs or folders (JSONL, PubTator, BioC, brat, CoNLL, .txt)"),
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="checkpoint directory or hub id")],
    labels: Annotated[
        str, typer.Option("--labels", "-l", help='comma-separated, e.g. "disease,chemical"')
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="output folder (shards, manifest)")],
    from_format: Annotated[
        str | None, typer.Option("--from", help="input format (default: sniffed per file)")
    ] = None,
    to_format: Annotated[
        str | None,
        typer.Option(
            "--to", help="pubtator, bioc-xml, bioc-json, brat or jsonl (default: input's)"
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="keep spans scoring above this")] = 0.5,
    mode: Annotated[str, typer.Option(help="flat, nested or multi_label")] = "flat",
    shard_size: Annotated[int, typer.Option("--shard-size", help="documents per shard")] = 1000,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 8,
    precision: Annotated[str, typer.Option(help="fp32, or bf16/fp16 autocast (GPU)")] = "fp32",
    keep_gold: Annotated[
        bool, typer.Option("--keep-gold", help="keep the input's annotations beside predictions")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an earlier run in --out")
    ] = False,
    on_error: Annotated[
        str, typer.Option("--on-error", help="stop, or skip bad records into rejects.jsonl")
    ] = "stop",
    discontinuous: Annotated[
        str,
        typer.Option(help="input annotations in several fragments: error, fragments, merge, skip"),
    ] = "error",
    engine: Annotated[str, typer.Option(help="local or ray")] = "local",
    workers: Annotated[int, typer.Option(help="local worker processes, one model each")] = 1,
    devices: Annotated[
        str | None, typer.Option(help="cpu, or GPUs one worker each: cuda:0,cuda:1")
    ] = None,
    actors: Annotated[int, typer.Option(help="Ray: model actors")] = 1,
    cpus_per_actor: Annotated[float, typer.Option("--cpus-per-actor", help="Ray")] = 1.0,
    gpus_per_actor: Annotated[float, typer.Option("--gpus-per-actor", help="Ray")] = 0.0,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray: join this cluster (default: local)")
    ] = None,
    ray_num_cpus: Annotated[
        int | None, typer.Option("--ray-num-cpus", help="Ray: CPUs of a local instance")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Annotate a corpus into OUT: shards written atomically, a manifest, resumable, summary.json."""
    from pydantic import ValidationError

    from biomedner.annotate import AnnotateOptions, AnnotateStopped, run_annotate
    from biomedner.annotate.run import prepare

    check_choice(mode, DECODE_MODES, "--mode")
    check_choice(precision, ("fp32", "bf16", "fp16"), "--precision")
    check_choice(on_error, ("stop", "skip"), "--on-error")
    check_choice(engine, ("local", "ray"), "--engine")
    check_choice(discontinuous, ("error", "fragments", "merge", "skip"), "--discontinuous")
    if engine == "local" and (ray_address or actors != 1):
        raise InputError("--ray-address and --actors need --engine ray")
    if engine == "ray" and workers != 1:
        raise InputError("--workers is for the local engine; with --engine ray use --actors")
    device_list = _check_devices(devices, workers, engine)
    label_list = [part.strip() for part in labels.split(",") if part.strip()]
    if not label_list:
        raise InputError("--labels is empty; give comma-separated label names")
    try:
        options = AnnotateOptions(
            inputs=inputs,
            out=out,
            model=model,
            labels=label_list,
            from_format=from_format,
            to_format=to_format,
            threshold=threshold,
            mode=mode,
            shard_size=shard_size,
            batch_size=batch_size,
            precision=precision,
            keep_gold=keep_gold,
            overwrite=overwrite,
            on_error=on_error,
            discontinuous=discontinuous,
            engine=engine,
            workers=workers,
            devices=device_list,
            actors=actors,
            cpus_per_actor=cpus_per_actor,
            gpus_per_actor=gpus_per_actor,
            ray_address=ray_address,
            ray_num_cpus=ray_num_cpus,
            progress=progress,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        flag = _FIELD_FLAGS.get(field, f"--{field.replace('_', '-')}")
        raise InputError(f"{flag}: {first['msg']}") from None
    try:
        prepared = prepare(options)
        summary = run_annotate(options, prepared)
    except AnnotateStopped as exc:
        raise InputError(
            f"{exc} (stopped; {exc.finished} finished shard(s) kept in {out}; fix the record "
            "and rerun, or pass --on-error skip)"
        ) from None
    except BiomednerError as exc:
        raise InputError(str(exc)) from None
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
