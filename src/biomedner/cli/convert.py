"""``biomedner convert``: between any two corpus formats."""

from __future__ import annotations

from pathlib import Path

import typer

from biomedner.cli.app import app
from biomedner.cli.options import check_choice, check_existing, check_output_dir, check_output_file
from biomedner.corpora.io import FORMATS, guess_format
from biomedner.errors import InputError


@app.command("convert")
def convert_command(
    src: Path = typer.Argument(..., metavar="SRC", help="Input file (a folder for brat)."),
    dst: Path = typer.Argument(..., metavar="DST", help="Output file (a folder for brat)."),
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
    from biomedner.corpora.conll import COLUMNS, SCHEMES
    from biomedner.corpora.spans import DISCONTINUOUS_POLICIES

    for flag, value, choices in (
        ("--from", from_format, FORMATS),
        ("--to", to_format, FORMATS),
        ("--discontinuous", discontinuous, DISCONTINUOUS_POLICIES),
        ("--columns", columns, COLUMNS),
        ("--scheme", scheme, SCHEMES),
    ):
        if value is not None:
            check_choice(value, choices, flag)
    check_existing(src, "SRC")
    in_format = from_format or _guess(src, "SRC", "--from")
    out_format = to_format or _guess(dst, "DST", "--to")
    if out_format == "brat":
        check_output_dir(dst, "DST")
    else:
        check_output_file(dst, "DST")
    options = {
        k: v
        for k, v in (("discontinuous", discontinuous), ("columns", columns), ("scheme", scheme))
        if v is not None
    }
    docs, read_report = read_with_report(src, in_format, **options)
    write_report = write(docs, dst, out_format)
    typer.echo(
        f"{read_report.documents} documents, {read_report.entities} entities: "
        f"{read_report.format} -> {write_report.format} ({dst})",
        err=True,
    )
    for what, report in (("read", read_report), ("write", write_report)):
        for key, n in sorted(report.counts.items()):
            typer.echo(f"  {what}: {key} = {n}", err=True)


def _guess(path: Path, what: str, flag: str) -> str:
    try:
        return guess_format(path)
    except InputError:
        raise InputError(
            f"{what} {str(path)!r}: cannot tell the format from the name; name it with {flag} "
            f"({', '.join(FORMATS)})"
        ) from None
