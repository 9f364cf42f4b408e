"""``biomedner convert``: between any two corpus formats."""

from __future__ import annotations

from pathlib import Path

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError


@app.command("convert")
def convert_command(
    src: Path = typer.Argument(..., help="Input file (a folder for brat)."),
    dst: Path = typer.Argument(..., help="Output file (a folder for brat)."),
    from_format: str | None = typer.Option(
        None,
        "--from",
        help="pubtator, bioc-xml, bioc-json, brat, conll, gliner, jsonl (default: guessed).",
    ),
    to_format: str | None = typer.Option(
        None, "--to", help="Output format, same names (default: guessed from OUT)."
    ),
    discontinuous: str | None = typer.Option(
        None, help="brat/BioC discontinuous annotations: error, fragments, merge or skip."
    ),
    columns: str | None = typer.Option(None, help="CoNLL columns: auto, token-tag, tag-token."),
    scheme: str | None = typer.Option(None, help="CoNLL tag scheme: iob2 or iob1."),
) -> None:
    """Read IN and write OUT; prints what had to be skipped or adapted."""
    from biomedner.corpora import read_with_report, write

    options = {
        k: v
        for k, v in (("discontinuous", discontinuous), ("columns", columns), ("scheme", scheme))
        if v is not None
    }
    try:
        docs, read_report = read_with_report(src, from_format, **options)
        write_report = write(docs, dst, to_format)
    except BiomednerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{read_report.documents} documents, {read_report.entities} entities: "
        f"{read_report.format} -> {write_report.format} ({dst})",
        err=True,
    )
    for what, report in (("read", read_report), ("write", write_report)):
        for key, n in sorted(report.counts.items()):
            typer.echo(f"  {what}: {key} = {n}", err=True)
