"""``biomedner init-model``: a new, untrained checkpoint on a pretrained encoder (a starting
point for ``biomedner train``; its predictions are meaningless until trained)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.config import DEFAULT_MAX_LEN, DEFAULT_MAX_WIDTH
from biomedner.errors import InputError


@app.command("init-model")
def init_model_command(
    backbone: Annotated[
        str, typer.Argument(help="text encoder: hub id or local HF model directory")
    ],
    out: Annotated[
        Path, typer.Argument(metavar="OUT", help="directory to write the checkpoint to")
    ],
    labels_encoder: Annotated[
        str | None, typer.Option(help="label encoder for a bi-encoder (hub id or directory)")
    ] = None,
    hidden_size: Annotated[
        int | None, typer.Option(help="span-head width (default: encoder's)")
    ] = None,
    max_width: Annotated[int, typer.Option(help="longest span in words")] = DEFAULT_MAX_WIDTH,
    max_len: Annotated[int, typer.Option(help="window length in words")] = DEFAULT_MAX_LEN,
    splitter: Annotated[
        str, typer.Option(help="word splitter: whitespace or biomedical")
    ] = "whitespace",
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Write a new, untrained checkpoint on a pretrained encoder (a starting point for training)."""
    from biomedner.cli.options import check_choice, check_output_dir
    from biomedner.io.quiet import quiet_transformers
    from biomedner.model import NERModel

    check_choice(splitter, ("whitespace", "biomedical"), "--splitter")
    check_output_dir(out, "OUT")
    try:
        with quiet_transformers():
            model = NERModel.from_backbone(
                backbone,
                labels_encoder=labels_encoder,
                hidden_size=hidden_size,
                max_width=max_width,
                max_len=max_len,
                words_splitter_type=splitter,  # type: ignore[arg-type]
                seed=seed,
            )
            model.save_pretrained(out)
    except ValueError as exc:  # a bad width or size from the model builder
        raise InputError(str(exc)) from None
    typer.echo(f"wrote {model.config.architecture} checkpoint to {out}")
