"""Checks a training run passes before it creates anything or loads a model: its data exist and
are not benchmark test splits, and its output folder does not already hold another run that it
would silently mix with or overwrite."""

from __future__ import annotations

import shutil
from pathlib import Path

from biomedner.errors import ConfigError
from biomedner.training.config import (
    CorpusSource,
    RecordsSource,
    TeacherSource,
    TrainConfig,
    TypeQueriesSource,
)


def check_run(config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    """``resume``: the run continues the one in ``output_dir``. ``overwrite``: the run replaces
    it (its folder is emptied once every other check has passed)."""
    if resume and overwrite:
        raise ConfigError(
            "--resume continues the run in output_dir and --overwrite replaces it; choose one"
        )
    _check_sources(config)
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"output_dir {str(out)!r} is a file; set a folder with --set output_dir=..."
        )
    holds_run = out.is_dir() and any(out.iterdir())
    if holds_run and not resume and not overwrite:
        raise ConfigError(
            f"output_dir {str(out)!r} already holds a run; pass --resume to continue it, "
            "--overwrite to replace it, or choose another folder with --set output_dir=..."
        )
    if not out.exists() and not out.parent.is_dir():
        raise ConfigError(
            f"output_dir {str(out)!r}: the folder {str(out.parent)!r} does not exist; create it first"
        )
    if holds_run and overwrite:
        shutil.rmtree(out)


def _check_sources(config: TrainConfig) -> None:
    from biomedner.training.sources import guard_test_path

    stages = config.stages
    if config.only_stages is not None:
        stages = [s for s in stages if s.name in config.only_stages]
    for stage in stages:
        for i, source in enumerate(stage.sources):
            where = f"stage {stage.name!r} source {i} ({source.kind})"
            paths: list[tuple[str, str]] = []
            if isinstance(source, RecordsSource | CorpusSource | TypeQueriesSource):
                paths = [("path", source.path)]
            elif isinstance(source, TeacherSource):
                paths = [("texts", source.texts), ("annotations", source.annotations)]
            for key, value in paths:
                resolved = config.resolve(value)
                if not resolved.exists():
                    raise ConfigError(
                        f"{where}: {key} {str(resolved)!r} does not exist (paths are relative to "
                        "the config file's folder)"
                    )
                if isinstance(source, RecordsSource | CorpusSource | TypeQueriesSource):
                    guard_test_path(resolved, source.allow_test_file)
