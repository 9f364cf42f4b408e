"""The one way biomedner writes an output file: into a temporary file in the target's own folder,
renamed over the target only once everything was written. A run that fails half way (a bad record,
a full disk, Ctrl-C) leaves the previous file as it was and no partial file behind; the rename is
atomic because source and target share a file system."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """``with atomic_open(path) as fh: fh.write(...)``; ``mode`` is ``"w"`` or ``"wb"``. The
    parent folder must exist: creating folders a user did not ask for hides typos in paths."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files; mode {mode!r} is not 'w' or 'wb'")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if mode == "wb":
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that wants a file name (``safetensors``'
    ``save_file``); renamed over ``path`` when the block ends without an error."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _keep_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str, *, newline: str | None = "") -> None:
    """The whole of ``text`` as UTF-8, exactly (``newline=""``: no line-end translation)."""
    with atomic_open(path, newline=newline) as fh:
        fh.write(text)


def _keep_mode(target: Path, tmp: str) -> None:
    # mkstemp creates 0600; an existing file keeps its permissions, a new one gets the usual
    # umask-derived mode, as if it had been opened with open(path, "w")
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
