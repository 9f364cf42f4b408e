"""``biomedner export``: a checkpoint as an ONNX model directory for ``backend="onnx"``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError, InputError

FORMATS = ("onnx",)


@app.command("export")
def export_command(
    model: Annotated[str, typer.Argument(help="checkpoint directory or hub id")],
    out: Annotated[Path, typer.Argument(help="directory to write (replaced if an ONNX export)")],
    format: Annotated[str, typer.Option("--format", help="onnx")] = "onnx",
    quantize: Annotated[
        str | None, typer.Option(help="int8: onnxruntime dynamic int8 matrix products")
    ] = None,
) -> None:
    """Write MODEL as ONNX graphs; load it with NERModel.from_pretrained(OUT, backend="onnx")."""
    try:
        _check(model, out, format, quantize)
        from biomedner.model import NERModel
        from biomedner.onnx.export import export_onnx

        written = export_onnx(NERModel.from_pretrained(model), out, quantize=quantize)
        typer.echo(f"wrote {written}", err=True)
    except BiomednerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _check(model: str, out: Path, format: str, quantize: str | None) -> None:
    """Every option before the model loads; an existing OUT is replaced only if it is an
    earlier export, never another directory."""
    from biomedner.onnx.model import MANIFEST

    if format not in FORMATS:
        raise InputError(f"--format {format!r} is unknown; the one supported is onnx")
    if quantize is not None and quantize != "int8":
        raise InputError(f"--quantize {quantize!r} is unknown; the one supported is int8")
    if out.exists() and not (out.is_dir() and (out / MANIFEST).is_file()):
        raise InputError(f"{out} exists and is not an ONNX export; choose a new OUT directory")
    if Path(model).exists() and Path(model).resolve() == out.resolve():
        raise InputError("OUT is the model directory; choose a new OUT directory")
