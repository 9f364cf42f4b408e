"""Texts + labels -> entities: word splitting, windowing, batching, forward, decoding, merge.

Work units are *windows*: (text, label group, word range). Every text yields at least one window
per label group; texts longer than the model's window yield several (see ``text/chunk.py``).
Each text is tokenized once, as its first window would be; a window that is the whole text under
its first label group (the common case) reuses that encoding, and only the other windows are
tokenized again. Windows are sorted by length and batched, so padding stays small, then each
window's candidates are mapped back to document word indices and global label indices, merged
per text, and decoded once per text. Offsets in the output always index the caller's original
string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from biomedner.decoding import Candidates, find_candidates, resolve
from biomedner.errors import InputError
from biomedner.inference.collate import (
    EncodedRow,
    TokenizerInfo,
    collate_rows,
    encode_row,
    tokenize_words,
    word_token_counts,
)
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


@dataclass(frozen=True)
class Prompt:
    """A label group's prompt words (none for the bi-encoder) and their sub-token count."""

    group: LabelGroup
    words: list[str]
    num_tokens: int


@dataclass
class Window:
    text: int
    prompt: Prompt
    lo: int
    hi: int
    num_tokens: int

    @property
    def group(self) -> LabelGroup:
        return self.prompt.group


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


def prepare(
    setup: PredictorSetup, texts: Sequence[str], label_lists: Sequence[Sequence[str]]
) -> tuple[list[Words], list[Window], list[EncodedRow]]:
    """All host-side work before batching: words per text, windows, and each window's row."""
    prompts = prompts_per_text(setup, label_lists)
    words, counts, text_rows = encode_texts(setup, texts, [p[0] for p in prompts])
    windows = plan(setup, words, counts, prompts)
    return words, windows, window_rows(setup, windows, words, text_rows)


def length_batches(windows: Sequence[Window], batch_size: int) -> list[list[int]]:
    """Window indices sorted by length, in batches, so padding stays small."""
    order = sorted(range(len(windows)), key=lambda i: windows[i].num_tokens)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def prompts_per_text(
    setup: PredictorSetup, label_lists: Sequence[Sequence[str]]
) -> list[list[Prompt]]:
    """The prompts of each text's label groups, built once per distinct label list."""
    cache: dict[tuple[str, ...], list[Prompt]] = {}
    out = []
    for labels in label_lists:
        key = tuple(labels)
        if key not in cache:
            cache[key] = [_prompt(setup, group) for group in label_groups(setup, labels)]
        out.append(cache[key])
    return out


def _prompt(setup: PredictorSetup, group: LabelGroup) -> Prompt:
    if setup.is_bi_encoder:
        return Prompt(group, [], 0)
    words = prompt_words(group.labels, setup.ent_token, setup.sep_token)
    return Prompt(group, words, int(word_token_counts(setup.tokenizer, [words])[0].sum()))


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


def encode_texts(
    setup: PredictorSetup, texts: Sequence[str], prompts: Sequence[Prompt]
) -> tuple[list[Words], list[np.ndarray], dict[int, EncodedRow]]:
    """Words of each text, their sub-token counts, and the row of each text with words as
    ``prompts[i]`` (its first label group) + its words, all from one tokenizer call. Words the
    tokenizer turns into nothing (e.g. a lone zero-width character) are dropped: they can
    neither start nor end a span, but stay inside spans."""
    words = [setup.splitter(t) for t in texts]
    filled = [i for i, w in enumerate(words) if len(w)]
    encoded = tokenize_words(setup.tokenizer, [prompts[i].words + words[i].tokens for i in filled])
    counts = [np.zeros(0, dtype=np.int64) for _ in texts]
    rows: dict[int, EncodedRow] = {}
    for i, (input_ids, word_ids) in zip(filled, encoded):
        prompt_len = len(prompts[i].words)
        in_text = word_ids >= prompt_len
        c = np.bincount(word_ids[in_text] - prompt_len, minlength=len(words[i]))
        if (c == 0).any():
            keep = np.flatnonzero(c > 0)
            words[i] = _select_words(words[i], keep)
            c = c[keep]
        counts[i] = c
        rows[i] = encode_row(
            input_ids, word_ids, prompt_len, len(prompts[i].group.labels), setup.info
        )
    return words, counts, rows


def _select_words(words: Words, keep: np.ndarray) -> Words:
    return Words(
        [words.tokens[j] for j in keep],
        [words.starts[j] for j in keep],
        [words.ends[j] for j in keep],
    )


def plan(
    setup: PredictorSetup,
    words: Sequence[Words],
    counts: Sequence[np.ndarray],
    prompts: Sequence[Sequence[Prompt]],
) -> list[Window]:
    windows: list[Window] = []
    overlap = 2 * setup.max_width
    for t, (w, c, groups) in enumerate(zip(words, counts, prompts)):
        if len(w) == 0:
            continue
        for prompt in groups:
            budget = None
            if setup.max_tokens is not None:
                budget = setup.max_tokens - setup.num_special_tokens - prompt.num_tokens
            max_words = min(setup.max_words, len(w))
            ranges = (
                [(0, len(w))]
                if len(w) <= setup.max_words and (budget is None or c.sum() <= budget)
                else plan_windows(c.tolist(), setup.max_words, budget, min(overlap, max_words - 1))
            )
            cumulative = np.concatenate([[0], np.cumsum(c)])
            for lo, hi in ranges:
                tokens = int(cumulative[hi] - cumulative[lo]) + prompt.num_tokens
                windows.append(Window(text=t, prompt=prompt, lo=lo, hi=hi, num_tokens=tokens))
    return windows


def window_rows(
    setup: PredictorSetup,
    windows: Sequence[Window],
    words: Sequence[Words],
    text_rows: dict[int, EncodedRow],
) -> list[EncodedRow]:
    """Each window's row. A window that is a whole text under its first label group reuses the
    text's row: with ``is_split_into_words`` a word's sub-tokens do not depend on its
    neighbours, so dropping zero-token words left the others' tokens unchanged. The other
    windows are tokenized here, in one call."""
    reuse = [w.lo == 0 and w.hi == len(words[w.text]) and w.group.offset == 0 for w in windows]
    others = [w for w, r in zip(windows, reuse) if not r]
    encoded = tokenize_words(
        setup.tokenizer, [w.prompt.words + words[w.text].tokens[w.lo : w.hi] for w in others]
    )
    fresh = iter(
        [
            encode_row(ids, word_ids, len(w.prompt.words), len(w.group.labels), setup.info)
            for w, (ids, word_ids) in zip(others, encoded)
        ]
    )
    return [text_rows[w.text] if r else next(fresh) for w, r in zip(windows, reuse)]


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
    words, windows, rows = prepare(setup, texts, label_lists)
    parts: list[list[tuple[Candidates, int, int]]] = [[] for _ in texts]
    batches = length_batches(windows, batch_size)
    vectors = _BatchLabelVectors(label_vectors, device) if label_vectors is not None else None
    progress = None
    if progress_enabled() and len(batches) > 1:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(windows), desc="windows", unit="win", leave=False)
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
                setup, chunk, [rows[i] for i in batch_ids], words, threshold, mode, device, vectors
            )
            for w, cands in zip(chunk, found):
                shifted = Candidates(
                    cands.starts + w.lo,
                    cands.stops + w.lo,
                    cands.labels + w.group.offset,
                    cands.scores,
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


def _batch_candidates(
    setup: PredictorSetup,
    chunk: Sequence[Window],
    rows: Sequence[EncodedRow],
    words: Sequence[Words],
    threshold: float,
    mode: DecodeMode,
    device: torch.device,
    vectors: _BatchLabelVectors | None,
) -> list[Candidates]:
    """One batch through the model; its candidates in window word and group label indices."""
    encoded = collate_rows(rows, setup.info).to(device)
    if setup.is_bi_encoder:
        assert vectors is not None
        logits = setup.module(encoded, vectors.for_windows(chunk))
    else:
        logits = setup.module(encoded)
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
