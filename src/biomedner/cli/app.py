"""The typer application object; command modules attach themselves to it.

Every way a command can fail on a user's mistake ends here in the same shape: one line
``error: ...`` on stderr naming the flag or file, exit status 2, no traceback. That covers click's
own usage errors (a missing option, ``--threshold abc``), the library's errors
(:class:`~biomedner.errors.BiomednerError`) and operating-system errors on the user's files.
Anything else is a bug in biomedner and keeps its traceback, so it can be reported."""

from __future__ import annotations

import sys
from typing import Any

import typer

# typer 0.29 ships its own copy of click; its exception classes are what commands raise
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

from biomedner.errors import BiomednerError

USAGE_ERROR = 2


def error_line(message: str) -> str:
    """One line: the message's own line breaks would make a second, unlabelled line."""
    return "error: " + " ".join(str(message).split())


class _OneLineErrors(TyperGroup):
    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click_errors.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            typer.echo(error_line(exc.format_message() + where), err=True)
            sys.exit(USAGE_ERROR)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        except click_errors.ClickException as exc:
            typer.echo(error_line(exc.format_message()), err=True)
            sys.exit(exc.exit_code)
        except BiomednerError as exc:
            typer.echo(error_line(str(exc)), err=True)
            sys.exit(USAGE_ERROR)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(error_line(f"{where}{exc.strerror or exc}"), err=True)
            sys.exit(USAGE_ERROR)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    name="biomedner",
    help="Open biomedical named entity recognition with GLiNER-style span models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_OneLineErrors,
)


def fail(exc: BaseException | str) -> typer.Exit:
    """``raise fail(exc) from None`` in a command: prints the one error line, exit status 2."""
    typer.echo(error_line(str(exc)), err=True)
    return typer.Exit(USAGE_ERROR)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log progress at INFO level"),
) -> None:
    """Open biomedical named entity recognition with GLiNER-style span models."""
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
