"""``biomedner train`` (a TOML recipe, multi-stage, resumable) and ``biomedner finetune``
(few-shot adaptation on a benchmark's train split, evaluated on its test split)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError


def _progress_logging(quiet: bool) -> None:
    # the library shows progress bars only at INFO; a training command wants them by default
    if not quiet:
        logger = logging.getLogger("biomedner")
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


@app.command("train")
def train_command(
    config: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG", help="training recipe (TOML), e.g. configs/tiny_debug.toml"
        ),
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="override a key: --set optim.head_lr=1e-4 --set stages.0.steps=10"
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the latest checkpoint in output_dir")
    ] = False,
    resume_from: Annotated[
        Path | None, typer.Option(help="continue from this checkpoint directory")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace the run already in output_dir")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar or progress logging")] = False,
) -> None:
    """Train a span NER model through the stages of a recipe; see docs/training.md.

    Multi-process data parallel: torchrun --nproc_per_node N -m biomedner.cli.main train CONFIG"""
    from biomedner.cli.options import check_existing
    from biomedner.io.quiet import quiet_transformers
    from biomedner.training import load_config, train
    from biomedner.training.preflight import check_run

    _progress_logging(quiet)
    check_existing(config, "CONFIG", kind="file")
    if resume_from is not None:
        check_existing(resume_from, "--resume-from", kind="dir")
    try:
        cfg = load_config(config, list(set_ or ()))
        check_run(cfg, resume=resume or resume_from is not None, overwrite=overwrite)
        with quiet_transformers():
            result = train(cfg, resume=resume_from if resume_from is not None else resume)
    except BiomednerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if result.report.get("oom_skipped_steps"):
        typer.echo(
            f"warning: {result.report['oom_skipped_steps']} steps skipped for lack of memory"
        )
    for entry in result.report.get("evals", [])[-1:]:
        typer.echo(
            f"last eval ({entry['set']}, step {entry['global_step']}): strict F1 "
            f"{entry['strict_f1']:.4f}, relaxed F1 {entry['relaxed_f1']:.4f}"
        )
    typer.echo(f"model: {result.model_dir}  (stages: {', '.join(map(str, result.stage_dirs))})")


@app.command("finetune")
def finetune_command(
    model: Annotated[str, typer.Option("--model", help="checkpoint directory or hub id")],
    benchmark: Annotated[str, typer.Option("--benchmark", help="registered benchmark name")],
    shots: Annotated[int, typer.Option("--shots", help="examples per entity type (K)")] = 10,
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="sampling seed; repeat for several runs")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="output directory")] = Path("runs/fewshot"),
    steps: Annotated[int, typer.Option(help="optimiser steps per seed")] = 100,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a fine-tuning key, e.g. --set optim.head_lr=1e-4"),
    ] = None,
    max_test_docs: Annotated[
        int | None,
        typer.Option(help="score on the first N test documents only (named in the report)"),
    ] = None,
    threshold: Annotated[float, typer.Option()] = 0.5,
    data_root: Annotated[str | None, typer.Option(help="benchmark data root")] = None,
    save_models: Annotated[bool, typer.Option(help="keep each seed's fine-tuned model")] = False,
    quiet: Annotated[bool, typer.Option()] = False,
) -> None:
    """K-shot fine-tuning: sample K examples per type from the TRAIN split, fine-tune, score on
    TEST; report zero-shot -> K-shot per seed and the mean ± standard deviation over seeds."""
    from biomedner.cli.options import check_output_dir, check_threshold
    from biomedner.evaluation.benchmarks import get_benchmark
    from biomedner.training.fewshot import FewShotSettings, run_fewshot

    check_output_dir(out, "--out")
    check_threshold(threshold)
    try:
        get_benchmark(benchmark)
    except BiomednerError as exc:
        raise BiomednerError(f"--benchmark: {exc}") from None
    _progress_logging(quiet)
    try:
        report = run_fewshot(
            FewShotSettings(
                model=model,
                benchmark=benchmark,
                shots=shots,
                seeds=list(seed or [0]),
                steps=steps,
                overrides=list(set_ or ()),
                max_test_docs=max_test_docs,
                threshold=threshold,
                data_root=data_root,
                save_models=save_models,
            ),
            out,
        )
    except BiomednerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    s = report["summary"]
    typer.echo(
        f"{benchmark} test{f' (first {max_test_docs} docs)' if max_test_docs else ''}: "
        f"zero-shot strict F1 {s['zero_shot']['strict_f1']:.4f} -> {shots}-shot "
        f"{s['k_shot']['strict_f1_mean']:.4f} ± {s['k_shot']['strict_f1_std']:.4f} "
        f"over {len(report['runs'])} seed(s); report: {out / 'fewshot_report.json'}"
    )
    typer.echo(json.dumps(s, indent=2))
