"""The pieces of a run around the step loop, each on its own: the log and progress bar,
evaluation with best-model keeping, checkpoints, and stopping early. In the spirit of
transformers' ``TrainerCallback``: the loop calls every callback after each step, in order."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch

from biomedner.logging import get_logger, progress_enabled
from biomedner.training import distributed as dist_utils
from biomedner.training.batching import StageStream
from biomedner.training.config import StageConfig, TrainConfig
from biomedner.training.evaluate import EvalSet, evaluate_set
from biomedner.training.state import CHECKPOINT_FORMAT, TrainState, rng_state, save_checkpoint
from biomedner.training.step import StepResult

logger = get_logger(__name__)


@dataclass
class StageRun:
    """What callbacks may read about the stage being run."""

    config: TrainConfig
    out: Path  # the run's output directory
    stage: StageConfig
    index: int
    state: TrainState
    model: Any  # NERModel
    stream: StageStream
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None
    dist: dist_utils.DistInfo
    log: RunLog
    stop: bool = False  # set by a callback to end the run after this step (resumable)
    saved_this_step: bool = False

    @property
    def step(self) -> int:
        return self.state.stage_step

    @property
    def stage_done(self) -> bool:
        return self.state.stage_step == self.stage.steps


class Callback:
    def on_stage_begin(self, run: StageRun) -> None:
        pass

    def on_step_end(self, run: StageRun, result: StepResult) -> None:
        pass

    def on_stage_end(self, run: StageRun) -> None:
        pass


class RunLog:
    """``train_log.jsonl`` on the main process."""

    def __init__(self, file: IO[str] | None) -> None:
        self.file = file

    def write(self, entry: dict[str, Any]) -> None:
        if self.file is not None:
            self.file.write(json.dumps(entry) + "\n")
            self.file.flush()


@dataclass
class LogProgress(Callback):
    """Mean loss, examples/s and tokens/s every ``log_every`` steps; a progress bar."""

    loss: float = 0.0
    examples: int = 0
    tokens: int = 0
    grad_norms: list[float] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)
    bar: Any = None

    def on_stage_begin(self, run: StageRun) -> None:
        self.loss, self.examples, self.tokens, self.t0 = 0.0, 0, 0, time.perf_counter()
        self.grad_norms = []
        if run.config.progress_bar and run.dist.is_main and progress_enabled():
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=run.stage.steps,
                initial=run.step,
                desc=f"stage {run.stage.name}",
                unit="step",
                dynamic_ncols=True,
            )

    def on_step_end(self, run: StageRun, result: StepResult) -> None:
        self.loss += result.loss
        self.examples += result.examples
        self.tokens += result.tokens
        if result.grad_norm is not None:
            self.grad_norms.append(result.grad_norm)
        every, done = run.config.log_every, run.step
        if done % every == 0 or run.stage_done:
            elapsed = max(time.perf_counter() - self.t0, 1e-9)
            n = every if done % every == 0 else done % every
            entry = {
                "event": "train",
                "stage": run.stage.name,
                "global_step": run.state.global_step,
                "stage_step": done,
                "loss": self.loss / n,
                "lr_encoder": run.optimizer.param_groups[0]["lr"],
                "lr_head": run.optimizer.param_groups[-1]["lr"],
                "examples_per_s": self.examples / elapsed,
                "tokens_per_s": self.tokens / elapsed,
                # before clipping (optim.max_grad_norm), the mean over the logged steps
                "grad_norm": sum(self.grad_norms) / len(self.grad_norms)
                if self.grad_norms
                else None,
            }
            if run.dist.is_main:
                run.log.write(entry)
            if self.bar is not None:
                self.bar.set_postfix(
                    loss=f"{entry['loss']:.3f}",
                    ex_s=f"{entry['examples_per_s']:.1f}",
                    tok_s=f"{entry['tokens_per_s']:.0f}",
                )
            self.loss, self.examples, self.tokens, self.t0 = 0.0, 0, 0, time.perf_counter()
            self.grad_norms = []
        if self.bar is not None:
            self.bar.update(1)

    def on_stage_end(self, run: StageRun) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@dataclass
class EvaluateKeepBest(Callback):
    """Scores the eval set every ``eval.interval_steps`` and at the end of each stage; the best
    model of each stage (by ``eval.metric``) is saved to ``stages/<n>_<name>_best``."""

    eval_set: EvalSet

    def on_step_end(self, run: StageRun, result: StepResult) -> None:
        ev = run.config.eval
        assert ev is not None
        if run.step % ev.interval_steps and not run.stage_done:
            return
        if run.dist.is_main:
            entry = self._evaluate(run)
            self._keep_best(run, entry)
        dist_utils.barrier(run.dist)
        run.model.module.train()

    def _evaluate(self, run: StageRun) -> dict[str, Any]:
        ev = run.config.eval
        assert ev is not None
        t0 = time.perf_counter()
        scores = evaluate_set(
            run.model, self.eval_set, threshold=ev.threshold, batch_size=ev.batch_size
        )
        entry = {
            "event": "eval",
            "stage": run.stage.name,
            "global_step": run.state.global_step,
            "set": self.eval_set.name,
            "seconds": round(time.perf_counter() - t0, 2),
            **scores,
        }
        run.state.evals.append(entry)
        run.log.write(entry)
        logger.info(
            "eval at step %d on %s: strict F1 %.4f relaxed F1 %.4f",
            run.state.global_step,
            self.eval_set.name,
            scores["strict_f1"],
            scores["relaxed_f1"],
        )
        return entry

    def _keep_best(self, run: StageRun, entry: dict[str, Any]) -> None:
        metric = run.config.eval.metric  # type: ignore[union-attr]
        key = f"{run.index + 1}_{run.stage.name}"
        best = run.state.best.get(key)
        if best is None or entry[metric] > best["value"]:
            best_dir = run.out / "stages" / f"{key}_best"
            run.model.save_pretrained(best_dir)
            run.state.best[key] = {
                "metric": metric,
                "value": entry[metric],
                "global_step": entry["global_step"],
                "dir": str(best_dir),
            }


class Checkpoint(Callback):
    """A resumable checkpoint every ``checkpoint.every_steps``, at the end of each stage, and
    when the run stops early."""

    def on_step_end(self, run: StageRun, result: StepResult) -> None:
        run.saved_this_step = False
        if run.step % run.config.checkpoint.every_steps == 0 or run.stage_done:
            save(run)

    @staticmethod
    def save_before_stop(run: StageRun) -> None:
        if not run.saved_this_step:
            save(run)


def save(run: StageRun) -> None:
    if run.dist.is_main:
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "global_step": run.state.global_step,
            "train_state": run.state.to_dict(),
            "model": {k: v.detach().cpu() for k, v in run.model.module.state_dict().items()},
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict(),
            "scaler": run.scaler.state_dict() if run.scaler is not None else None,
            "stream": run.stream.state_dict(),
            "rng": rng_state(),
            "world_size": run.dist.world_size,
        }
        ckpt_dir = run.out / "checkpoints"
        path = save_checkpoint(ckpt_dir, checkpoint, run.config.checkpoint.keep_last)
        run.model.save_pretrained(path / "model")
        logger.info("checkpoint: %s", path)
    run.saved_this_step = True
    dist_utils.barrier(run.dist)


@dataclass
class StopAfter(Callback):
    """Ends the run after ``steps`` global steps, mid-stage, with a checkpoint (used to test
    and to script exact resumption)."""

    steps: int

    def on_step_end(self, run: StageRun, result: StepResult) -> None:
        if run.state.global_step >= self.steps and not run.stage_done:
            Checkpoint.save_before_stop(run)
            run.stop = True
