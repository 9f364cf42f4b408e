"""Texts + labels -> entities: word splitting, windowing, batching, forward, decoding, merge.

Work units are *windows*: (text, label group, word range). Every text yields at least one window
per label group; texts longer than the model's window yield several (see ``text/chunk.py``).
Windows are sorted by length and batched, so padding stays small, then each window's candidates
are mapped back to document word indices and global label indices, merged per text, and decoded
once per text. Offsets in the output always index the caller's original string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from biomedner.decoding import Candidates, find_candidates, resolve
from biomedner.errors import InputError
from biomedner.inference.collate import TokenizerInfo, collate, word_token_counts
from biomedner.logging import get_logger, progress_enabled
from biomedner.text.chunk import merge_window_candidates, plan_windows
from biomedner.text.prompt import prompt_words
from biomedner.text.words import Words, WordSplitter
from biomedner.types import DecodeMode, Entity

logger = get_logger(__name__)


@dataclass(frozen=True)
class LabelGroup:
    """A slice of one text's label list that fits one prompt; ``offset`` maps its local label
    indices back to the full list."""

    labels: tuple[str, ...]
    offset: int


@dataclass
class Window:
    text: int
    group: LabelGroup
    lo: int
    hi: int
    sequence: list[str]
    prompt_len: int
    num_tokens: int


@dataclass
class PredictorSetup:
    module: torch.nn.Module
    tokenizer: object
    splitter: WordSplitter
    info: TokenizerInfo
    max_words: int
    max_tokens: int | None  # encoder limit incl. special tokens, None if unlimited
    max_width: int
    is_bi_encoder: bool
    ent_token: str
    sep_token: str
    num_special_tokens: int


def split_texts(
    setup: PredictorSetup, texts: Sequence[str]
) -> tuple[list[Words], list[np.ndarray]]:
    """Words of each text, without words the tokenizer turns into nothing (e.g. a lone
    zero-width character): they can neither start nor end a span, but stay inside spans."""
    words = [setup.splitter(t) for t in texts]
    counts = word_token_counts(setup.tokenizer, [w.tokens for w in words])
    for i, (w, c) in enumerate(zip(words, counts)):
        if len(c) and (c == 0).any():
            keep = np.flatnonzero(c > 0)
            words[i] = Words(
                [w.tokens[j] for j in keep], [w.starts[j] for j in keep], [w.ends[j] for j in keep]
            )
            counts[i] = c[keep]
    return words, counts


def label_groups(setup: PredictorSetup, labels: Sequence[str]) -> list[LabelGroup]:
    """One group unless the prompt would take more than half of an absolute-position encoder's
    token limit; then consecutive groups that each fit (never a silent truncation)."""
    if setup.is_bi_encoder or setup.max_tokens is None:
        return [LabelGroup(tuple(labels), 0)]
    costs = word_token_counts(setup.tokenizer, [list(labels)])[0] + 1  # +1 for <<ENT>>
    limit = setup.max_tokens // 2
    groups: list[LabelGroup] = []
    start, used = 0, 1  # <<SEP>>
    for i, cost in enumerate(costs.tolist()):
        if cost + 1 > limit:
            raise InputError(
                f"label {labels[i]!r} needs {cost - 1} sub-tokens, too many for the encoder"
            )
        if used + cost > limit and i > start:
            groups.append(LabelGroup(tuple(labels[start:i]), start))
            start, used = i, 1
        used += cost
    groups.append(LabelGroup(tuple(labels[start:]), start))
    if len(groups) > 1:
        logger.info(
            "%d labels do not fit one prompt of the %d-token encoder; running %d label groups",
            len(labels),
            setup.max_tokens,
            len(groups),
        )
    return groups


def plan(
    setup: PredictorSetup,
    words: Sequence[Words],
    counts: Sequence[np.ndarray],
    label_lists: Sequence[Sequence[str]],
) -> list[Window]:
    windows: list[Window] = []
    overlap = 2 * setup.max_width
    group_cache: dict[tuple[str, ...], list[tuple[LabelGroup, list[str], int]]] = {}
    for t, (w, c, labels) in enumerate(zip(words, counts, label_lists)):
        if len(w) == 0:
            continue
        key = tuple(labels)
        if key not in group_cache:
            entries = []
            for group in label_groups(setup, labels):
                prompt = (
                    []
                    if setup.is_bi_encoder
                    else prompt_words(group.labels, setup.ent_token, setup.sep_token)
                )
                prompt_tokens = (
                    int(word_token_counts(setup.tokenizer, [prompt])[0].sum()) if prompt else 0
                )
                entries.append((group, prompt, prompt_tokens))
            group_cache[key] = entries
        for group, prompt, prompt_tokens in group_cache[key]:
            budget = None
            if setup.max_tokens is not None:
                budget = setup.max_tokens - setup.num_special_tokens - prompt_tokens
            max_words = min(setup.max_words, len(w))
            ranges = (
                [(0, len(w))]
                if len(w) <= setup.max_words and (budget is None or c.sum() <= budget)
                else plan_windows(c.tolist(), setup.max_words, budget, min(overlap, max_words - 1))
            )
            cumulative = np.concatenate([[0], np.cumsum(c)])
            for lo, hi in ranges:
                windows.append(
                    Window(
                        text=t,
                        group=group,
                        lo=lo,
                        hi=hi,
                        sequence=prompt + w.tokens[lo:hi],
                        prompt_len=len(prompt),
                        num_tokens=int(cumulative[hi] - cumulative[lo]) + prompt_tokens,
                    )
                )
    return windows


@torch.inference_mode()
def predict_windows(
    setup: PredictorSetup,
    texts: Sequence[str],
    label_lists: Sequence[Sequence[str]],
    threshold: float,
    mode: DecodeMode,
    batch_size: int,
    device: torch.device,
    label_vectors: dict[str, torch.Tensor] | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> list[list[Entity]]:
    words, counts = split_texts(setup, texts)
    windows = plan(setup, words, counts, label_lists)
    parts: list[list[tuple[Candidates, int, int]]] = [[] for _ in texts]
    order = sorted(range(len(windows)), key=lambda i: windows[i].num_tokens)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    progress = None
    if progress_enabled() and len(batches) > 1:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(windows), desc="windows", unit="win", leave=False)
    for batch_ids in batches:
        chunk = [windows[i] for i in batch_ids]
        encoded = collate(
            setup.tokenizer,
            [w.sequence for w in chunk],
            [w.prompt_len for w in chunk],
            [len(w.group.labels) for w in chunk],
            setup.info,
        ).to(device)
        autocast = (
            torch.autocast(device_type=device.type, dtype=autocast_dtype)
            if autocast_dtype is not None
            else torch.autocast(device_type=device.type, enabled=False)
        )
        with autocast:
            if setup.is_bi_encoder:
                assert label_vectors is not None
                vecs = _stack_label_vectors([w.group.labels for w in chunk], label_vectors)
                logits = setup.module(encoded, vecs.to(device))
            else:
                logits = setup.module(encoded)
        probs = torch.sigmoid(logits.float())
        # one label per span suffices unless windows overlap: their merge keeps, per label,
        # the score from the window where the span sits farthest from an edge
        whole_texts = all(w.lo == 0 and w.hi == len(words[w.text]) for w in chunk)
        found = find_candidates(
            probs,
            encoded.num_words,
            threshold,
            [len(w.group.labels) for w in chunk],
            best_label_only=whole_texts and mode != "multi_label",
        )
        for w, cands in zip(chunk, found):
            shifted = Candidates(
                cands.starts + w.lo, cands.stops + w.lo, cands.labels + w.group.offset, cands.scores
            )
            parts[w.text].append((shifted, w.lo, w.hi))
        if progress is not None:
            progress.update(len(chunk))
    if progress is not None:
        progress.close()
    results: list[list[Entity]] = []
    for t, text in enumerate(texts):
        if not parts[t]:
            results.append([])
            continue
        merged = _merge_text(parts[t], len(words[t]))
        chosen = resolve(merged, mode)
        results.append(_to_entities(text, words[t], label_lists[t], chosen))
    return results


def _merge_text(parts: list[tuple[Candidates, int, int]], num_words: int) -> Candidates:
    """One candidate set per text, in (start, stop, label) order: label groups of the same
    window are concatenated, overlapping windows merged (``text/chunk.py``)."""
    by_range: dict[tuple[int, int], list[Candidates]] = {}
    for cands, lo, hi in parts:
        by_range.setdefault((lo, hi), []).append(cands)
    combined = [
        (c[0] if len(c) == 1 else _sorted(Candidates.concat(c)), lo, hi)
        for (lo, hi), c in sorted(by_range.items())
    ]
    if len(combined) == 1:
        return combined[0][0]
    return merge_window_candidates(combined, num_words)


def _sorted(c: Candidates) -> Candidates:
    order = np.lexsort((c.labels, c.stops, c.starts))
    return c.select(order)


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
        start, end = words.starts[s], words.ends[e - 1]
        out.append(Entity(start=start, end=end, text=text[start:end], label=labels[c], score=p))
    return out
