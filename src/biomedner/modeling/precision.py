"""Which autocast dtype a requested precision gets on a device.

On CPU bf16 pays only where the processor multiplies bf16 natively (AVX512-BF16 or AMX);
elsewhere oneDNN emulates it, slower than float32, so such a request falls back to float32
with one warning instead of silently running slower."""

from __future__ import annotations

import torch

from biomedner.errors import InputError
from biomedner.logging import get_logger

logger = get_logger(__name__)

PRECISIONS = ("fp32", "bf16", "fp16")


def cpu_has_native_bf16() -> bool:
    return bool(torch.backends.mkldnn.is_available()) and bool(
        torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


def autocast_dtype(precision: str, device: torch.device | str) -> torch.dtype | None:
    """``precision`` (fp32, bf16, fp16) on ``device`` -> the autocast dtype, None for fp32."""
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return None
    if torch.device(device).type == "cpu":
        if precision == "fp16":
            logger.warning("fp16 is not supported on CPU; running in fp32 (bf16 may be)")
            return None
        if not cpu_has_native_bf16():
            logger.warning(
                "this CPU has no native bf16 (AVX512-BF16 or AMX); running in fp32, "
                "which is faster here"
            )
            return None
    return torch.bfloat16 if precision == "bf16" else torch.float16
