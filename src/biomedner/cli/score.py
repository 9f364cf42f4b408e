"""``biomedner score``: score any prediction file against any gold file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomedner.cli.app import app
from biomedner.cli.options import check_existing, check_output_file
from biomedner.corpora._util import read_text
from biomedner.errors import InputError


@app.command("score")
def score_command(
    gold: str = typer.Option(
        ..., "--gold", "-g", help="Gold corpus file/folder, or BENCHMARK:SPLIT from the registry."
    ),
    pred: Path = typer.Option(..., "--pred", "-p", help="Prediction corpus file/folder."),
    gold_format: str | None = typer.Option(None, help="Format of --gold (default: guessed)."),
    pred_format: str | None = typer.Option(
        None, help="Format of --pred: a corpus format, or 'predict' (default: guessed)."
    ),
    benchmark: str | None = typer.Option(
        None, help="Map gold raw types with this registered benchmark's label map."
    ),
    label_map: Path | None = typer.Option(
        None, help="JSON object mapping gold raw types to the predicted label strings."
    ),
    allow_missing: bool = typer.Option(
        False, help="Score gold documents without predictions as empty predictions."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the JSON report here."),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples for confidence intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    data_root: Path | None = typer.Option(None, help="Benchmark data folder for BENCHMARK:SPLIT."),
) -> None:
    """Strict, relaxed and boundary P/R/F1 (micro, macro, per type) with 95% bootstrap CIs.
    --pred takes any corpus file, or the JSONL that ``biomedner predict`` writes (texts are then
    taken from the gold documents with the same ids)."""
    from biomedner.evaluation.score_files import score_files

    check_existing(pred, "--pred")
    if out is not None:
        check_output_file(out, "--out")
    if bootstrap < 0:
        raise InputError(f"--bootstrap {bootstrap} is negative; give 0 (no intervals) or more")
    mapping = None
    if label_map is not None:
        check_existing(label_map, "--label-map", kind="file")
        try:
            mapping = json.loads(read_text(label_map))
        except json.JSONDecodeError as exc:
            raise InputError(f"--label-map {str(label_map)!r}: not valid JSON ({exc})") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise InputError(
                f"--label-map {str(label_map)!r}: give a JSON object of gold type -> label string"
            )
    report = score_files(
        gold,
        pred,
        gold_format=gold_format,
        pred_format=pred_format,
        benchmark=benchmark,
        label_map=mapping,
        allow_missing=allow_missing,
        n_resamples=bootstrap,
        seed=seed,
        data_root=data_root,
    )
    from biomedner.evaluation.markdown import report_markdown

    if out is not None:
        report.to_json(out)
    typer.echo(report_markdown(report))
    if out is not None:
        typer.echo(f"wrote {out}", err=True)
