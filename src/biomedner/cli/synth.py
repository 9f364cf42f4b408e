"""``biomedner synth``: curate -> annotate -> export-sft -> train-student -> align (+ agreement).

Each command wraps one library function, writes a JSON report of its counts beside its output and
prints a one-line summary to stderr. Commands that call a server or train are resumable: rerun
the same command after a crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from biomedner.cli.app import app
from biomedner.cli.options import check_existing, check_output_file
from biomedner.errors import BiomednerError, ConfigError

synth_app = typer.Typer(
    help="Synthetic data: corpus curation, teacher annotation, student distillation, alignment.",
    no_args_is_help=True,
)
app.add_typer(synth_app, name="synth")


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _read_config_file(path: Path | None) -> dict[str, Any]:
    """A TOML or JSON file -> dict (validated later by the command's pydantic config)."""
    if path is None:
        return {}
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(text)
        return json.loads(text)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"{path}: cannot parse config ({exc})") from None


def _validate(model: type, data: dict[str, Any], where: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid {where}: {exc}") from None


def _summary(name: str, counts: dict[str, Any], keys: list[str]) -> None:
    parts = ", ".join(f"{k}={counts.get(k, 0)}" for k in keys)
    typer.echo(f"{name}: {parts}", err=True)


@synth_app.command("curate")
def curate_command(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="sources: PATH or NAME=PATH (file or folder; PubMed XML, txt, csv, jsonl)"
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="curated JSONL")] = Path("curated.jsonl"),
    config: Annotated[
        Path | None, typer.Option(help="TOML/JSON with CurateConfig fields (sources, quality, ...)")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="texts never to keep, e.g. an earlier run's texts.jsonl (repeatable)"),
    ] = None,
    benchmark_texts: Annotated[
        list[Path] | None,
        typer.Option(
            help='JSONL of {"text", "pmid"?, "set"?} to decontaminate against (repeatable); '
            "replaces the benchmark registry"
        ),
    ] = None,
    benchmarks: Annotated[
        bool, typer.Option(help="decontaminate against every registered benchmark split")
    ] = True,
    data_root: Annotated[Path | None, typer.Option(help="benchmark data root")] = None,
    balance: Annotated[
        bool | None, typer.Option(help="sample every source down to the smallest")
    ] = None,
    max_per_source: Annotated[int | None, typer.Option(min=1)] = None,
    dedup_threshold: Annotated[
        float | None, typer.Option(help="near-duplicate Jaccard threshold (MinHash)")
    ] = None,
) -> None:
    """Read sources, filter, decontaminate, deduplicate and sample into one JSONL corpus."""
    from biomedner.synth.curate import CurateConfig, curate
    from biomedner.synth.sources import SourceSpec

    try:
        data = _read_config_file(config)
        sources = list(data.pop("sources", []))
        sources += [SourceSpec.parse(s).model_dump(exclude_defaults=True) for s in inputs or []]
        if not sources:
            raise ConfigError("no sources: pass input paths or a config file with [[sources]]")
        data["sources"] = sources
        data.setdefault("exclude", [])
        data["exclude"] += [
            SourceSpec.parse(s).model_dump(exclude_defaults=True) for s in exclude or []
        ]
        data.setdefault("use_benchmark_registry", benchmarks)
        if data_root is not None:
            data["benchmark_data_root"] = str(data_root)
        if balance is not None:
            data.setdefault("sampling", {})["balance"] = balance
        if max_per_source is not None:
            data.setdefault("sampling", {})["max_per_source"] = max_per_source
        if dedup_threshold is not None:
            data.setdefault("dedup", {})["threshold"] = dedup_threshold
        cfg = _validate(CurateConfig, data, "curation config")
        refs = _read_benchmark_texts(benchmark_texts) if benchmark_texts else None
        report = curate(cfg, out, benchmark_texts=refs)
    except (BiomednerError, FileNotFoundError) as exc:
        raise _fail(exc) from None
    from biomedner.synth.curate import COUNT_KEYS

    _summary("curate", report["counts"], list(COUNT_KEYS))
    if report.get("benchmark_source") == "none":
        typer.echo("warning: no benchmark texts were available; NOT decontaminated", err=True)


def _read_benchmark_texts(paths: list[Path]) -> dict[str, list[tuple[str | None, str]]]:
    from biomedner.errors import FormatError
    from biomedner.io.jsonl import iter_jsonl, require_str

    sets: dict[str, list[tuple[str | None, str]]] = {}
    for path in paths:
        for line, row in iter_jsonl(path):
            text = require_str(row, "text", path, line)
            pmid = row.get("pmid")
            if pmid is not None and not isinstance(pmid, str | int):
                raise FormatError("field 'pmid' must be a string or integer", str(path), line)
            name = row.get("set") if isinstance(row.get("set"), str) else path.stem
            sets.setdefault(name, []).append((str(pmid) if pmid is not None else None, text))
    return sets


@synth_app.command("annotate")
def annotate_command(
    texts: Annotated[Path, typer.Argument(help='JSONL of {"id", "text"}')],
    out: Annotated[Path, typer.Option("--out", "-o", help="annotations JSONL")],
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible API root, e.g. http://localhost:8000/v1")
    ] = None,
    model: Annotated[str | None, typer.Option(help="model name the server knows")] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML/JSON with AnnotateConfig fields ([llm] table)")
    ] = None,
    prompt: Annotated[str | None, typer.Option(help="prompt version, e.g. ner_v1")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="requests in flight")] = None,
    rps: Annotated[float | None, typer.Option(help="max requests per second")] = None,
    timeout: Annotated[float | None, typer.Option(help="seconds per request")] = None,
    max_retries: Annotated[int | None, typer.Option(min=0)] = None,
    max_tokens: Annotated[int | None, typer.Option(min=1)] = None,
    structured_output: Annotated[
        str | None, typer.Option(help="json_schema, json_object or none")
    ] = None,
    candidates: Annotated[
        bool | None, typer.Option(help="add candidate phrases as hints to the prompt")
    ] = None,
    few_shot: Annotated[bool | None, typer.Option(help="include demonstrations")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="only the first N texts")] = None,
    cache: Annotated[
        Path | None, typer.Option(help="cache file (default <out>.cache.sqlite)")
    ] = None,
) -> None:
    """Annotate texts with a teacher (or student) LLM; rerun to resume."""
    from biomedner.synth.annotate import AnnotateConfig, annotate_file

    check_existing(texts, "TEXTS", kind="file")
    check_output_file(out, "--out")

    try:
        data = _read_config_file(config)
        llm = data.setdefault("llm", {})
        for key, value in (
            ("base_url", base_url),
            ("model", model),
            ("max_concurrency", concurrency),
            ("max_requests_per_second", rps),
            ("timeout_s", timeout),
            ("max_retries", max_retries),
            ("max_tokens", max_tokens),
            ("structured_output", structured_output),
        ):
            if value is not None:
                llm[key] = value
        for key, value in (
            ("prompt", prompt),
            ("candidates", candidates),
            ("few_shot", few_shot),
            ("limit", limit),
        ):
            if value is not None:
                data[key] = value
        cfg = _validate(AnnotateConfig, data, "annotation config")
        report = annotate_file(texts, out, cfg, cache_path=cache)
    except (BiomednerError, FileNotFoundError) as exc:
        raise _fail(exc) from None
    _summary(
        "annotate",
        report["counts"],
        ["texts", "cached_at_start", "annotated", "written", "failed_ids", "client_requests"],
    )
    failed = report["counts"].get("failed_ids", 0)
    if failed and not report["counts"].get("written"):
        # nothing came back: a zero exit status would let a pipeline go on with no data
        raise _fail(
            f"no text was annotated: all {failed} failed (reasons in "
            f"{out.with_name(report['output']['failed_list'])}); rerun to retry"
        )
    if failed:
        typer.echo(
            f"failed texts are listed in {report['output']['failed_list']}; rerun to retry",
            err=True,
        )


@synth_app.command("export-sft")
def export_sft_command(
    texts: Annotated[Path, typer.Option(help='JSONL of {"id", "text"}')],
    annotations: Annotated[Path, typer.Option(help='teacher JSONL of {"id", "entities"}')],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o")],
    prompt: Annotated[str, typer.Option()] = "ner_v1",
    eval_fraction: Annotated[float, typer.Option(help="held-out share for agreement")] = 0.1,
    seed: Annotated[int, typer.Option()] = 13,
    few_shot: Annotated[bool, typer.Option(help="keep demonstrations in the prompt")] = False,
    candidates: Annotated[bool, typer.Option(help="add candidate phrases to the prompt")] = False,
) -> None:
    """Write a chat SFT dataset (train.jsonl, eval.jsonl) in TRL's conversational format."""
    from biomedner.synth.sft import SFTExportConfig, export_sft

    try:
        cfg = SFTExportConfig(
            prompt=prompt,
            eval_fraction=eval_fraction,
            seed=seed,
            few_shot=few_shot,
            candidates=candidates,
        )
        report = export_sft(texts, annotations, out_dir, cfg)
    except (BiomednerError, FileNotFoundError, ValueError) as exc:
        raise _fail(exc) from None
    _summary("export-sft", report["counts"], ["annotations", "train", "eval"])


@synth_app.command("train-student")
def train_student_command(
    model: Annotated[str | None, typer.Option(help="base causal LM: hub id or local dir")] = None,
    train: Annotated[Path | None, typer.Option(help="train.jsonl from export-sft")] = None,
    eval_file: Annotated[Path | None, typer.Option("--eval", help="eval.jsonl")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output directory")] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML/JSON with StudentTrainConfig fields")
    ] = None,
    max_steps: Annotated[int | None, typer.Option()] = None,
    epochs: Annotated[float | None, typer.Option()] = None,
    learning_rate: Annotated[float | None, typer.Option("--lr")] = None,
    lora_r: Annotated[int | None, typer.Option(min=1)] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    max_length: Annotated[int | None, typer.Option(min=16)] = None,
    merge: Annotated[bool | None, typer.Option(help="also save merged weights (for vLLM)")] = None,
    cpu: Annotated[bool | None, typer.Option(help="train on CPU even if a GPU is present")] = None,
) -> None:
    """Fine-tune the student annotator with LoRA (needs the 'distill' extra); rerun to resume."""
    from biomedner.synth.student import StudentTrainConfig, train_student

    try:
        data = _read_config_file(config)
        for key, value in (
            ("model", model),
            ("train_file", str(train) if train else None),
            ("eval_file", str(eval_file) if eval_file else None),
            ("output_dir", str(out) if out else None),
            ("max_steps", max_steps),
            ("num_train_epochs", epochs),
            ("learning_rate", learning_rate),
            ("lora_r", lora_r),
            ("per_device_train_batch_size", batch_size),
            ("max_length", max_length),
            ("merge_lora", merge),
            ("use_cpu", cpu),
        ):
            if value is not None:
                data[key] = value
        cfg = _validate(StudentTrainConfig, data, "student training config")
        report = train_student(cfg)
    except ImportError as exc:
        raise _fail(
            ImportError(f"{exc}; install the extra: pip install 'biomedner[distill]'")
        ) from None
    except (BiomednerError, FileNotFoundError, ValueError) as exc:
        raise _fail(exc) from None
    _summary("train-student", report, ["global_step", "train_loss", "eval_loss"])


@synth_app.command("align")
def align_command(
    texts: Annotated[Path, typer.Option(help='JSONL of {"id", "text", "source"?}')],
    annotations: Annotated[
        Path, typer.Option(help='JSONL of {"id", "entities": [{"text", "type"}]}')
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="training records JSONL")],
    report: Annotated[
        Path | None, typer.Option(help="JSON report (default <out>.report.json)")
    ] = None,
    case: Annotated[str, typer.Option(help="fallback, exact or ignore")] = "fallback",
    overlap: Annotated[str, typer.Option(help="prefer_longer or keep_all")] = "prefer_longer",
    same_span_types: Annotated[str, typer.Option(help="keep_all or first")] = "keep_all",
    keep_empty: Annotated[bool, typer.Option(help="keep texts with no mentions")] = False,
    max_not_found_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 1.0,
    source: Annotated[str, typer.Option(help="provenance source name")] = "synthetic",
    prompt_version: Annotated[str | None, typer.Option(help="provenance prompt version")] = None,
    details: Annotated[
        Path | None, typer.Option(help="JSONL listing each unaligned mention (with text)")
    ] = None,
) -> None:
    """Align teacher mention strings to character offsets and write training records."""
    from biomedner.synth.align import AlignConfig, align_files

    try:
        cfg = _validate(
            AlignConfig,
            {
                "case": case,
                "overlap": overlap,
                "same_span_types": same_span_types,
                "keep_empty": keep_empty,
                "max_not_found_fraction": max_not_found_fraction,
                "source": source,
                "prompt_version": prompt_version,
            },
            "alignment options",
        )
        result = align_files(texts, annotations, out, cfg, report_path=report, details_path=details)
    except (BiomednerError, FileNotFoundError) as exc:
        raise _fail(exc) from None
    _summary(
        "align",
        result["counts"],
        [
            "records_kept",
            "records_dropped",
            "mentions_total",
            "mentions_matched",
            "mentions_not_found",
            "ambiguous_spans",
            "overlap_conflicts",
            "entities_written",
        ],
    )


@synth_app.command("agreement")
def agreement_command(
    teacher: Annotated[Path, typer.Option(help="teacher annotations JSONL")],
    student: Annotated[Path, typer.Option(help="student annotations JSONL")],
    ids: Annotated[
        Path | None, typer.Option(help="JSONL whose ids form the held-out slice (eval.jsonl)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="JSON report")] = None,
) -> None:
    """Entity-level P/R/F1 of the student against the teacher on the held-out slice."""
    from biomedner.io.jsonl import write_json_atomic
    from biomedner.synth.agreement import agreement, load_annotations, load_ids

    try:
        result = agreement(
            load_annotations(teacher), load_annotations(student), load_ids(ids) if ids else None
        )
    except (BiomednerError, FileNotFoundError, KeyError) as exc:
        raise _fail(exc) from None
    if out is not None:
        write_json_atomic(result, out)
    typer.echo(json.dumps(result))
