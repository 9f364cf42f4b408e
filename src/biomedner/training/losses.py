"""Span losses as modules: the trainer owns the loss, the model only produces logits."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn


class FocalSpanLoss(nn.Module):
    """Focal binary cross-entropy over every valid (span, label) cell.

    ``logits``, ``targets``: [B, W, K, C]; ``valid``: [B, W, K, C] bool (spans inside the text,
    real labels). Per cell: ``BCE(x, y) * (1 - p_t) ** gamma * alpha_t`` with
    ``p_t = p if y else 1 - p`` and ``alpha_t = alpha if y else 1 - alpha``; ``alpha < 0``
    disables the alpha weighting and ``gamma = 0`` turns the focal term off (plain BCE).
    ``label_smoothing`` moves targets towards 0.5. Invalid cells contribute nothing.

    ``prob_floor`` > 0 clamps the probabilities inside the logarithms to ``[floor, 1 - floor]``,
    as gliner's loss does with 1e-6: each log term is capped at ``-log(floor)``, and a cell
    scored beyond it on the wrong side (a positive at p < floor, a negative at p > 1 - floor)
    adds a constant and no gradient. It bounds what one label the model is sure is wrong (a
    teacher's missed or mislabelled mention) can pull; 0 is the exact cross-entropy.
    """

    def __init__(
        self,
        alpha: float = 0.75,
        gamma: float = 0.0,
        reduction: Literal["sum", "mean"] = "sum",
        label_smoothing: float = 0.0,
        prob_floor: float = 0.0,
    ) -> None:
        super().__init__()
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction
        self.label_smoothing = label_smoothing
        self.prob_floor = prob_floor

    def forward(
        self, logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        x = logits.float()[valid]
        y = targets.to(x.dtype)[valid]
        if self.label_smoothing > 0:
            y = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.prob_floor > 0:
            cap = -math.log(self.prob_floor)
            # softplus(-x) = -log p, softplus(x) = -log(1 - p); clamping the value stops the
            # gradient past the cap, exactly as clamping p inside the log does
            loss = y * F.softplus(-x).clamp(max=cap) + (1 - y) * F.softplus(x).clamp(max=cap)
        else:
            loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        if self.gamma > 0:
            p = torch.sigmoid(x)
            p_t = p * y + (1 - p) * (1 - y)
            loss = loss * (1 - p_t) ** self.gamma
        if self.alpha >= 0:
            loss = loss * (self.alpha * y + (1 - self.alpha) * (1 - y))
        if self.reduction == "sum":
            return loss.sum()
        return loss.mean() if loss.numel() else loss.sum()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "gamma": self.gamma,
            "reduction": self.reduction,
            "label_smoothing": self.label_smoothing,
            "prob_floor": self.prob_floor,
        }
