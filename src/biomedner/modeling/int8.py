"""Dynamic int8 linear layers for CPU inference.

Weights are quantized once, per output channel (symmetric, int8); activations are quantized per
row at each call, and the product runs as an int8 × int8 → int32 matrix multiply
(``torch._int_mm``, oneDNN/VNNI on x86). This torch deprecates both eager quantization
(``torch.ao.quantization.quantize_dynamic``) and the quantized tensor types it packs weights
into, so the layer keeps plain int8 and float32 tensors instead.

Only layers the model *calls* are replaced: the span head's last layer is read through its
``weight`` (folded into the label vectors, ``span_head.py``) and stays float32.
"""

from __future__ import annotations

import torch
from torch import nn

# every linear layer whose weight is read directly instead of called
_KEEP_FLOAT = ("span_head.out_project.0", "span_head.out_project.3")


class Int8Linear(nn.Module):
    """``nn.Linear`` with an int8 weight and per-row dynamic int8 activations."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp_min(1e-12) / 127.0  # [out]
        quantized = torch.round(weight / scale[:, None]).clamp_(-127, 127).to(torch.int8)
        # [in, out], the layout the int8 product reads
        self.register_buffer("weight_t", quantized.t().contiguous())
        self.register_buffer("scale", scale)
        bias = linear.bias.detach().float().clone() if linear.bias is not None else None
        self.register_buffer("bias", bias)
        self.in_features = linear.in_features
        self.out_features = linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        rows = x.reshape(-1, self.in_features).float()
        if rows.size(0) == 0:
            return rows.new_zeros(*shape[:-1], self.out_features)
        inverse = 127.0 / rows.abs().amax(dim=1, keepdim=True).clamp_min_(1e-12)  # [N, 1]
        quantized = torch.mul(rows, inverse).round_().to(torch.int8)
        out = torch._int_mm(quantized, self.weight_t).to(torch.float32)
        out.mul_(self.scale).div_(inverse)
        if self.bias is not None:
            out.add_(self.bias)
        return out.view(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def quantize_int8(module: nn.Module) -> int:
    """Replace, in place, every called ``nn.Linear`` of ``module`` by an :class:`Int8Linear`.
    Returns how many were replaced."""
    targets = [
        name
        for name, child in module.named_modules()
        if type(child) is nn.Linear and name not in _KEEP_FLOAT
    ]
    for name in targets:
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, attr, Int8Linear(getattr(parent, attr)))
    return len(targets)


def is_quantized(module: nn.Module) -> bool:
    return any(isinstance(m, Int8Linear) for m in module.modules())
