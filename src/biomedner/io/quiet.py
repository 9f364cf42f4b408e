"""Loading and saving through transformers without its routine chatter (weight-loading and
shard-writing bars, the embedding-resize notice) on every ``init-model`` and ``train``: notices
that say nothing about the user's run teach users to ignore the output. Errors still show, and
``biomedner -v`` shows everything."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_transformers() -> Iterator[None]:
    if logging.getLogger("biomedner").getEffectiveLevel() <= logging.DEBUG:
        yield
        return
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()
