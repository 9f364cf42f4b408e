"""``biomedner compare``: paired significance tests between two evaluation reports."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomedner.cli.app import app
from biomedner.cli.options import check_output_file
from biomedner.errors import BiomednerError
from biomedner.io.atomic import write_text_atomic


@app.command("compare")
def compare_command(
    report_a: Path = typer.Argument(..., help="report.json of system A."),
    report_b: Path = typer.Argument(..., help="report.json of system B."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the comparison JSON here."),
    iterations: int = typer.Option(10000, help="Approximate-randomisation iterations."),
    resamples: int = typer.Option(1000, help="Paired-bootstrap resamples."),
    seed: int = typer.Option(0, help="Seed of both tests."),
) -> None:
    """Per-benchmark F1 differences (A - B) with approximate-randomisation and paired-bootstrap
    p-values, over the same documents."""
    from biomedner.evaluation import EvalReport, compare_reports

    if out is not None:
        check_output_file(out, "--out")
    from biomedner.evaluation.markdown import comparison_markdown

    try:
        result = compare_reports(
            EvalReport.from_json(report_a),
            EvalReport.from_json(report_b),
            n_iterations=iterations,
            n_resamples=resamples,
            seed=seed,
        )
    except (BiomednerError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(comparison_markdown(result))
    if out is not None:
        write_text_atomic(out, json.dumps(result, indent=1) + "\n")
        typer.echo(f"wrote {out}", err=True)
