"""Texts + labels -> entities: the text pipeline's windows, batched through the model, decoded.

Work units are *windows* (text, label group, word range) from ``text/pipeline.py``. Windows are
sorted by length and batched, so padding stays small; each window's candidates are mapped back to
document word indices and global label indices, merged per text (``inference/merge.py``), and
decoded once per text (``decoding.py``). Offsets in the output always index the caller's
original string (``text/align.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from biomedner.decoding import Candidates, find_candidates, resolve
from biomedner.inference.merge import merge_text
from biomedner.logging import get_logger, progress_enabled
from biomedner.text.align import char_span
from biomedner.text.encoding import EncodedRow
from biomedner.text.pipeline import TextPipeline, Window
from biomedner.text.words import Words
from biomedner.types import DecodeMode, Entity

logger = get_logger(__name__)


def length_batches(windows: Sequence[Window], batch_size: int) -> list[list[int]]:
    """Window indices sorted by length, in batches, so padding stays small."""
    order = sorted(range(len(windows)), key=lambda i: windows[i].num_tokens)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


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
    prepared = pipeline.prepare(texts, label_lists)
    words, windows, rows = prepared.words, prepared.windows, prepared.rows
    parts: list[list[tuple[Candidates, int, int]]] = [[] for _ in texts]
    batches = length_batches(windows, batch_size)
    vectors = _BatchLabelVectors(label_vectors, device) if label_vectors is not None else None
    bar = None
    if (progress_enabled() if progress is None else progress) and len(batches) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(windows), desc="windows", unit="win", leave=False)
    # one autocast context for all batches: it caches the weights' low-precision copies until
    # it exits, so they are cast once per call instead of once per batch
    autocast = (
        torch.autocast(device_type=device.type, dtype=autocast_dtype)
        if autocast_dtype is not None
        else torch.autocast(device_type=device.type, enabled=False)
    )
    with autocast:
        for batch_ids in batches:
            chunk = [windows[i] for i in batch_ids]
            found = _batch_candidates(
                module,
                pipeline,
                chunk,
                [rows[i] for i in batch_ids],
                words,
                threshold,
                mode,
                device,
                vectors,
            )
            for w, cands in zip(chunk, found):
                shifted = Candidates(
                    cands.starts + w.lo,
                    cands.stops + w.lo,
                    cands.labels + w.group.offset,
                    cands.scores,
                )
                parts[w.text].append((shifted, w.lo, w.hi))
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    results: list[list[Entity]] = []
    for t, text in enumerate(texts):
        if not parts[t]:
            results.append([])
            continue
        merged = merge_text(parts[t], len(words[t]))
        chosen = resolve(merged, mode)
        results.append(_to_entities(text, words[t], label_lists[t], chosen))
    return results


def _batch_candidates(
    module: torch.nn.Module,
    pipeline: TextPipeline,
    chunk: Sequence[Window],
    rows: Sequence[EncodedRow],
    words: Sequence[Words],
    threshold: float,
    mode: DecodeMode,
    device: torch.device,
    vectors: _BatchLabelVectors | None,
) -> list[Candidates]:
    """One batch through the model; its candidates in window word and group label indices."""
    encoded = pipeline.collate_rows(rows).to(device)
    if vectors is not None:
        encoded.label_vectors = vectors.for_windows(chunk)
    logits = module(encoded)
    probs = logits.float().sigmoid_()  # in place: the logits are this call's own tensor
    # one label per span suffices unless windows overlap: their merge keeps, per label, the
    # score from the window where the span sits farthest from an edge
    whole_texts = all(w.lo == 0 and w.hi == len(words[w.text]) for w in chunk)
    return find_candidates(
        probs,
        [len(r.word_starts) for r in rows],  # known here: no wait for the device
        threshold,
        [len(w.group.labels) for w in chunk],
        best_label_only=whole_texts and mode != "multi_label",
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


def _to_entities(
    text: str, words: Words, labels: Sequence[str], chosen: Candidates
) -> list[Entity]:
    out = []
    for s, e, c, p in zip(
        chosen.starts.tolist(),
        chosen.stops.tolist(),
        chosen.labels.tolist(),
        chosen.scores.tolist(),
    ):
        start, end = char_span(words, s, e)
        out.append(Entity(start=start, end=end, text=text[start:end], label=labels[c], score=p))
    return out
