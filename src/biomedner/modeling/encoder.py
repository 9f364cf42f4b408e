"""Transformer backbones built from an embedded HF config, read at chosen token positions
(first-sub-token word pooling, ``<<ENT>>`` markers)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from biomedner.errors import CheckpointError
from biomedner.modeling import fast_bert, fast_deberta

try:  # transformers >= 5
    from transformers.initialization import no_init_weights
except ImportError:  # pragma: no cover - transformers 4.x
    from transformers.modeling_utils import no_init_weights


def build_backbone(encoder_config: dict[str, Any], *, init_weights: bool = False) -> nn.Module:
    """An HF encoder from its config dict. Weights are left uninitialised unless asked, since
    a checkpoint overwrites them all (strict loading guarantees it)."""
    from transformers import AutoConfig, AutoModel

    cfg = dict(encoder_config)
    model_type = cfg.pop("model_type", None)
    if not model_type:
        raise CheckpointError("the embedded encoder config has no model_type")
    for key in ("transformers_version", "_name_or_path"):
        cfg.pop(key, None)
    config = AutoConfig.for_model(model_type, **cfg)
    ctx = contextlib.nullcontext() if init_weights else no_init_weights()
    with ctx:
        return AutoModel.from_config(config)


class TextEncoder(nn.Module):
    """Backbone + optional projection to the span head's width (iff the widths differ)."""

    def __init__(
        self, encoder_config: dict[str, Any], hidden_size: int, *, init_weights: bool = False
    ):
        super().__init__()
        self.backbone = build_backbone(encoder_config, init_weights=init_weights)
        backbone_width = self.backbone.config.hidden_size
        self.projection = (
            nn.Linear(backbone_width, hidden_size) if backbone_width != hidden_size else None
        )
        self._fast_encode = fast_encoder(self.backbone)
        self._fast_path = self._fast_encode is not None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # input_ids, attention_mask: [B, T] -> token states [B, T, D]
        hidden = self.backbone(
            input_ids=input_ids, attention_mask=attention_mask, return_dict=True
        ).last_hidden_state
        if self.projection is not None:
            hidden = self.projection(hidden)
        return hidden

    def at_positions(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        position_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Token states [B, P, D] at ``positions`` [B, P], zero where ``position_mask`` is
        False. On CPU with a BERT-style or DeBERTa-v2/v3 backbone this skips padding and unread
        last-layer work (``fast_bert.py``, ``fast_deberta.py``); otherwise the full forward is
        gathered. Both give the same numbers and gradients. GPUs keep the full forward: they
        are launch-bound on these sizes, and packing would add a device sync."""
        if self._fast_path and input_ids.is_cpu:
            hidden = self._fast_encode(
                self.backbone, input_ids, attention_mask, positions, position_mask
            )
            if self.projection is None:
                return hidden
            return _zero_unread(self.projection(hidden), position_mask)  # its bias fills zeros
        hidden = self.forward(input_ids, attention_mask)
        hidden = hidden.gather(1, positions.unsqueeze(-1).expand(-1, -1, hidden.size(-1)))
        return _zero_unread(hidden, position_mask)


FastEncode = Callable[
    [nn.Module, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor
]


def fast_encoder(backbone: nn.Module) -> FastEncode | None:
    """The CPU shortcut that reproduces ``backbone``'s forward at read positions, if any."""
    if fast_bert.supports_fast_path(backbone):
        return fast_bert.encode_at_positions
    if fast_deberta.supports_fast_deberta(backbone):
        return fast_deberta.encode_at_positions
    return None


def _zero_unread(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return states * mask.unsqueeze(-1).to(states.dtype)
