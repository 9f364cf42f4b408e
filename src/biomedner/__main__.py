"""``python -m biomedner``: the same command line as the ``biomedner`` script."""

from __future__ import annotations

from biomedner.cli.main import app

if __name__ == "__main__":
    app()
