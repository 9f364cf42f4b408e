"""The training loop: a plain PyTorch loop over one or more stages.

Per optimiser step: ``grad_accum_steps x world_size`` micro-batches are drawn from the stage's
stream (each rank computes its share), losses are scaled by ``1 / (grad_accum_steps x
world_size)`` and summed gradients all-reduced, gradients clipped, AdamW and the schedule
stepped. Checkpoints (every ``checkpoint.every_steps`` and at the end of each stage) hold
everything an exact resume needs; each stage's final model is written in the gliner layout to
``output_dir/stages/<n>_<name>/``, and the last stage's also to ``output_dir/model/``.

Out-of-memory errors stop the run with a message saying what to change, unless
``optim.skip_oom`` is set: then the whole step is skipped on every rank, counted, and the
skipped example ids are listed in the report.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from biomedner.errors import BiomednerError, CheckpointError, ConfigError
from biomedner.logging import get_logger, progress_enabled
from biomedner.training import distributed as dist_utils
from biomedner.training.batching import StageStream, _rng
from biomedner.training.config import StageConfig, TrainConfig, resolve_model_ref
from biomedner.training.evaluate import (
    EvalSet,
    eval_set_from_benchmark,
    eval_set_from_records,
    evaluate_set,
)
from biomedner.training.examples import ExampleSettings, build_examples
from biomedner.training.losses import FocalSpanLoss
from biomedner.training.optim import build_optimizer, build_scheduler
from biomedner.training.sampling import BatchContext, TrainBatch, build_batch
from biomedner.training.sources import load_source
from biomedner.training.state import (
    list_checkpoints,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)

logger = get_logger(__name__)


class TrainingOOMError(BiomednerError):
    """A batch did not fit in memory and ``optim.skip_oom`` is off."""


@dataclass
class TrainResult:
    output_dir: Path
    global_step: int
    stage_dirs: list[Path]
    model_dir: Path | None
    report: dict[str, Any] = field(default_factory=dict)
    finished: bool = True


# ---------------------------------------------------------------------------------- model setup
def build_model(config: TrainConfig, device: torch.device) -> Any:
    m = config.model
    if m.checkpoint is not None:
        from biomedner.model import NERModel

        return NERModel.from_pretrained(
            resolve_model_ref(m.checkpoint, config.base_dir), device=device
        )
    from biomedner.modeling.init import init_model

    return init_model(
        resolve_model_ref(m.backbone, config.base_dir),
        labels_encoder=(
            resolve_model_ref(m.labels_encoder, config.base_dir) if m.labels_encoder else None
        ),
        hidden_size=m.hidden_size,
        max_width=m.max_width,
        max_len=m.max_len,
        dropout=m.dropout,
        num_rnn_layers=m.num_rnn_layers,
        words_splitter_type=m.words_splitter,
        seed=config.seed,
        device=device,
    )


def _num_special_tokens(tokenizer) -> int:
    probe = tokenizer(["x"], is_split_into_words=True)["input_ids"]
    plain = tokenizer(["x"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    return len(probe) - len(plain)


def _max_tokens(model) -> int | None:
    from biomedner.modeling.encoder import max_input_tokens

    return max_input_tokens(model.config.encoder_config or {})


# ---------------------------------------------------------------------------------- stage data
@dataclass
class StageData:
    stream: StageStream
    pools: list[list[str]]
    info: list[dict[str, Any]]
    example_counts: dict[str, int]


def prepare_stage(
    config: TrainConfig, index: int, stage: StageConfig, model, batch_size: int, bucket: int
) -> StageData:
    max_tokens = _max_tokens(model)
    reserve = 0
    if max_tokens is not None and not model.config.is_bi_encoder:
        reserve = int(config.data.prompt_token_reserve * max_tokens)
    budget = (
        None if max_tokens is None else max_tokens - _num_special_tokens(model.tokenizer) - reserve
    )
    settings = ExampleSettings(
        max_width=model.config.max_width,
        max_words=model.config.max_len,
        token_budget=budget,
        unaligned=config.data.unaligned,
    )
    sources, pools, infos = [], [], []
    totals: Counter[str] = Counter()
    for src in stage.sources:
        records, info = load_source(src, config)
        counts: Counter[str] = Counter()
        examples = build_examples(records, model.splitter, model.tokenizer, settings, counts)
        if not examples:
            raise ConfigError(f"stage {stage.name!r}: a source yielded no examples: {info}")
        info["examples"] = dict(counts)
        totals.update(counts)
        sources.append(examples)
        labels = {s[2] for ex in examples for s in ex.spans} | {
            n for ex in examples for n in ex.negatives
        }
        pools.append(sorted(labels))
        infos.append(info)
        logger.info("stage %s source %s: %s", stage.name, info.get("kind"), dict(counts))
    stream = StageStream(
        sources=sources,
        weights=[s.weight for s in stage.sources],
        batch_size=batch_size,
        bucket_batches=bucket,
        seed=config.seed,
        stage=index,
    )
    return StageData(stream=stream, pools=pools, info=infos, example_counts=dict(totals))


def _eval_set(config: TrainConfig) -> EvalSet | None:
    ev = config.eval
    if ev is None:
        return None
    if ev.benchmark is not None:
        return eval_set_from_benchmark(
            ev.benchmark, ev.split, data_root=ev.data_root, max_docs=ev.max_docs
        )
    return eval_set_from_records(
        str(config.resolve(ev.records)), labels=ev.labels, max_docs=ev.max_docs
    )


# ---------------------------------------------------------------------------------- the loop
class Trainer:
    def __init__(self, config: TrainConfig, *, device: str | torch.device | None = None):
        self.config = config
        self.dist = dist_utils.init_distributed()
        if device is None:
            device = f"cuda:{self.dist.local_rank}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.out = Path(config.output_dir)
        self.ckpt_dir = self.out / "checkpoints"
        self.counts: Counter[str] = Counter()
        self.skipped_ids: list[str] = []
        self.evals: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {}
        self.stage_info: list[dict[str, Any]] = []
        self.log_file = None

    # -------------------------------------------------------------- helpers
    def _autocast(self, precision: str):
        if precision == "fp32":
            return torch.autocast(device_type=self.device.type, enabled=False)
        if self.device.type != "cuda":
            return torch.autocast(device_type=self.device.type, enabled=False)
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        return torch.autocast(device_type="cuda", dtype=dtype)

    def _log(self, entry: dict[str, Any]) -> None:
        if self.dist.is_main and self.log_file is not None:
            self.log_file.write(json.dumps(entry) + "\n")
            self.log_file.flush()

    def _forward_loss(
        self, batch: TrainBatch, loss_fn: FocalSpanLoss, precision: str
    ) -> torch.Tensor:
        encoded = batch.encoded.to(self.device)
        module = self.model.module
        with self._autocast(precision):
            if self.model.config.is_bi_encoder:
                vectors = module.encode_labels(
                    batch.label_input_ids.to(self.device),
                    batch.label_attention_mask.to(self.device),
                )
                logits = module(encoded, vectors)
            else:
                logits = module(encoded)
        return loss_fn(logits, batch.targets.to(self.device), batch.valid.to(self.device))

    def _evaluate(self, eval_set: EvalSet, stage: str, step: int) -> dict[str, Any] | None:
        if not self.dist.is_main:
            return None
        ev = self.config.eval
        assert ev is not None
        t0 = time.perf_counter()
        scores = evaluate_set(
            self.model, eval_set, threshold=ev.threshold, batch_size=ev.batch_size
        )
        entry = {
            "event": "eval",
            "stage": stage,
            "global_step": step,
            "set": eval_set.name,
            "seconds": round(time.perf_counter() - t0, 2),
            **scores,
        }
        self.evals.append(entry)
        self._log(entry)
        logger.info(
            "eval at step %d on %s: strict F1 %.4f relaxed F1 %.4f",
            step,
            eval_set.name,
            scores["strict_f1"],
            scores["relaxed_f1"],
        )
        return entry

    # -------------------------------------------------------------- checkpoint
    def _save(
        self,
        stage_index: int,
        stage_step: int,
        global_step: int,
        stream,
        optimizer,
        scheduler,
        scaler,
    ) -> None:
        if self.dist.is_main:
            state = {
                "format": 1,
                "global_step": global_step,
                "stage_index": stage_index,
                "stage_step": stage_step,
                "model": {k: v.detach().cpu() for k, v in self.model.module.state_dict().items()},
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else None,
                "stream": stream.state_dict(),
                "rng": rng_state(),
                "counts": dict(self.counts),
                "skipped_ids": list(self.skipped_ids),
                "evals": json.dumps(self.evals),
                "best": json.dumps(self.best),
                "world_size": self.dist.world_size,
            }
            path = save_checkpoint(self.ckpt_dir, state, self.config.checkpoint.keep_last)
            self.model.save_pretrained(path / "model")
            logger.info("checkpoint: %s", path)
        dist_utils.barrier(self.dist)

    def _find_resume(self, resume: str | Path | bool | None) -> dict[str, Any] | None:
        if resume in (None, False):
            return None
        if resume is True or resume == "auto":
            found = list_checkpoints(self.ckpt_dir)
            if not found:
                logger.info("no checkpoint under %s; starting from scratch", self.ckpt_dir)
                return None
            return load_checkpoint(found[-1])
        return load_checkpoint(Path(resume))

    # -------------------------------------------------------------- run
    def train(
        self, *, resume: str | Path | bool | None = None, stop_after_steps: int | None = None
    ) -> TrainResult:
        config = self.config
        if config.num_threads is not None:
            torch.set_num_threads(config.num_threads)
        seed_everything(config.seed)
        self.model = build_model(config, self.device)
        module = self.model.module
        state = self._find_resume(resume)
        if state is not None and state.get("world_size", 1) != self.dist.world_size:
            raise CheckpointError(
                f"the checkpoint was written by {state['world_size']} processes, this run has "
                f"{self.dist.world_size}; resume with the same number for an exact continuation"
            )
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(
                json.dumps(config.model_dump(mode="json"), indent=2), encoding="utf-8"
            )
            self.log_file = (self.out / "train_log.jsonl").open("a", encoding="utf-8")
        start_stage, start_step, global_step = 0, 0, 0
        if state is not None:
            module.load_state_dict(state["model"])
            start_stage, start_step = int(state["stage_index"]), int(state["stage_step"])
            global_step = int(state["global_step"])
            self.counts = Counter(state["counts"])
            self.skipped_ids = list(state["skipped_ids"])
            self.evals = json.loads(state["evals"])
            self.best = json.loads(state["best"])
            logger.info(
                "resuming at global step %d (stage %d, step %d)",
                global_step,
                start_stage,
                start_step,
            )
        eval_set = _eval_set(config)
        stage_dirs: list[Path] = []
        t_run = time.perf_counter()
        try:
            for si, stage in enumerate(config.stages):
                stage_dir = self.out / "stages" / f"{si + 1}_{stage.name}"
                if config.only_stages is not None and stage.name not in config.only_stages:
                    continue
                if si < start_stage:
                    stage_dirs.append(stage_dir)
                    continue
                resuming_here = state is not None and si == start_stage
                global_step, done = self._run_stage(
                    si,
                    stage,
                    eval_set,
                    global_step,
                    state if resuming_here else None,
                    start_step if resuming_here else 0,
                    stop_after_steps,
                )
                if not done:
                    return self._result(stage_dirs, global_step, t_run, finished=False)
                if self.dist.is_main:
                    self.model.save_pretrained(stage_dir)
                    logger.info("stage %s done: model saved to %s", stage.name, stage_dir)
                stage_dirs.append(stage_dir)
                dist_utils.barrier(self.dist)
            model_dir = self.out / "model"
            if self.dist.is_main:
                self.model.save_pretrained(model_dir)
            return self._result(stage_dirs, global_step, t_run, finished=True, model_dir=model_dir)
        finally:
            if self.log_file is not None:
                self.log_file.close()
                self.log_file = None
            module.eval()

    def _run_stage(self, si, stage, eval_set, global_step, state, start_step, stop_after):
        config = self.config
        optim = config.stage_optim(stage)
        if self.device.type != "cuda" and optim.precision != "fp32":
            logger.warning(
                "precision %s needs a GPU; training in fp32 on %s",
                optim.precision,
                self.device.type,
            )
        data = prepare_stage(config, si, stage, self.model, optim.batch_size, optim.bucket_batches)
        if len(self.stage_info) <= si:
            self.stage_info.append(
                {
                    "name": stage.name,
                    "steps": stage.steps,
                    "sources": data.info,
                    "examples": data.example_counts,
                }
            )
        module = self.model.module
        optimizer = build_optimizer(module, optim)
        scheduler = build_scheduler(optimizer, stage.steps, optim)
        scaler = (
            torch.amp.GradScaler("cuda")
            if optim.precision == "fp16" and self.device.type == "cuda"
            else None
        )
        loss_fn = FocalSpanLoss(
            optim.focal_alpha, optim.focal_gamma, optim.loss_reduction, optim.label_smoothing
        )
        ctx = BatchContext(
            tokenizer=self.model.tokenizer,
            info=self.model.tokenizer_info,
            is_bi_encoder=self.model.config.is_bi_encoder,
            ent_token=self.model.config.ent_token,
            sep_token=self.model.config.sep_token,
            max_width=self.model.config.max_width,
            max_types=optim.max_types,
            neg_type_ratio=optim.neg_type_ratio,
            shuffle_labels=optim.shuffle_labels,
            label_pool=[],
            max_tokens=_max_tokens(self.model),
            num_special_tokens=_num_special_tokens(self.model.tokenizer),
            labels_tokenizer=self.model.labels_tokenizer,
        )
        stream = data.stream
        if state is not None:
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if scaler is not None and state.get("scaler") is not None:
                scaler.load_state_dict(state["scaler"])
            if start_step < stage.steps:
                stream.load_state_dict(state["stream"])
            set_rng_state(state["rng"])  # last: building the model and data drew numbers too
        if start_step >= stage.steps:
            return global_step, True
        micro_per_step = optim.grad_accum_steps * self.dist.world_size
        progress = None
        if config.progress_bar and self.dist.is_main and progress_enabled():
            from tqdm.auto import tqdm

            progress = tqdm(
                total=stage.steps,
                initial=start_step,
                desc=f"stage {stage.name}",
                unit="step",
                dynamic_ncols=True,
            )
        window_loss, window_examples, window_tokens, t0 = 0.0, 0, 0, time.perf_counter()
        module.train()
        for step in range(start_step, stage.steps):
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            oom = False
            batch_ids: list[str] = []
            for j in range(micro_per_step):
                source, examples = stream.next()
                if j % self.dist.world_size != self.dist.rank:
                    continue
                rng = _rng(config.seed, 15485863, si, stream.micro - 1)
                ctx.label_pool = data.pools[source]
                batch = build_batch(examples, rng, ctx, self.counts)
                batch_ids.extend(ex.id for ex in examples)
                try:
                    loss = self._forward_loss(batch, loss_fn, optim.precision) / micro_per_step
                    if scaler is not None:
                        scaler.scale(loss).backward()
                    else:
                        loss.backward()
                except torch.OutOfMemoryError as exc:
                    if not optim.skip_oom:
                        raise TrainingOOMError(
                            f"out of memory at stage {stage.name!r} step {step} on a batch of "
                            f"{len(examples)} examples, {batch.num_tokens} tokens, "
                            f"{len(batch.labels[0])}+ labels: lower optim.batch_size (raise "
                            "optim.grad_accum_steps to keep the effective batch), model.max_len "
                            "or optim.max_types, or set optim.skip_oom = true to skip such "
                            "batches (counted and reported)"
                        ) from exc
                    oom = True
                    del exc
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    break
                loss_value = float(loss.detach())
                if not math.isfinite(loss_value):
                    raise BiomednerError(
                        f"loss is {loss_value} at stage {stage.name!r} step {step}; lower the "
                        "learning rates or use precision = 'bf16' instead of 'fp16'"
                    )
                step_loss += loss_value
                window_examples += len(examples)
                window_tokens += batch.num_tokens
            if dist_utils.any_rank(oom, self.dist, self.device):
                # every rank skips the step so gradients and schedules stay in step
                optimizer.zero_grad(set_to_none=True)
                self.counts["oom_skipped_steps"] += 1
                self.skipped_ids.extend(batch_ids)
                # the micro-batches this rank did not reach still belong to this step
                while stream.micro % micro_per_step:
                    stream.next()
            else:
                dist_utils.all_reduce_gradients(module, self.dist)
                if scaler is not None:
                    scaler.unscale_(optimizer)
                if optim.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(module.parameters(), optim.max_grad_norm)
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
            scheduler.step()
            global_step += 1
            window_loss += step_loss
            done_in_stage = step + 1
            if done_in_stage % config.log_every == 0 or done_in_stage == stage.steps:
                elapsed = max(time.perf_counter() - t0, 1e-9)
                n = (
                    config.log_every
                    if done_in_stage % config.log_every == 0
                    else (done_in_stage % config.log_every)
                )
                entry = {
                    "event": "train",
                    "stage": stage.name,
                    "global_step": global_step,
                    "stage_step": done_in_stage,
                    "loss": window_loss / n,
                    "lr_encoder": optimizer.param_groups[0]["lr"],
                    "lr_head": optimizer.param_groups[-1]["lr"],
                    "examples_per_s": window_examples / elapsed,
                    "tokens_per_s": window_tokens / elapsed,
                }
                self._log(entry)
                if progress is not None:
                    progress.set_postfix(
                        loss=f"{entry['loss']:.3f}",
                        ex_s=f"{entry['examples_per_s']:.1f}",
                        tok_s=f"{entry['tokens_per_s']:.0f}",
                    )
                window_loss, window_examples, window_tokens, t0 = 0.0, 0, 0, time.perf_counter()
            if progress is not None:
                progress.update(1)
            if eval_set is not None and (
                done_in_stage % config.eval.interval_steps == 0 or done_in_stage == stage.steps
            ):
                entry = self._evaluate(eval_set, stage.name, global_step)
                if entry is not None:
                    self._maybe_best(entry, si, stage.name)
                dist_utils.barrier(self.dist)
                module.train()
            if done_in_stage % config.checkpoint.every_steps == 0 or done_in_stage == stage.steps:
                self._save(si, done_in_stage, global_step, stream, optimizer, scheduler, scaler)
            if stop_after is not None and global_step >= stop_after and done_in_stage < stage.steps:
                if done_in_stage % config.checkpoint.every_steps != 0:
                    self._save(si, done_in_stage, global_step, stream, optimizer, scheduler, scaler)
                if progress is not None:
                    progress.close()
                return global_step, False
        if progress is not None:
            progress.close()
        return global_step, True

    def _maybe_best(self, entry: dict[str, Any], si: int, stage_name: str) -> None:
        metric = self.config.eval.metric
        key = f"{si + 1}_{stage_name}"
        value = entry[metric]
        best = self.best.get(key)
        if best is None or value > best["value"]:
            best_dir = self.out / "stages" / f"{key}_best"
            self.model.save_pretrained(best_dir)
            self.best[key] = {
                "metric": metric,
                "value": value,
                "global_step": entry["global_step"],
                "dir": str(best_dir),
            }

    def _result(self, stage_dirs, global_step, t_run, *, finished, model_dir=None) -> TrainResult:
        report = {
            "finished": finished,
            "global_step": global_step,
            "seconds_this_run": round(time.perf_counter() - t_run, 1),
            "world_size": self.dist.world_size,
            "device": str(self.device),
            "stages": self.stage_info,
            "counts": dict(self.counts),
            "oom_skipped_steps": int(self.counts.get("oom_skipped_steps", 0)),
            "oom_skipped_example_ids": self.skipped_ids[:1000],
            "evals": self.evals,
            "best": self.best,
            "stage_dirs": [str(p) for p in stage_dirs],
            "model_dir": str(model_dir) if model_dir else None,
        }
        if self.dist.is_main:
            (self.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
            if self.counts.get("oom_skipped_steps"):
                logger.warning(
                    "%d steps were skipped for lack of memory (see report.json)",
                    self.counts["oom_skipped_steps"],
                )
        return TrainResult(self.out, global_step, stage_dirs, model_dir, report, finished)


def train(
    config: TrainConfig,
    *,
    resume: str | Path | bool | None = None,
    device: str | torch.device | None = None,
    stop_after_steps: int | None = None,
) -> TrainResult:
    """Run every stage of ``config``. ``resume``: True/"auto" (latest checkpoint under
    ``output_dir/checkpoints``) or a checkpoint path. ``stop_after_steps`` ends the run early
    after that many global steps, with a checkpoint (used to test resumption)."""
    trainer = Trainer(config, device=device)
    try:
        return trainer.train(resume=resume, stop_after_steps=stop_after_steps)
    finally:
        dist_utils.shutdown(trainer.dist)
