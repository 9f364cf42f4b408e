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
        str | None,
        typer.Option("--labels", "-l", help='comma-separated, e.g. "disease,chemical"'),
    ] = None,
    labels_file: Annotated[
        Path | None,
        typer.Option(
            "--labels-file",
            help='JSON: a list of labels, or {"label": "description"} (the model reads the '
            "description, entities carry the label)",
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="keep spans scoring above this")] = 0.5,
    mode: Annotated[str, typer.Option(help="flat, nested or multi_label")] = "flat",
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:1, mps")] = "cpu",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    precision: Annotated[str, typer.Option(help="fp32, or bf16/fp16 autocast (GPU)")] = "fp32",
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
    try:
        label_list = _labels_option(labels, labels_file)
        kind, records = _read_inputs(input)
        ner = NERModel.from_pretrained(model, device=device)
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


def _labels_option(labels: str | None, labels_file: Path | None) -> list[str] | dict[str, str]:
    """Exactly one of --labels / --labels-file, checked before the model loads."""
    if (labels is None) == (labels_file is None):
        raise InputError("give the labels with exactly one of --labels or --labels-file")
    if labels is not None:
        label_list = [part.strip() for part in labels.split(",") if part.strip()]
        if not label_list:
            raise InputError("--labels is empty")
        return label_list
    from biomedner.labels import normalize_labels

    assert labels_file is not None
    if not labels_file.is_file():
        raise InputError(f"--labels-file {labels_file} does not exist")
    try:
        data = json.loads(labels_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"--labels-file {labels_file} is not valid JSON ({exc})") from None
    if not isinstance(data, (list, dict)):
        raise InputError(
            f"--labels-file {labels_file} must hold a JSON list of labels or an object "
            '{"label": "description"}'
        )
    try:
        normalize_labels(data)
    except InputError as exc:
        raise InputError(f"--labels-file {labels_file}: {exc}") from None
    return data


def _run(
    ner, records, labels, threshold, mode, batch_size, out, *, show: bool, precision: str
) -> None:
    import torch
    from tqdm import tqdm

    autocast = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
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
