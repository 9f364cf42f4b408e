"""``biomedner push MODEL REPO``: publish a checkpoint with a model card on the hub."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError, InputError


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("push")
def push_command(
    model: Annotated[str, typer.Argument(help="checkpoint directory (or hub id) to publish")],
    repo: Annotated[str, typer.Argument(help="hub repository, owner/name (created if missing)")],
    license: Annotated[str, typer.Option(help="licence id for the card")] = "apache-2.0",
    base_model: Annotated[
        str | None,
        typer.Option("--base-model", help="hub id it was trained from (default: from the run)"),
    ] = None,
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="hub dataset id (repeatable)")
    ] = None,
    report: Annotated[
        list[Path] | None,
        typer.Option(
            "--report",
            help="training config/report, evaluation report or fewshot_report.json for the "
            "card (repeatable; default: those beside MODEL and in its parent directory)",
        ),
    ] = None,
    private: Annotated[bool, typer.Option("--private", help="create a private repository")] = False,
    token: Annotated[
        str | None, typer.Option(help="hub token (default: HF_TOKEN or the saved login)")
    ] = None,
    message: Annotated[str, typer.Option(help="commit message")] = "Upload biomedner model",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="write the folder (checkpoint + README.md) here instead of uploading"
        ),
    ] = None,
) -> None:
    """Upload a checkpoint and its model card (README.md) to the hub in one commit."""
    from biomedner.io.hub_upload import check_repo_id
    from biomedner.io.model_card import CardInfo, read_reports

    try:
        check_repo_id(repo)
        if not license.strip():
            raise InputError("--license is empty")
        if out is not None and out.exists():
            raise InputError(f"--out {out} already exists; choose a new directory")
        if report:
            read_reports(report)
        card = CardInfo(license=license, base_model=base_model, datasets=list(dataset or []))
    except BiomednerError as exc:
        raise _fail(str(exc)) from None

    from biomedner.io.hub_upload import push_model, write_upload_folder
    from biomedner.model import NERModel

    try:
        ner = NERModel.from_pretrained(model)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
            try:
                write_upload_folder(ner, tmp, repo, card=card, reports=report)
                tmp.rename(out)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            typer.echo(f"wrote {out} (checkpoint and README.md for {repo}); nothing uploaded")
            return
        info = push_model(
            ner,
            repo,
            private=private,
            token=token,
            commit_message=message,
            card=card,
            reports=report,
        )
    except BiomednerError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # huggingface_hub's HTTP and auth errors
        detail = str(exc).splitlines()[0] if str(exc) else "no detail"
        raise _fail(f"upload to {repo} failed ({type(exc).__name__}: {detail})") from None
    typer.echo(f"uploaded {model} to {getattr(info, 'commit_url', None) or repo}")
