"""Entry point of the ``biomedner`` command. Each module below registers its commands on ``app``."""

from __future__ import annotations

from biomedner.cli import (  # noqa: F401
    annotate,
    compare,
    convert,
    evaluate,
    export,
    init_model,
    predict,
    push,
    score,
    serve,
    synth,
    train,
)
from biomedner.cli.app import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
