"""``biomedner evaluate``: a registered-benchmark evaluation of one model, written to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from biomedner.cli.app import app
from biomedner.cli.options import (
    check_choice,
    check_device,
    check_output_dir,
    check_speed_options,
    check_threshold,
)
from biomedner.errors import BiomednerError, InputError
from biomedner.types import DECODE_MODES


def load_model(path_or_hub_id: str, device: str, quantize: str | None = None) -> Any:
    """The model the command evaluates (a seam tests replace with a fake model)."""
    from biomedner.io.quiet import quiet_transformers
    from biomedner.model import NERModel

    with quiet_transformers():
        return NERModel.from_pretrained(path_or_hub_id, device=device, quantize=quantize)


class _Autocast:
    """The model's ``predict_batch`` under an autocast dtype (``--precision bf16``)."""

    def __init__(self, ner: Any, dtype: Any):
        self.ner, self.dtype = ner, dtype

    def predict_batch(self, texts, labels, threshold=0.5, mode="flat", batch_size=8):  # type: ignore[no-untyped-def]
        return self.ner.predict_batch(
            texts, labels, threshold=threshold, mode=mode, batch_size=batch_size,
            autocast_dtype=self.dtype,
        )  # fmt: skip


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}") from None


@app.command("evaluate")
def evaluate_command(
    model: str = typer.Option(..., "--model", "-m", help="Model directory or hub id."),
    benchmarks: str = typer.Option(
        "ncbi_disease", "--benchmarks", "-b", help="Comma-separated registered benchmark names."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for predictions and reports."),
    split: str = typer.Option("test", help="Split to score."),
    threshold: float = typer.Option(0.5, help="Score threshold for predictions."),
    mode: str | None = typer.Option(
        None, help="flat, nested or multi_label; default: the registry's nested flag."
    ),
    find_threshold: bool = typer.Option(
        False,
        "--find-threshold",
        help="Also tune the threshold on dev and rescore (reported apart).",
    ),
    thresholds: str | None = typer.Option(
        None, help="Comma-separated candidate thresholds for --find-threshold."
    ),
    tune_split: str = typer.Option("dev", help="Split used by --find-threshold."),
    data_root: Path | None = typer.Option(
        None, help="Benchmark data folder (default: $BIOMEDNER_DATA or ../shared/data/benchmarks)."
    ),
    batch_size: int = typer.Option(8, help="Texts per model call."),
    device: str = typer.Option("cpu", help="Device to load the model on."),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples for confidence intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    no_verify: bool = typer.Option(
        False, "--no-verify", help="Evaluate even if the data hash differs from the registry."
    ),
    no_plot: bool = typer.Option(False, "--no-plot", help="Skip the PNG plot."),
    precision: str = typer.Option(
        "fp32", help="fp32, or bf16/fp16 autocast (GPU; bf16 also on CPUs with it)."
    ),
    quantize: str | None = typer.Option(None, help="int8: int8 linear layers (CPU only)."),
    registry: Path | None = typer.Option(
        None, help="A benchmark registry JSON file to use instead of the shipped one."
    ),
) -> None:
    """Score a model on registered benchmarks; writes predictions, report.json/.md, f1.png."""
    from biomedner.evaluation import BootstrapConfig, evaluate
    from biomedner.evaluation.benchmarks import get_benchmark, load_registry
    from biomedner.evaluation.harness import DEFAULT_THRESHOLDS
    from biomedner.evaluation.markdown import report_markdown

    names = [b.strip() for b in benchmarks.split(",") if b.strip()]
    # options first: a model load takes seconds to minutes
    check_output_dir(out, "--out")
    check_threshold(threshold)
    if mode is not None:
        check_choice(mode, DECODE_MODES, "--mode")
    device = check_device(device)
    check_speed_options(quantize, precision, device)
    for name in names:
        try:
            spec = get_benchmark(name, load_registry(registry) if registry is not None else None)
        except InputError as exc:
            raise InputError(f"--benchmarks: {exc}") from None
        for flag, s in [("--split", split)] + (
            [("--tune-split", tune_split)] if find_threshold else []
        ):
            if s not in spec.splits:
                raise InputError(f"{flag} {s!r}: benchmark {name!r} has splits {list(spec.splits)}")
    if not names:
        raise InputError("--benchmarks is empty; name registered benchmarks, e.g. ncbi_disease")
    try:
        reg = load_registry(registry) if registry is not None else None
        ner = load_model(model, device, quantize)
        if precision != "fp32":
            from biomedner.modeling.precision import autocast_dtype

            ner = _Autocast(ner, autocast_dtype(precision, ner.device))
        report = evaluate(
            ner,
            names,
            split=split,
            threshold=threshold,
            mode=mode,
            data_root=data_root,
            batch_size=batch_size,
            bootstrap=BootstrapConfig(n_resamples=bootstrap, seed=seed) if bootstrap > 0 else None,
            tune_threshold=find_threshold,
            tune_split=tune_split,
            thresholds=_floats(thresholds) if thresholds else DEFAULT_THRESHOLDS,
            out_dir=out,
            model_id=model
            + (f" ({quantize or precision})" if quantize or precision != "fp32" else ""),
            verify=not no_verify,
            plot=not no_plot,
            registry=reg,
        )
    except BiomednerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report_markdown(report))
    typer.echo(f"wrote {out / 'report.json'}", err=True)
