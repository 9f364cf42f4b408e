"""``biomedner predict``: entities for a string, a .txt file or a JSONL file of {"id", "text"}."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError, FormatError, InputError
from biomedner.types import DECODE_MODES


def _read_inputs(source: str) -> tuple[str, list[tuple[str, str]]]:
    """-> (kind, [(id, text)]). A path ending .jsonl is read as records, any other existing
    file as one text; anything else is the text itself."""
    path = Path(source)
    if len(source) < 4096 and path.is_file():
        if path.suffix.lower() in {".jsonl", ".ndjson"}:
            return "jsonl", list(_read_jsonl(path))
        return "file", [(path.stem, path.read_text(encoding="utf-8"))]
    return "text", [("text", source)]


def _read_jsonl(path: Path) -> Iterator[tuple[str, str]]:
    from biomedner.io.jsonl import iter_jsonl, require_str

    seen: set[str] = set()
    for line_no, record in iter_jsonl(path):
        text = require_str(record, "text", path, line_no)
        doc_id = str(record.get("id", line_no))
        if doc_id in seen:
            raise FormatError(f"id {doc_id!r} appears twice", str(path), line_no)
        seen.add(doc_id)
        yield doc_id, text


@app.command("predict")
def predict_command(
    input: Annotated[
        str, typer.Argument(help="a text, a .txt file, or a .jsonl file of {id, text}")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="checkpoint directory or hub id")],
    labels: Annotated[
        str, typer.Option("--labels", "-l", help='comma-separated, e.g. "disease,chemical"')
    ],
    threshold: Annotated[float, typer.Option(help="keep spans scoring above this")] = 0.5,
    mode: Annotated[str, typer.Option(help="flat, nested or multi_label")] = "flat",
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:1, mps")] = "cpu",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    precision: Annotated[
        str, typer.Option(help="fp32, or bf16/fp16 autocast (GPU; bf16 also on CPUs with it)")
    ] = "fp32",
    quantize: Annotated[
        str | None, typer.Option(help="int8: int8 linear layers (CPU only)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL file (default: stdout)")
    ] = None,
) -> None:
    """Find entities; writes one JSON line per input text: {"id", "entities": [...]}."""
    from biomedner.model import NERModel

    if precision not in {"fp32", "bf16", "fp16"}:
        raise typer.BadParameter("choose fp32, bf16 or fp16", param_hint="--precision")
    if mode not in DECODE_MODES:
        raise typer.BadParameter(f"choose one of {', '.join(DECODE_MODES)}", param_hint="--mode")
    label_list = [part.strip() for part in labels.split(",") if part.strip()]
    try:
        kind, records = _read_inputs(input)
        if not label_list:
            raise InputError("--labels is empty")
        _check_speed_options(quantize, precision, device)
        ner = NERModel.from_pretrained(model, device=device, quantize=quantize)
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            _run(
                ner,
                records,
                label_list,
                threshold,
                mode,
                batch_size,
                out,
                show=kind == "jsonl",
                precision=precision,
            )
        finally:
            if output:
                out.close()
    except BiomednerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _check_speed_options(quantize: str | None, precision: str, device: str) -> None:
    if quantize is None:
        return
    if quantize != "int8":
        raise InputError(f"--quantize {quantize!r} is unknown; the one supported is int8")
    if device != "cpu":
        raise InputError("--quantize int8 runs on CPU only; use --precision bf16 on a GPU")
    if precision != "fp32":
        raise InputError("--quantize int8 runs in fp32; drop --precision")


def _run(
    ner, records, labels, threshold, mode, batch_size, out, *, show: bool, precision: str
) -> None:
    from tqdm import tqdm

    from biomedner.modeling.precision import autocast_dtype

    autocast = autocast_dtype(precision, ner.device)
    chunk = max(batch_size * 8, 64)
    bar = tqdm(total=len(records), unit="text", disable=not show, file=sys.stderr)
    for i in range(0, len(records), chunk):
        part = records[i : i + chunk]
        results = ner.predict_batch(
            [text for _, text in part],
            labels,
            threshold=threshold,
            mode=mode,
            batch_size=batch_size,
            autocast_dtype=autocast,
        )
        for (doc_id, _), entities in zip(part, results, strict=True):
            out.write(
                json.dumps(
                    {"id": doc_id, "entities": [e.to_dict() for e in entities]}, ensure_ascii=False
                )
                + "\n"
            )
        out.flush()
        bar.update(len(part))
    bar.close()
