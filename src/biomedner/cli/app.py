"""The typer application object; command modules attach themselves to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="biomedner",
    help="Open biomedical named entity recognition with GLiNER-style span models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log progress at INFO level"),
) -> None:
    """Open biomedical named entity recognition with GLiNER-style span models."""
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
