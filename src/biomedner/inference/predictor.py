"""Texts + labels -> entities on a torch module: the scorer that ``inference/windows.py``
runs each batch of windows through (collation, label vectors, autocast, candidates).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from biomedner.decoding import Candidates, find_candidates
from biomedner.inference.windows import length_batches, predict_with
from biomedner.logging import get_logger
from biomedner.text.encoding import EncodedRow
from biomedner.text.pipeline import TextPipeline, Window
from biomedner.types import DecodeMode, Entity

__all__ = ["length_batches", "predict_windows"]

logger = get_logger(__name__)


@torch.inference_mode()
def predict_windows(
    module: torch.nn.Module,
    pipeline: TextPipeline,
    texts: Sequence[str],
    label_lists: Sequence[Sequence[str]],
    threshold: float,
    mode: DecodeMode,
    batch_size: int,
    device: torch.device,
    label_vectors: dict[str, torch.Tensor] | None = None,
    autocast_dtype: torch.dtype | None = None,
    progress: bool | None = None,
) -> list[list[Entity]]:
    vectors = _BatchLabelVectors(label_vectors, device) if label_vectors is not None else None

    def score(chunk, rows, best_label_only):
        return _batch_candidates(
            module, pipeline, chunk, rows, threshold, device, vectors, best_label_only
        )

    # one autocast context for all batches: it caches the weights' low-precision copies until
    # it exits, so they are cast once per call instead of once per batch
    autocast = (
        torch.autocast(device_type=device.type, dtype=autocast_dtype)
        if autocast_dtype is not None
        else torch.autocast(device_type=device.type, enabled=False)
    )
    with autocast:
        return predict_with(score, pipeline, texts, label_lists, mode, batch_size, progress)


def _batch_candidates(
    module: torch.nn.Module,
    pipeline: TextPipeline,
    chunk: Sequence[Window],
    rows: Sequence[EncodedRow],
    threshold: float,
    device: torch.device,
    vectors: _BatchLabelVectors | None,
    best_label_only: bool,
) -> list[Candidates]:
    """One batch through the model; its candidates in window word and group label indices."""
    encoded = pipeline.collate_rows(rows).to(device)
    if vectors is not None:
        encoded.label_vectors = vectors.for_windows(chunk)
    logits = module(encoded)
    probs = logits.float().sigmoid_()  # in place: the logits are this call's own tensor
    return find_candidates(
        probs,
        [len(r.word_starts) for r in rows],  # known here: no wait for the device
        threshold,
        [len(w.group.labels) for w in chunk],
        best_label_only=best_label_only,
    )


class _BatchLabelVectors:
    """Bi-encoder label vectors of a batch's windows, on the device. Usually every batch has
    the same labels, so each distinct grouping is stacked and moved once."""

    def __init__(self, label_vectors: dict[str, torch.Tensor], device: torch.device):
        self._vectors = label_vectors
        self._device = device
        self._stacked: dict[tuple[tuple[str, ...], ...], torch.Tensor] = {}

    def for_windows(self, chunk: Sequence[Window]) -> torch.Tensor:
        groups = tuple(w.group.labels for w in chunk)
        if groups not in self._stacked:
            self._stacked[groups] = _stack_label_vectors(groups, self._vectors).to(self._device)
        return self._stacked[groups]


def _stack_label_vectors(
    groups: Sequence[Sequence[str]], label_vectors: dict[str, torch.Tensor]
) -> torch.Tensor:
    first = groups[0]
    if all(g == first for g in groups):
        return torch.stack([label_vectors[label] for label in first])  # [C, D]
    width = max(len(g) for g in groups)
    dim = next(iter(label_vectors.values())).shape[-1]
    sample = next(iter(label_vectors.values()))
    out = torch.zeros((len(groups), width, dim), dtype=sample.dtype, device=sample.device)
    for b, g in enumerate(groups):
        if g:
            out[b, : len(g)] = torch.stack([label_vectors[label] for label in g])
    return out  # [B, C, D]
