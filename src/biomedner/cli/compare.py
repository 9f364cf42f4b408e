"""``biomedner compare``: paired significance tests between two systems' evaluation reports, one
report per side or one per training seed."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomedner.cli.app import app, fail
from biomedner.cli.options import check_output_file
from biomedner.errors import BiomednerError, InputError
from biomedner.io.atomic import write_text_atomic


def report_list(value: str, name: str) -> list[Path]:
    """One path, or a comma-separated list of paths (one report per seed). A path that exists
    as given is taken whole, so a file name with a comma still works."""
    if Path(value).is_file():
        return [Path(value)]
    parts = [p.strip() for p in value.split(",")]
    if not value.strip() or any(not p for p in parts):
        raise InputError(
            f"{name} {value!r} has an empty entry; give report.json files separated by commas"
        )
    for part in parts:
        if Path(part).is_dir():
            raise InputError(f"{name}: {part} is a folder; give its report.json")
        if not Path(part).is_file():
            raise InputError(f"{name}: {part}: no such report file")
    return [Path(p) for p in parts]


@app.command("compare")
def compare_command(
    report_a: str = typer.Argument(
        ..., help="report.json of system A, or one per seed separated by commas."
    ),
    report_b: str = typer.Argument(
        ..., help="report.json of system B, or one per seed separated by commas."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the comparison JSON here."),
    iterations: int = typer.Option(10000, help="Approximate-randomisation iterations."),
    resamples: int = typer.Option(1000, help="Paired-bootstrap resamples."),
    seed: int = typer.Option(0, help="Seed of both tests."),
) -> None:
    """Per-benchmark F1 differences (A - B) with approximate-randomisation and paired-bootstrap
    p-values over the same documents, and the same for the mean over benchmarks. With several
    reports per side (seeds), each side's counts are pooled over its seeds and every seed's F1
    is shown with the mean and sd over seeds."""
    from biomedner.evaluation import EvalReport, compare_reports, compare_seeded
    from biomedner.evaluation.markdown import comparison_markdown, seeded_comparison_markdown

    for flag, value in (("--iterations", iterations), ("--resamples", resamples)):
        if value < 1:
            raise InputError(f"{flag} {value}: give at least 1 (10000 and 1000 are the defaults)")
    paths_a = report_list(report_a, "REPORT_A")
    paths_b = report_list(report_b, "REPORT_B")
    if out is not None:
        check_output_file(out, "--out")
    tests = {"n_iterations": iterations, "n_resamples": resamples, "seed": seed}
    try:
        if len(paths_a) == 1 and len(paths_b) == 1:
            result = compare_reports(
                EvalReport.from_json(paths_a[0]), EvalReport.from_json(paths_b[0]), **tests
            )
            text = comparison_markdown(result)
        else:
            result = compare_seeded(paths_a, paths_b, **tests)
            text = seeded_comparison_markdown(result)
    except (BiomednerError, OSError) as exc:
        raise fail(exc) from None
    typer.echo(text)
    if out is not None:
        write_text_atomic(out, json.dumps(result, indent=1) + "\n")
        typer.echo(f"wrote {out}", err=True)
