"""Error classes. Messages say what was wrong, where, and what to do about it."""

from __future__ import annotations


class BiomednerError(Exception):
    """Base class of every error biomedner raises on purpose."""


class InputError(BiomednerError, ValueError):
    """The caller passed bad input: empty labels, non-text input, duplicate labels, ..."""


class CheckpointError(BiomednerError):
    """A checkpoint directory is missing, partial, corrupt, or does not match its config."""


class HubUnavailableError(CheckpointError):
    """A hub id was given but the model hub cannot be reached and nothing is cached."""


class ConfigError(BiomednerError, ValueError):
    """A configuration has unknown keys or invalid values."""


class FormatError(BiomednerError, ValueError):
    """A corpus or prediction file is malformed. The message names the file, line and reason."""

    def __init__(self, reason: str, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{reason}")
        self.reason = reason
        self.path = path
        self.line = line
