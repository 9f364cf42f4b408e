"""AdamW with two learning rates (pretrained encoders vs the freshly initialised head) and a
warm-up + linear / cosine / constant learning-rate schedule.

Biases and layer-norm parameters are not decayed (as in BERT's recipe and gliner's trainer):
decay pulls a norm's gain towards 0 rather than towards the identity, which is 1.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from biomedner.training.config import OptimConfig

ENCODER_PREFIXES = ("encoder.", "label_encoder.")


def exempt_from_decay(module: nn.Module) -> set[str]:
    """Names of the parameters weight decay leaves alone: biases and layer norms."""
    exempt = set()
    for prefix, sub in module.named_modules():
        is_norm = isinstance(sub, nn.LayerNorm)
        for name, _ in sub.named_parameters(recurse=False):
            if is_norm or "bias" in name:
                exempt.add(f"{prefix}.{name}" if prefix else name)
    return exempt


def parameter_groups(module: nn.Module, optim: OptimConfig) -> list[dict]:
    """Encoder groups first, head groups last (the training log reads the first and last)."""
    exempt = exempt_from_decay(module)
    parts: dict[tuple[bool, bool], list[nn.Parameter]] = {
        (True, True): [], (True, False): [], (False, True): [], (False, False): []
    }  # fmt: skip
    for name, param in module.named_parameters():
        if param.requires_grad:
            parts[(name.startswith(ENCODER_PREFIXES), name not in exempt)].append(param)
    groups = []
    for is_encoder in (True, False):
        lr = optim.encoder_lr if is_encoder else optim.head_lr
        decay = optim.encoder_weight_decay if is_encoder else optim.head_weight_decay
        for decayed in (True, False):
            if parts[(is_encoder, decayed)]:
                groups.append(
                    {
                        "params": parts[(is_encoder, decayed)],
                        "lr": lr,
                        "weight_decay": decay if decayed else 0.0,
                    }
                )
    return groups


def build_optimizer(module: nn.Module, optim: OptimConfig) -> torch.optim.AdamW:
    # the fused kernel is element-wise (so deterministic) and on CPU about five times faster
    # than the per-tensor loop, which dominates small-batch steps on a 22M-parameter encoder
    groups = parameter_groups(module, optim)
    try:
        return torch.optim.AdamW(groups, fused=True)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover - device without fused Adam
        return torch.optim.AdamW(groups, foreach=False)


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` (0-based). The warm-up
    starts at 0, as transformers' schedules do, so equal settings give gliner's Trainer's
    learning rate at every step (``tests/parity/test_training_parity.py``)."""
    if warmup > 0 and step < warmup:
        return step / warmup
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, optim: OptimConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = math.ceil(optim.warmup_ratio * total_steps)  # as transformers counts them
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total_steps, warmup, optim.schedule)
    )
