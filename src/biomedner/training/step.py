"""One optimiser step: this rank's micro-batches forward and backward, the out-of-memory policy,
gradient all-reduce and clipping, the optimiser and the schedule.

Losses are scaled by ``1 / (grad_accum_steps x world_size)`` so summed gradients average over the
whole step. Out-of-memory stops the run with a message saying what to change, unless
``optim.skip_oom`` is set: then the whole step is skipped on every rank, and counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import torch

from biomedner.errors import BiomednerError
from biomedner.training import distributed as dist_utils
from biomedner.training.config import OptimConfig
from biomedner.training.losses import FocalSpanLoss
from biomedner.training.sampling import TrainBatch


class TrainingOOMError(BiomednerError):
    """A batch did not fit in memory and ``optim.skip_oom`` is off."""


@dataclass
class StepResult:
    loss: float = 0.0  # this rank's share, summed over its micro-batches
    examples: int = 0
    tokens: int = 0
    skipped: bool = False  # out of memory on some rank: no update was made
    grad_norm: float | None = None  # the step's gradient norm before clipping; None if skipped
    example_ids: list[str] = field(default_factory=list)


@dataclass
class StepRunner:
    module: torch.nn.Module
    optim: OptimConfig
    loss_fn: FocalSpanLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None
    precision: str
    device: torch.device
    dist: dist_utils.DistInfo
    micro_per_step: int

    def train_step(self, batches: Iterator[TrainBatch], where: str) -> StepResult:
        """``batches``: this rank's micro-batches of the step, built as they are drawn (an
        out-of-memory batch ends the draw). ``where`` names the step in error messages."""
        self.optimizer.zero_grad(set_to_none=True)
        result = StepResult()
        oom = False
        for batch in batches:
            result.example_ids.extend(batch.example_ids)
            try:
                loss = self._backward(batch)
            except torch.OutOfMemoryError as exc:
                if not self.optim.skip_oom:
                    raise TrainingOOMError(_oom_message(batch, where)) from exc
                oom = True
                del exc
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                break
            if not math.isfinite(loss):
                raise BiomednerError(
                    f"loss is {loss} at {where}; lower the learning rates or use precision = "
                    "'bf16' instead of 'fp16'"
                )
            result.loss += loss
            result.examples += len(batch.example_ids)
            result.tokens += batch.num_tokens
        if dist_utils.any_rank(oom, self.dist, self.device):
            # every rank skips the step so gradients and schedules stay in step
            self.optimizer.zero_grad(set_to_none=True)
            result.skipped = True
        else:
            result.grad_norm = self._update(where)
        self.scheduler.step()
        return result

    def _backward(self, batch: TrainBatch) -> float:
        with autocast_for(self.precision, self.device):
            logits = self.module(batch.encoded.to(self.device))
        loss = self.loss_fn(logits, batch.targets.to(self.device), batch.valid.to(self.device))
        loss = loss / self.micro_per_step
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        return float(loss.detach())

    def _update(self, where: str) -> float:
        """Clips and applies the step's gradients; returns their norm before clipping."""
        dist_utils.all_reduce_gradients(self.module, self.dist)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        params = [p for p in self.module.parameters() if p.grad is not None]
        norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        # fp16's scaler skips such steps by design; otherwise one step would poison every weight
        if self.scaler is None and not bool(torch.isfinite(norm)):
            raise NonFiniteGradientError(
                f"non-finite gradients at {where} (the loss was finite) in "
                f"{', '.join(non_finite_groups(self.module))}; with precision = 'bf16' or "
                "'fp16' try 'fp32' to confirm, else lower the learning rates"
            )
        if self.optim.max_grad_norm is not None:
            # it takes the parameters: given the gradients themselves it finds no .grad on
            # them and clips nothing, silently (biomedner trained unclipped that way once)
            torch.nn.utils.clip_grads_with_norm_(params, self.optim.max_grad_norm, norm)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        return float(norm)


class NonFiniteGradientError(BiomednerError):
    """A step's gradients hold NaN or infinity although its loss was finite."""


def non_finite_groups(module: torch.nn.Module, depth: int = 2) -> list[str]:
    """Parameter groups (names cut to ``depth`` parts) whose gradients are not all finite."""
    groups: dict[str, None] = {}
    for name, param in module.named_parameters():
        if param.grad is not None and not bool(torch.isfinite(param.grad).all()):
            groups[".".join(name.split(".")[:depth])] = None
    return list(groups) or ["(none found after all-reduce)"]


def _oom_message(batch: TrainBatch, where: str) -> str:
    return (
        f"out of memory at {where} on a batch of {len(batch.example_ids)} examples, "
        f"{batch.num_tokens} tokens, {len(batch.labels[0])}+ labels: lower optim.batch_size "
        "(raise optim.grad_accum_steps to keep the effective batch), model.max_len or "
        "optim.max_types, or set optim.skip_oom = true to skip such batches (counted and reported)"
    )


def autocast_for(precision: str, device: torch.device) -> AbstractContextManager:
    """Mixed precision on CUDA only; fp32 elsewhere (the trainer warns once per stage)."""
    if precision == "fp32" or device.type != "cuda":
        return torch.autocast(device_type=device.type, enabled=False)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)
