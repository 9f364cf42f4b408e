"""Library logging: modules log through ``get_logger(__name__)``; nothing in the library prints."""

from __future__ import annotations

import logging

_ROOT = "biomedner"


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith(_ROOT) else f"{_ROOT}.{name}")


def set_verbosity(level: int | str) -> None:
    logging.getLogger(_ROOT).setLevel(level)


def progress_enabled() -> bool:
    """Progress bars show only when the library logs at INFO or more verbosely."""
    return logging.getLogger(_ROOT).getEffectiveLevel() <= logging.INFO
