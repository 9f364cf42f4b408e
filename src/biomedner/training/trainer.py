"""The training loop: stages of steps, each step ``train_step`` over freshly drawn micro-batches,
then the callbacks (log, evaluation and best model, checkpoint, early stop).

Per optimiser step ``grad_accum_steps x world_size`` micro-batches are drawn from the stage's
stream (each rank computes its share; ``training/step.py``). Checkpoints hold everything an exact
resume needs (``training/state.py``); each stage's final model is written in the gliner layout to
``output_dir/stages/<n>_<name>/``, and the last stage's also to ``output_dir/model/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from biomedner.errors import CheckpointError
from biomedner.logging import get_logger
from biomedner.training import distributed as dist_utils
from biomedner.training.batching import _rng
from biomedner.training.callbacks import (
    Callback,
    Checkpoint,
    EvaluateKeepBest,
    LogProgress,
    RunLog,
    StageRun,
    StopAfter,
)
from biomedner.training.config import OptimConfig, StageConfig, TrainConfig
from biomedner.training.losses import FocalSpanLoss
from biomedner.training.optim import build_optimizer, build_scheduler
from biomedner.training.sampling import BatchContext, TrainBatch, build_batch
from biomedner.training.setup import StageData, build_model, eval_set, prepare_stage
from biomedner.training.state import (
    TrainState,
    list_checkpoints,
    load_checkpoint,
    seed_everything,
    set_rng_state,
)
from biomedner.training.step import StepRunner, TrainingOOMError

logger = get_logger(__name__)

__all__ = ["TrainResult", "Trainer", "TrainingOOMError", "train"]


@dataclass
class TrainResult:
    output_dir: Path
    global_step: int
    stage_dirs: list[Path]
    model_dir: Path | None
    report: dict[str, Any] = field(default_factory=dict)
    finished: bool = True


class Trainer:
    def __init__(self, config: TrainConfig, *, device: str | torch.device | None = None):
        self.config = config
        self.dist = dist_utils.init_distributed()
        if device is None:
            device = f"cuda:{self.dist.local_rank}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.out = Path(config.output_dir)
        self.state = TrainState()
        self.stage_info: list[dict[str, Any]] = []
        self.log = RunLog(None)

    def train(
        self, *, resume: str | Path | bool | None = None, stop_after_steps: int | None = None
    ) -> TrainResult:
        config = self.config
        if config.num_threads is not None:
            torch.set_num_threads(config.num_threads)
        seed_everything(config.seed)
        self.model = build_model(config, self.device)
        checkpoint = self._find_resume(resume)
        self._open_output()
        if checkpoint is not None:
            self.model.module.load_state_dict(checkpoint["model"])
            self.state = TrainState.from_checkpoint(checkpoint)
            logger.info(
                "resuming at global step %d (stage %d, step %d)",
                self.state.global_step,
                self.state.stage_index,
                self.state.stage_step,
            )
        callbacks = self._callbacks(stop_after_steps)
        stage_dirs: list[Path] = []
        t_run = time.perf_counter()
        try:
            for si, stage in enumerate(config.stages):
                stage_dir = self.out / "stages" / f"{si + 1}_{stage.name}"
                if config.only_stages is not None and stage.name not in config.only_stages:
                    continue
                if si < self.state.stage_index:
                    stage_dirs.append(stage_dir)
                    continue
                resuming_here = checkpoint is not None and si == self.state.stage_index
                if not self._run_stage(si, stage, checkpoint if resuming_here else None, callbacks):
                    return self._result(stage_dirs, t_run, finished=False)
                if self.dist.is_main:
                    self.model.save_pretrained(stage_dir)
                    logger.info("stage %s done: model saved to %s", stage.name, stage_dir)
                stage_dirs.append(stage_dir)
                dist_utils.barrier(self.dist)
            model_dir = self.out / "model"
            if self.dist.is_main:
                self.model.save_pretrained(model_dir)
            return self._result(stage_dirs, t_run, finished=True, model_dir=model_dir)
        finally:
            if self.log.file is not None:
                self.log.file.close()
                self.log = RunLog(None)
            self.model.module.eval()

    # -------------------------------------------------------------- setup
    def _find_resume(self, resume: str | Path | bool | None) -> dict[str, Any] | None:
        if resume in (None, False):
            return None
        if resume is True or resume == "auto":
            found = list_checkpoints(self.out / "checkpoints")
            if not found:
                logger.info("no checkpoint under %s; starting from scratch", self.out)
                return None
            checkpoint = load_checkpoint(found[-1])
        else:
            checkpoint = load_checkpoint(Path(resume))  # type: ignore[arg-type]
        if checkpoint.get("world_size", 1) != self.dist.world_size:
            raise CheckpointError(
                f"the checkpoint was written by {checkpoint['world_size']} processes, this run "
                f"has {self.dist.world_size}; resume with the same number for an exact continuation"
            )
        return checkpoint

    def _open_output(self) -> None:
        if not self.dist.is_main:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.json").write_text(
            json.dumps(self.config.model_dump(mode="json"), indent=2), encoding="utf-8"
        )
        self.log = RunLog((self.out / "train_log.jsonl").open("a", encoding="utf-8"))

    def _callbacks(self, stop_after_steps: int | None) -> list[Callback]:
        callbacks: list[Callback] = [LogProgress()]
        evaluation = eval_set(self.config)
        if evaluation is not None:
            callbacks.append(EvaluateKeepBest(evaluation))
        callbacks.append(Checkpoint())
        if stop_after_steps is not None:
            callbacks.append(StopAfter(stop_after_steps))
        return callbacks

    # -------------------------------------------------------------- one stage
    def _run_stage(
        self,
        si: int,
        stage: StageConfig,
        checkpoint: dict[str, Any] | None,
        callbacks: list[Callback],
    ) -> bool:
        """Runs stage ``si`` from its saved position; False when a callback stopped the run."""
        optim = self.config.stage_optim(stage)
        data = self._stage_data(si, stage, optim)
        runner = self._step_runner(optim, stage.steps)
        start_step = self.state.stage_step if checkpoint is not None else 0
        if checkpoint is not None:
            _restore(runner, data, checkpoint, resumed_mid_stage=start_step < stage.steps)
        if start_step >= stage.steps:
            return True
        ctx = BatchContext(
            pipeline=self.model.pipeline,
            max_types=optim.max_types,
            neg_type_ratio=optim.neg_type_ratio,
            shuffle_labels=optim.shuffle_labels,
            label_pool=[],
            negatives_in_batch=stage.negatives_from == "batch",
            negatives_per=optim.negatives_per,
        )
        self.state.stage_index, self.state.stage_step = si, start_step
        run = StageRun(
            self.config, self.out, stage, si, self.state, self.model, data.stream,
            runner.optimizer, runner.scheduler, runner.scaler, self.dist, self.log,
        )  # fmt: skip
        for cb in callbacks:
            cb.on_stage_begin(run)
        self.model.module.train()
        try:
            for step in range(start_step, stage.steps):
                where = f"stage {stage.name!r} step {step}"
                result = runner.train_step(self._micro_batches(si, data, ctx, runner), where)
                if result.skipped:
                    self.state.counts["oom_skipped_steps"] += 1
                    self.state.skipped_ids.extend(result.example_ids)
                    # the micro-batches this rank did not reach still belong to this step
                    while data.stream.micro % runner.micro_per_step:
                        data.stream.next()
                self.state.global_step += 1
                self.state.stage_step = step + 1
                for cb in callbacks:
                    cb.on_step_end(run, result)
                if run.stop:
                    return False
            return True
        finally:
            for cb in callbacks:
                cb.on_stage_end(run)

    def _stage_data(self, si: int, stage: StageConfig, optim: OptimConfig) -> StageData:
        if self.device.type != "cuda" and optim.precision != "fp32":
            logger.warning(
                "precision %s needs a GPU; training in fp32 on %s",
                optim.precision,
                self.device.type,
            )
        data = prepare_stage(
            self.config, si, stage, self.model, optim.batch_size, optim.bucket_batches
        )
        if len(self.stage_info) <= si:
            self.stage_info.append(
                {
                    "name": stage.name,
                    "steps": stage.steps,
                    "sources": data.info,
                    "examples": data.example_counts,
                }
            )
        return data

    def _step_runner(self, optim: OptimConfig, steps: int) -> StepRunner:
        module = self.model.module
        optimizer = build_optimizer(module, optim)
        on_cuda = self.device.type == "cuda"
        return StepRunner(
            module=module,
            optim=optim,
            loss_fn=FocalSpanLoss(
                optim.focal_alpha,
                optim.focal_gamma,
                optim.loss_reduction,
                optim.label_smoothing,
                optim.prob_floor,
            ),
            optimizer=optimizer,
            scheduler=build_scheduler(optimizer, steps, optim),
            scaler=torch.amp.GradScaler("cuda") if optim.precision == "fp16" and on_cuda else None,
            precision=optim.precision,
            device=self.device,
            dist=self.dist,
            micro_per_step=optim.grad_accum_steps * self.dist.world_size,
        )

    def _micro_batches(
        self, si: int, data: StageData, ctx: BatchContext, runner: StepRunner
    ) -> Iterator[TrainBatch]:
        """This rank's micro-batches of one step, built as they are drawn; each one's label
        sampling is seeded by (seed, stage, micro-batch index), so a resumed run draws alike."""
        for j in range(runner.micro_per_step):
            source, examples = data.stream.next()
            if j % self.dist.world_size != self.dist.rank:
                continue
            rng = _rng(self.config.seed, 15485863, si, data.stream.micro - 1)
            ctx.label_pool = data.pools[source]
            yield build_batch(examples, rng, ctx, self.state.counts)

    # -------------------------------------------------------------- report
    def _result(
        self, stage_dirs: list[Path], t_run: float, *, finished: bool, model_dir: Path | None = None
    ) -> TrainResult:
        counts = self.state.counts
        report = {
            "finished": finished,
            "global_step": self.state.global_step,
            "seconds_this_run": round(time.perf_counter() - t_run, 1),
            "world_size": self.dist.world_size,
            "device": str(self.device),
            "stages": self.stage_info,
            "counts": dict(counts),
            "oom_skipped_steps": int(counts.get("oom_skipped_steps", 0)),
            "oom_skipped_example_ids": self.state.skipped_ids[:1000],
            "evals": self.state.evals,
            "best": self.state.best,
            "stage_dirs": [str(p) for p in stage_dirs],
            "model_dir": str(model_dir) if model_dir else None,
        }
        if self.dist.is_main:
            (self.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
            if counts.get("oom_skipped_steps"):
                logger.warning(
                    "%d steps were skipped for lack of memory (see report.json)",
                    counts["oom_skipped_steps"],
                )
        return TrainResult(
            self.out, self.state.global_step, stage_dirs, model_dir, report, finished
        )


def _restore(
    runner: StepRunner, data: StageData, checkpoint: dict[str, Any], *, resumed_mid_stage: bool
) -> None:
    runner.optimizer.load_state_dict(checkpoint["optimizer"])
    runner.scheduler.load_state_dict(checkpoint["scheduler"])
    if runner.scaler is not None and checkpoint.get("scaler") is not None:
        runner.scaler.load_state_dict(checkpoint["scaler"])
    if resumed_mid_stage:
        data.stream.load_state_dict(checkpoint["stream"])
    set_rng_state(checkpoint["rng"])  # last: building the model and data drew numbers too


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
