"""bf16 on CPU: honoured where the processor has it, one warning and fp32 elsewhere."""

from __future__ import annotations

import logging

import pytest
import torch

from biomedner.errors import InputError
from biomedner.modeling import precision


def test_fp32_and_gpu_requests_pass_through():
    assert precision.autocast_dtype("fp32", "cpu") is None
    assert precision.autocast_dtype("bf16", "cuda") is torch.bfloat16
    assert precision.autocast_dtype("fp16", "cuda:1") is torch.float16
    with pytest.raises(InputError, match="'fp8'"):
        precision.autocast_dtype("fp8", "cpu")


def test_cpu_bf16_is_honoured_where_native(monkeypatch, caplog):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    with caplog.at_level(logging.WARNING, logger="biomedner"):
        assert precision.autocast_dtype("bf16", "cpu") is torch.bfloat16
    assert not caplog.records


@pytest.mark.parametrize("requested", ["bf16", "fp16"])
def test_cpu_falls_back_to_fp32_with_one_warning(requested, monkeypatch, caplog):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    with caplog.at_level(logging.WARNING, logger="biomedner"):
        assert precision.autocast_dtype(requested, "cpu") is None
    assert len(caplog.records) == 1 and "fp32" in caplog.records[0].getMessage()


def test_native_bf16_probe_answers():
    assert isinstance(precision.cpu_has_native_bf16(), bool)
