"""Checks of command-line options that run before anything slow (a model load, a corpus read).
Each failure is an :class:`InputError` whose message starts with the flag or argument it is
about and says what to give instead; the app turns it into one ``error:`` line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from biomedner.errors import InputError

_DEVICE = re.compile(r"^(cpu|mps|cuda)(?::(\d+))?$")


def check_device(device: str, flag: str = "--device") -> str:
    """``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and present on this machine."""
    m = _DEVICE.match(device.strip().lower())
    if m is None:
        raise InputError(f"{flag} {device!r} is not a device; use cpu, cuda, cuda:N or mps")
    kind, index = m.group(1), m.group(2)
    if kind == "cpu":
        if index is not None:
            raise InputError(f"{flag} {device!r}: the CPU takes no index; use cpu")
        return "cpu"
    import torch

    if kind == "mps":
        if not torch.backends.mps.is_available():
            raise InputError(f"{flag} mps: no Apple GPU (MPS) is available here; use cpu")
        return "mps"
    if not torch.cuda.is_available():
        raise InputError(
            f"{flag} {device!r}: no CUDA GPU is available here (this PyTorch build or machine "
            "has none); use cpu"
        )
    count = torch.cuda.device_count()
    if index is not None and int(index) >= count:
        raise InputError(
            f"{flag} {device!r}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}"
        )
    return device.strip().lower()


def check_choice(value: str, choices: Iterable[str], flag: str) -> str:
    options = list(choices)
    if value not in options:
        raise InputError(f"{flag} {value!r} is not one of {', '.join(options)}")
    return value


def check_speed_options(quantize: str | None, precision: str, device: str) -> None:
    """``--quantize`` / ``--precision`` of the commands that run a model."""
    from biomedner.modeling.precision import PRECISIONS

    check_choice(precision, PRECISIONS, "--precision")
    if quantize is None:
        return
    if quantize != "int8":
        raise InputError(f"--quantize {quantize!r} is unknown; the one supported is int8")
    if device != "cpu":
        raise InputError("--quantize int8 runs on CPU only; use --precision bf16 on a GPU")
    if precision != "fp32":
        raise InputError("--quantize int8 runs in fp32; drop --precision")


def check_threshold(value: float, flag: str = "--threshold") -> float:
    if not 0.0 <= value < 1.0:
        raise InputError(
            f"{flag} {value} is outside [0, 1); a span is kept when its score is above it"
        )
    return value


def check_existing(path: Path, flag: str, *, kind: str = "any") -> Path:
    """An input path that must exist; ``kind`` is ``file``, ``dir`` or ``any``."""
    if not path.exists():
        raise InputError(f"{flag} {str(path)!r}: no such file or folder")
    if kind == "file" and not path.is_file():
        raise InputError(f"{flag} {str(path)!r} is a folder; give a file")
    if kind == "dir" and not path.is_dir():
        raise InputError(f"{flag} {str(path)!r} is not a folder")
    return path


def check_output_file(path: Path, flag: str) -> Path:
    """A file the command will (re)write: its folder exists and is writable, and it is not
    itself a folder. Checked before the work, so a long run does not fail at its last step."""
    if path.is_dir():
        raise InputError(f"{flag} {str(path)!r} is a folder; give a file name")
    _check_writable_folder(path.parent, flag, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{flag} {str(path)!r} exists and is not writable")
    return path


def check_output_dir(path: Path, flag: str) -> Path:
    """A folder the command writes into: an existing writable folder, or a new one whose parent
    exists and is writable."""
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{flag} {str(path)!r} is a file; give a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{flag} {str(path)!r}: the folder is not writable")
        return path
    _check_writable_folder(path.parent, flag, path)
    return path


def _check_writable_folder(folder: Path, flag: str, target: Path) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.is_dir():
        raise InputError(
            f"{flag} {str(target)!r}: the folder {str(folder)!r} does not exist; create it first"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {str(target)!r}: the folder {str(folder)!r} is not writable")
