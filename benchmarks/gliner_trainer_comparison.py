"""Equal-budget comparison of gliner's own trainer and biomedner's (issue 18, item 4).

    python benchmarks/gliner_trainer_comparison.py --out runs/gliner_vs_biomedner
    python benchmarks/gliner_trainer_comparison.py --out /tmp/gvb_tiny --steps 10 \
        --benchmarks ncbi_disease                                  # a smoke run

One GLiNER uni-encoder span model (the recipe of ``configs/ablation/stage1_v1v2.toml``: MiniLM-L6,
max_width 12, span head 256, dropout 0.3, one LSTM layer, windows of <= 64 words, markerV0) is
trained twice from the SAME initial weights on the SAME windows for the same number of optimiser
steps: once by ``gliner`` 0.2.29's documented path (``GLiNER.train_model`` with
``gliner.training.TrainingArguments``, i.e. its ``Trainer`` on top of the transformers Trainer),
once by ``biomedner train``. Both are then scored zero-shot by ``biomedner evaluate`` on the test
splits (strict/relaxed micro-F1 with bootstrap CIs) and compared pairwise by ``biomedner compare``
(A = biomedner, B = gliner: differences are biomedner - gliner).

Steps, each a subprocess run with ``OMP_NUM_THREADS=1`` (the commands are printed), each skipped
when its output exists, so the command resumes after an interruption:

1. ``data/``: the recipe's stage-1 windows, built once by biomedner's own pipeline
   (``load_config`` + ``build_model`` + ``prepare_stage``: teacher_v1 + teacher_v2 aligned to
   whitespace words and cut into windows). Written as ``gliner_train.json`` (gliner's format,
   ``{"tokenized_text", "ner": [[first, last_inclusive, label]]}``) and ``records.jsonl``
   (biomedner records: the words joined by single spaces, exact character offsets); the two are
   checked to hold the same examples and entities, and the records are read back through
   ``prepare_stage`` exactly as ``biomedner train`` will, and must give back the same windows
   (same words, spans and negatives, nothing re-cut or dropped). ``data/init/`` is the untrained
   model built by ``build_model`` with the recipe's seed: both trainers start from it (gliner
   loads it with ``GLiNER.from_pretrained``). ``data/biomedner.toml`` is the biomedner recipe.
2. ``gliner/``: ``model/`` (``GLiNER.save_pretrained``: gliner_config.json + model.safetensors),
   ``train_log.jsonl`` (the transformers Trainer's log history) and ``report.json``.
3. ``biomedner/``: ``biomedner train data/biomedner.toml`` (``model/``, ``report.json``, ...).
4. ``eval_gliner/``, ``eval_biomedner/``: ``biomedner evaluate --model .../model --benchmarks ...
   --split test --no-plot``.
5. ``compare.json``: ``biomedner compare eval_biomedner/report.json eval_gliner/report.json``.
6. ``summary.json`` (always rewritten): wall-clock seconds of each training subprocess (and the
   trainer's own count), steps, examples seen, and both F1s per benchmark.

Matched settings (taken from the recipe, not restated here): AdamW with the encoder group (the
transformer and its projection: gliner's ``token_rep_layer``, biomedner's ``encoder.*``) at
``encoder_lr``/``encoder_weight_decay`` and the rest at ``head_lr``/``head_weight_decay``
(gliner ``learning_rate``/``weight_decay``/``others_lr``/``others_weight_decay``); cosine schedule
with warm-up ratio; batch size; no gradient accumulation; max grad norm; focal loss alpha/gamma,
summed over (span, label) cells (gliner ``loss_reduction="sum"``, ``masking="none"``);
``max_types``; negative-type ratio 1; labels shuffled per example; seed; fp32 on CPU (GPUs are
hidden from every subprocess) with ``--threads`` torch threads; no checkpoints or dev evaluation during training (biomedner still
writes its one end-of-stage checkpoint, inside its timed run).

What gliner's trainer does its own way (the comparison is "each library's own trainer at equal
budget", so these are its defaults, named rather than matched):

- negative types: gliner draws them from the other examples of the same batch (up to 100 types
  of the batch, shuffled), ``randint(0, max_neg_type_ratio)`` x (number of entity MENTIONS of the
  example) of them; biomedner draws ``uniform(0, neg_type_ratio)`` x (number of entity TYPES of
  the example) from every label of the training data. An example without entities gets an empty
  label ``""`` in gliner and one sampled label in biomedner.
- ``max_types`` cap: gliner shuffles positives and negatives together and cuts, so positive
  types can be dropped; biomedner keeps positives first and counts any cut.
- data order: gliner (transformers Trainer) draws uniformly shuffled batches of the pooled
  windows, epoch by epoch; biomedner draws length-bucketed batches (pools of
  ``bucket_batches`` x batch sorted by length), so its batches hold windows of similar length.
- weight decay: gliner exempts biases and LayerNorm weights; biomedner decays every parameter
  of a group.
- warm-up: transformers' schedule starts at lr 0 and uses ceil(ratio x steps) warm-up steps;
  biomedner starts at lr/warmup and uses round(ratio x steps) (the same 20 steps at 400 steps).
- the forward pass is each library's own implementation of the same architecture (the same
  modules and dropouts; ``tests/parity`` checks that their predictions agree).
- RNG: python/numpy/torch seeded by transformers' ``set_seed`` vs biomedner's generators seeded
  by (seed, stage, micro-batch), so the runs see different (equally distributed) batch orders,
  label draws and dropout masks. gliner builds label lists from Python sets, so every subprocess
  runs with ``PYTHONHASHSEED=0``; otherwise its run would change from process to process.

The data (seed 0): 2,520 abstracts -> 13,070 windows holding 169,375 entity occurrences
(windows overlap by 2 x max_width words, so an entity near a cut is in two windows; 117,627
distinct entities), one window without entities, no explicit negatives.

Full run (for the lead): the first command above (400 steps, seven benchmarks). Measured on the
shared, loaded 2-core machine (load average 5-7) with one thread per process: about 2.5-4 s
per step for either trainer (15-25 min each) and 2,000-4,000 characters of test text per second
in evaluation (the seven test splits hold 3.05 M characters: 13-25 min per model), i.e. about
1-2 h in all; at load average 7 a step took up to 50 s, so run it when the machine is quieter.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "ablation" / "stage1_v1v2.toml"
BENCHMARKS = "ncbi_disease,bc5cdr,biored,jnlpba,bionlp13cg,craft,chia"


# ---------------------------------------------------------------------------- helpers
class Failure(Exception):
    """A mistake or a failed step: reported as one ``error:`` line, exit status 2."""


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    raise TypeError(f"no TOML form for {value!r}")


def _env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    # gliner builds label lists from Python sets (batch types, then shuffled): with randomised
    # string hashing its run would differ from process to process despite the seed
    env["PYTHONHASHSEED"] = "0"
    # fp32 on CPU for both: `biomedner train` would otherwise take a visible GPU
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(REPO / "src"), env.get("PYTHONPATH", "")] if p
    )
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def _run(step: str, argv: list[str], threads: int) -> float:
    print(f"$ OMP_NUM_THREADS={threads} {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=_env(threads))
    if done.returncode != 0:
        raise Failure(f"step {step} failed with exit status {done.returncode} (see above)")
    return round(time.perf_counter() - t0, 1)


def _biomedner(*args: str) -> list[str]:
    return [sys.executable, "-m", "biomedner.cli.main", *args]


def _self(part: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, __file__, "--part", part, "--out", str(args.out),
        "--config", str(args.config), "--steps", str(args.steps),
        "--threads", str(args.threads), "--seed", str(args.seed),
    ]  # fmt: skip


# ---------------------------------------------------------------------------- 1. data
def _gliner_item(ex) -> dict[str, Any]:
    item: dict[str, Any] = {
        "tokenized_text": list(ex.words),
        "ner": [[s, e - 1, label] for s, e, label in ex.spans],
    }
    if ex.negatives:  # gliner's per-example explicit negative types
        item["ner_negatives"] = list(ex.negatives)
    return item


def _record(ex, source: int) -> dict[str, Any]:
    starts, pos = [], 0
    for word in ex.words:
        starts.append(pos)
        pos += len(word) + 1
    text = " ".join(ex.words)
    entities = [
        {"start": starts[s], "end": starts[e - 1] + len(ex.words[e - 1]), "label": label}
        for s, e, label in ex.spans
    ]
    for ent, (s, e, _) in zip(entities, ex.spans):
        assert text[ent["start"] : ent["end"]] == " ".join(ex.words[s:e])
    return {
        "id": ex.id,
        "text": text,
        "entities": entities,
        "negatives": list(ex.negatives),
        "provenance": {"source": source},
    }


def _recipe_toml(args: argparse.Namespace, optim: dict[str, Any], reserve: float) -> str:
    lines = [
        "# written by benchmarks/gliner_trainer_comparison.py: the biomedner side of the",
        "# equal-budget comparison (paths relative to this file, except output_dir)",
        f"seed = {args.seed}",
        f"output_dir = {_toml_value(str(args.out / 'biomedner'))}",
        "log_every = 10",
        "progress_bar = false",
        f"num_threads = {args.threads}",
        "",
        "[model]",
        'checkpoint = "init"',
        "",
        "[optim]",
        *(f"{k} = {_toml_value(v)}" for k, v in optim.items()),
        "",
        "[data]",
        'unaligned = "error"  # the windows are exact word spans',
        f"prompt_token_reserve = {reserve!r}",
        "",
        "[[stages]]",
        'name = "synthetic"',
        f"steps = {args.steps}",
        "",
        "[[stages.sources]]",
        'kind = "records"',
        'path = "records.jsonl"',
        "",
        "[checkpoint]",
        f"every_steps = {args.steps}",
        "keep_last = 1",
        "",
    ]
    return "\n".join(lines)


def prepare(args: argparse.Namespace) -> None:
    import torch

    from biomedner.training.config import load_config
    from biomedner.training.setup import build_model, prepare_stage
    from biomedner.training.state import seed_everything

    torch.set_num_threads(args.threads)
    data_dir = args.out / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)  # an unfinished earlier attempt (data.json is written last)
    tmp = args.out / "data.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)

    config = load_config(args.config, [f"seed={args.seed}"])
    if len(config.stages) != 1:
        raise Failure(
            f"--config: {args.config} has {len(config.stages)} stages; give a one-stage recipe"
        )
    stage = config.stages[0]
    optim = config.stage_optim(stage)
    unset = [k for k, v in optim.model_dump().items() if v is None]
    if unset:  # TOML has no null: the biomedner recipe would silently fall back to a default
        raise Failure(f"--config: set optim.{', optim.'.join(unset)} (the comparison needs values)")
    seed_everything(config.seed)
    model = build_model(config, torch.device("cpu"))
    data = prepare_stage(config, 0, stage, model, optim.batch_size, optim.bucket_batches)
    examples = [(i, ex) for i, src in enumerate(data.stream.sources) for ex in src]
    model.save_pretrained(tmp / "init")

    gliner_items = [_gliner_item(ex) for _, ex in examples]
    records = [_record(ex, i) for i, ex in examples]
    _write_json(tmp / "gliner_train.json", gliner_items)
    _write_text(
        tmp / "records.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    )
    counts = {
        "gliner_examples": len(gliner_items),
        "gliner_entities": sum(len(x["ner"]) for x in gliner_items),
        "records": len(records),
        "record_entities": sum(len(r["entities"]) for r in records),
        "examples_with_explicit_negatives": sum(1 for _, ex in examples if ex.negatives),
        "examples_without_entities": sum(1 for _, ex in examples if not ex.spans),
    }
    print(
        "gliner_train.json: {gliner_examples} examples, {gliner_entities} entities; "
        "records.jsonl: {records} records, {record_entities} entities".format(**counts),
        flush=True,
    )
    if (counts["gliner_examples"], counts["gliner_entities"]) != (
        counts["records"],
        counts["record_entities"],
    ):
        raise Failure("the gliner and biomedner training files differ in size")

    optim_fields = optim.model_dump()
    _write_text(
        tmp / "biomedner.toml", _recipe_toml(args, optim_fields, config.data.prompt_token_reserve)
    )
    # read the records back exactly as `biomedner train` will: the same windows must come out
    check = load_config(tmp / "biomedner.toml")
    back = prepare_stage(check, 0, check.stages[0], build_model(check, torch.device("cpu")), 8, 16)
    again = back.stream.sources[0]
    if [(e.id, e.words, e.spans, e.negatives) for e in again] != [
        (e.id, e.words, e.spans, e.negatives) for _, e in examples
    ]:
        raise Failure(
            "records.jsonl does not read back as the same windows "
            f"({len(again)} vs {len(examples)} examples)"
        )
    print(f"records.jsonl reads back as the same {len(again)} windows", flush=True)
    _write_json(
        tmp / "data.json",
        {
            "config": str(args.config),
            "seed": args.seed,
            "counts": counts,
            "stage_sources": data.info,
            "example_counts": data.example_counts,
            "optim": optim_fields,
            "model": config.model.model_dump(),
        },
    )
    os.replace(tmp, data_dir)


# ---------------------------------------------------------------------------- 2. gliner
def train_gliner(args: argparse.Namespace) -> None:
    import torch
    from gliner import GLiNER
    from gliner.training import TrainingArguments

    torch.set_num_threads(args.threads)
    data_dir = args.out / "data"
    if not (data_dir / "data.json").is_file():
        raise Failure(f"{data_dir} is not prepared; run without --part first")
    info = json.loads((data_dir / "data.json").read_text(encoding="utf-8"))
    optim = info["optim"]
    if float(optim["neg_type_ratio"]) != int(optim["neg_type_ratio"]):
        raise Failure("optim.neg_type_ratio must be a whole number (gliner's max_neg_type_ratio)")
    if optim["grad_accum_steps"] != 1 or optim["loss_reduction"] != "sum":
        raise Failure("the recipe must use optim.grad_accum_steps = 1 and loss_reduction = 'sum'")
    train = json.loads((data_dir / "gliner_train.json").read_text(encoding="utf-8"))

    model = GLiNER.from_pretrained(str(data_dir / "init"), load_tokenizer=True)
    model.config.max_types = int(optim["max_types"])
    model.config.max_neg_type_ratio = int(optim["neg_type_ratio"])
    model.float()  # transformers 5 keeps a backbone file's dtype; the comparison is fp32
    _same_start(model.model, data_dir / "init" / "model.safetensors")

    dest = args.out / "gliner"
    if dest.exists():
        shutil.rmtree(dest)
    tmp = args.out / "gliner.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    targs = TrainingArguments(
        output_dir=str(tmp / "hf"),
        max_steps=args.steps,
        per_device_train_batch_size=optim["batch_size"],
        gradient_accumulation_steps=1,
        learning_rate=optim["encoder_lr"],
        weight_decay=optim["encoder_weight_decay"],
        others_lr=optim["head_lr"],
        others_weight_decay=optim["head_weight_decay"],
        lr_scheduler_type=optim["schedule"],
        warmup_ratio=optim["warmup_ratio"],
        max_grad_norm=optim["max_grad_norm"],
        focal_loss_alpha=optim["focal_alpha"],
        focal_loss_gamma=optim["focal_gamma"],
        label_smoothing=optim["label_smoothing"],
        loss_reduction="sum",
        negatives=1.0,
        masking="none",
        seed=args.seed,
        use_cpu=True,
        bf16=False,
        fp16=False,
        dataloader_num_workers=0,
        save_strategy="no",
        eval_strategy="no",
        logging_steps=10,
        report_to="none",
        disable_tqdm=True,
    )
    label_counts = _count_labels(model.data_processor)
    t0 = time.perf_counter()
    trainer = model.train_model(train_dataset=train, eval_dataset=None, training_args=targs)
    seconds = round(time.perf_counter() - t0, 1)
    model.save_pretrained(str(tmp / "model"), safe_serialization=True)
    for name in ("gliner_config.json", "model.safetensors"):
        if not (tmp / "model" / name).is_file():
            raise Failure(f"GLiNER.save_pretrained wrote no {name} in {tmp / 'model'}")
    shutil.rmtree(tmp / "hf", ignore_errors=True)
    history = trainer.state.log_history
    _write_text(tmp / "train_log.jsonl", "".join(json.dumps(h) + "\n" for h in history))
    _write_json(
        tmp / "report.json",
        {
            "global_step": trainer.state.global_step,
            "seconds_train_model": seconds,
            "examples_seen": trainer.state.global_step * optim["batch_size"],
            "epochs": trainer.state.epoch,
            "train_examples": len(train),
            "final_log": history[-1] if history else None,
            "label_counts": dict(label_counts),
            "gliner_version": _version("gliner"),
            "transformers_version": _version("transformers"),
        },
    )
    os.replace(tmp, dest)


def _count_labels(processor) -> Counter[str]:
    """Counts the label lists gliner's collator builds, without changing them (or its RNG use):
    how many labels an example gets, and positive types its ``max_types`` cut dropped."""
    counts: Counter[str] = Counter()
    build = processor.batch_generate_class_mappings

    def counted(batch_list, *a, **k):
        class_to_ids, id_to_classes = build(batch_list, *a, **k)
        for example, mapping in zip(batch_list, class_to_ids):
            positives = {span[-1] for span in example["ner"]}
            counts["examples"] += 1
            counts["label_slots"] += len(mapping)
            counts["positive_types"] += len(positives)
            counts["positive_types_cut_by_max_types"] += len(positives - set(mapping))
            counts["examples_given_the_empty_label"] += int("" in mapping)
        return class_to_ids, id_to_classes

    processor.batch_generate_class_mappings = counted
    return counts


def _same_start(module, weights: Path) -> None:
    """gliner must start from exactly the weights biomedner starts from."""
    import torch
    from safetensors.torch import load_file

    saved = load_file(str(weights))
    state = module.state_dict()
    missing = sorted(set(saved) - set(state))
    differ = [k for k in saved if k in state and not torch.equal(saved[k].float(), state[k])]
    if missing or differ:
        raise Failure(
            f"gliner did not load {weights} as saved: missing {missing[:3]}, differing "
            f"{differ[:3]} ({len(missing)} + {len(differ)} tensors)"
        )
    print(f"gliner starts from the {len(saved)} tensors of {weights}", flush=True)


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


# ---------------------------------------------------------------------------- summary
def _timings(out: Path) -> dict[str, float]:
    path = out / "timings.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _record_time(out: Path, key: str, seconds: float) -> None:
    t = _timings(out)
    t[key] = seconds
    _write_json(out / "timings.json", t)


def _scores(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """benchmark -> strict and relaxed micro-F1 with 95% bootstrap CIs (evaluate's report)."""
    out: dict[str, dict[str, Any]] = {}
    for name, res in report["benchmarks"].items():
        out[name] = {}
        for kind in ("strict", "relaxed"):
            micro = res["metrics"][kind]["micro"]
            out[name][f"{kind}_f1"] = micro["f1"]
            out[name][f"{kind}_f1_ci95"] = micro["ci95"]["f1"]
    return out


def summarize(args: argparse.Namespace) -> dict[str, Any]:
    out = args.out
    g = json.loads((out / "gliner" / "report.json").read_text(encoding="utf-8"))
    b = json.loads((out / "biomedner" / "report.json").read_text(encoding="utf-8"))
    data = json.loads((out / "data" / "data.json").read_text(encoding="utf-8"))
    batch = data["optim"]["batch_size"]
    timings = _timings(out)
    ev_g = json.loads((out / "eval_gliner" / "report.json").read_text(encoding="utf-8"))
    ev_b = json.loads((out / "eval_biomedner" / "report.json").read_text(encoding="utf-8"))
    sg, sb = _scores(ev_g), _scores(ev_b)
    compare = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    summary = {
        "command": " ".join(sys.argv),
        "steps": args.steps,
        "threads": args.threads,
        "train_examples": data["counts"]["gliner_examples"],
        "train_entities": data["counts"]["gliner_entities"],
        "gliner": {
            "optimizer_steps": g["global_step"],
            "examples_seen": g["examples_seen"],
            "wall_seconds_subprocess": timings.get("train_gliner"),
            "seconds_train_model": g["seconds_train_model"],
            "label_slots_per_example": g["label_counts"]["label_slots"]
            / max(1, g["label_counts"]["examples"]),
            "positive_labels_cut_by_max_types": g["label_counts"][
                "positive_types_cut_by_max_types"
            ],
        },
        "biomedner": {
            "optimizer_steps": b["global_step"],
            "examples_seen": b["global_step"] * batch,
            "wall_seconds_subprocess": timings.get("train_biomedner"),
            "seconds_this_run": b["seconds_this_run"],
            "label_slots_per_example": b["counts"].get("label_slots", 0)
            / max(1, b["global_step"] * batch),
            "positive_labels_cut_by_max_types": b["counts"].get(
                "positive_labels_cut_by_max_types", 0
            ),
        },
        "f1": {name: {"biomedner": sb[name], "gliner": sg[name]} for name in sb},
        "mean_strict_f1": {
            "biomedner": statistics.fmean(v["strict_f1"] for v in sb.values()),
            "gliner": statistics.fmean(v["strict_f1"] for v in sg.values()),
        },
        # biomedner - gliner, with compare's paired tests over the same documents
        "strict_difference": {
            name: {
                "difference": c["strict"]["difference"],
                "ci95": c["strict"]["paired_bootstrap"]["ci95"],
                "p_approximate_randomization": c["strict"]["approximate_randomization"]["p_value"],
                "p_paired_bootstrap": c["strict"]["paired_bootstrap"]["p_value"],
            }
            for name, c in compare["benchmarks"].items()
        },
        "compare": str(out / "compare.json"),
    }
    _write_json(out / "summary.json", summary)
    return summary


# ---------------------------------------------------------------------------- driver
def run_all(args: argparse.Namespace) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "data" / "data.json").exists():
        _record_time(out, "prepare", _run("prepare", _self("prepare", args), args.threads))
    else:
        print(f"skip: {out / 'data'} exists")
    if not (out / "gliner" / "report.json").exists():
        _record_time(
            out, "train_gliner", _run("train_gliner", _self("train-gliner", args), args.threads)
        )
    else:
        print(f"skip: {out / 'gliner'} exists")
    bdir = out / "biomedner"
    if not (bdir / "model" / "gliner_config.json").exists():
        extra = ["--resume"] if (bdir / "checkpoints").exists() else ["--overwrite"]
        argv = _biomedner("train", str(out / "data" / "biomedner.toml"), "--quiet", *extra)
        _record_time(out, "train_biomedner", _run("train_biomedner", argv, args.threads))
    else:
        print(f"skip: {bdir} exists")
    for name, model in (("gliner", out / "gliner" / "model"), ("biomedner", bdir / "model")):
        dest = out / f"eval_{name}"
        if (dest / "report.json").exists():
            print(f"skip: {dest} exists")
            continue
        argv = _biomedner(
            "evaluate", "--model", str(model), "--benchmarks", args.benchmarks,
            "--split", "test", "--out", str(dest), "--no-plot",
            "--batch-size", str(args.eval_batch_size),
        )  # fmt: skip
        _record_time(out, f"eval_{name}", _run(f"eval_{name}", argv, args.threads))
    if not (out / "compare.json").exists():
        argv = _biomedner(
            "compare", str(out / "eval_biomedner" / "report.json"),
            str(out / "eval_gliner" / "report.json"), "--out", str(out / "compare.json"),
        )  # fmt: skip
        _run("compare", argv, args.threads)
    summary = summarize(args)
    print(json.dumps(summary, indent=2))


def _check_out(args: argparse.Namespace) -> None:
    """A resumed --out must hold the same comparison: skipped parts are reused as they are."""
    run = {
        "config": str(args.config),
        "steps": args.steps,
        "threads": args.threads,
        "seed": args.seed,
        "benchmarks": args.benchmarks,
    }
    path = args.out / "run.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = [f"{k}={old.get(k)!r}" for k in run if old.get(k) != run[k]]
        if diff:
            raise Failure(
                f"--out {args.out} holds a run with {', '.join(diff)}; use another --out "
                "or pass the same options to resume it"
            )
    args.out.mkdir(parents=True, exist_ok=True)
    _write_json(path, run)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="one-stage recipe")
    ap.add_argument("--steps", type=int, default=400, help="optimiser steps of each trainer")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--benchmarks", default=BENCHMARKS, help="comma-separated test benchmarks")
    ap.add_argument("--eval-batch-size", type=int, default=16)
    ap.add_argument("--part", choices=["all", "prepare", "train-gliner"], default="all")
    args = ap.parse_args(argv)
    try:
        for flag in ("steps", "threads", "eval_batch_size"):
            if getattr(args, flag) <= 0:
                raise Failure(f"--{flag.replace('_', '-')} must be positive")
        if not args.config.is_file():
            raise Failure(f"--config: {args.config} does not exist")
        if not all(args.benchmarks.split(",")):
            raise Failure(f"--benchmarks: empty name in {args.benchmarks!r}")
        args.out = args.out.resolve()
        args.config = args.config.resolve()
        if args.part == "all":
            _check_out(args)
        {"all": run_all, "prepare": prepare, "train-gliner": train_gliner}[args.part](args)
    except Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
