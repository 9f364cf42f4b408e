"""``biomedner predict``: entities for a string, a .txt file or a JSONL file of {"id", "text"}."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from biomedner.cli.app import app
from biomedner.cli.inputs import check_unicode, read_inputs
from biomedner.cli.options import (
    check_choice,
    check_device,
    check_output_file,
    check_speed_options,
    check_threshold,
)
from biomedner.errors import InputError
from biomedner.types import DECODE_MODES


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
    precision: Annotated[
        str, typer.Option(help="fp32, or bf16/fp16 autocast (GPU; bf16 also on CPUs with it)")
    ] = "fp32",
    quantize: Annotated[
        str | None, typer.Option(help="int8: int8 linear layers (CPU only)")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="JSONL file, written when every text is done"),
    ] = None,
) -> None:
    """Find entities; writes one JSON line per input text: {"id", "entities": [...]}."""
    # every option and the input are checked before the model loads (seconds to minutes)
    check_choice(mode, DECODE_MODES, "--mode")
    check_threshold(threshold)
    device = check_device(device)
    if output is not None:
        check_output_file(output, "--output")
    label_list = _labels_option(labels, labels_file)
    check_speed_options(quantize, precision, device)
    inputs = read_inputs(input)

    from biomedner.io.quiet import quiet_transformers
    from biomedner.model import NERModel

    with quiet_transformers():
        ner = NERModel.from_pretrained(model, device=device, quantize=quantize)
    run = dict(
        ner=ner,
        records=inputs.records,
        labels=label_list,
        threshold=threshold,
        mode=mode,
        batch_size=batch_size,
        show=inputs.kind == "jsonl",
        precision=precision,
    )
    if output is None:
        _run(out=sys.stdout, **run)
        return
    from biomedner.io.atomic import atomic_open

    # the previous file stays until every text is done; a failure leaves it untouched
    with atomic_open(output) as out:
        _run(out=out, **run)


def _run(
    *,
    ner: Any,
    records: list[tuple[str, str]],
    labels: list[str] | dict[str, str],
    threshold: float,
    mode: str,
    batch_size: int,
    out: IO[str],
    show: bool,
    precision: str,
) -> None:
    from tqdm import tqdm

    from biomedner.modeling.precision import autocast_dtype

    autocast = autocast_dtype(precision, ner.device)
    chunk = max(batch_size * 8, 64)
    bar = tqdm(total=len(records), unit="text", disable=not show, file=sys.stderr)
    try:
        for i in range(0, len(records), chunk):
            part = records[i : i + chunk]
            results = ner.predict_batch(
                [text for _, text in part],
                labels,
                threshold=threshold,
                mode=mode,
                batch_size=batch_size,
                autocast_dtype=autocast,
                progress=not show,  # one long text: its windows are the progress
            )
            for (doc_id, _), entities in zip(part, results, strict=True):
                row = {"id": doc_id, "entities": [e.to_dict() for e in entities]}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            bar.update(len(part))
    finally:
        bar.close()  # ends the bar's line, so an error message starts a line of its own


def _labels_option(labels: str | None, labels_file: Path | None) -> list[str] | dict[str, str]:
    """Exactly one of --labels / --labels-file, checked before the model loads."""
    if (labels is None) == (labels_file is None):
        raise InputError("give the labels with exactly one of --labels or --labels-file")
    if labels is not None:
        label_list = [part.strip() for part in labels.split(",") if part.strip()]
        if not label_list:
            raise InputError("--labels is empty; give comma-separated labels, e.g. -l disease,drug")
        for label in label_list:
            check_unicode(label, "--labels", None)
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
    items = data.items() if isinstance(data, dict) else [(x, "") for x in data]
    for key, value in items:
        for part in (key, value):
            if isinstance(part, str):
                check_unicode(part, "--labels-file", None)
    try:
        normalize_labels(data)
    except InputError as exc:
        raise InputError(f"--labels-file {labels_file}: {exc}") from None
    return data
