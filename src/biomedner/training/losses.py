"""Span losses as modules: the trainer owns the loss, the model only produces logits."""

from __future__ import annotations

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
    """

    def __init__(
        self,
        alpha: float = 0.75,
        gamma: float = 0.0,
        reduction: Literal["sum", "mean"] = "sum",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(
        self, logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        x = logits.float()[valid]
        y = targets.to(x.dtype)[valid]
        if self.label_smoothing > 0:
            y = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
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
        }
