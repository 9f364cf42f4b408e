"""``biomedner score``: score any prediction file against any gold file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError, InputError


@app.command("score")
def score_command(
    gold: str = typer.Option(
        ..., "--gold", "-g", help="Gold corpus file/folder, or BENCHMARK:SPLIT from the registry."
    ),
    pred: Path = typer.Option(..., "--pred", "-p", help="Prediction corpus file/folder."),
    gold_format: str | None = typer.Option(None, help="Format of --gold (default: guessed)."),
    pred_format: str | None = typer.Option(None, help="Format of --pred (default: guessed)."),
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
    """Strict, relaxed and boundary P/R/F1 (micro, macro, per type) with 95% bootstrap CIs."""
    from biomedner.evaluation.score_files import score_files

    try:
        mapping = None
        if label_map is not None:
            mapping = json.loads(label_map.read_text(encoding="utf-8"))
            if not isinstance(mapping, dict):
                raise InputError(f"{label_map}: the label map must be a JSON object")
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
    except (BiomednerError, json.JSONDecodeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from biomedner.evaluation.markdown import report_markdown

    typer.echo(report_markdown(report))
    if out is not None:
        report.to_json(out)
        typer.echo(f"wrote {out}", err=True)
