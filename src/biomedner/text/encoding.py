"""Word sequences -> EncodedBatch: tokenization with ``is_split_into_words`` and the index maps
from words and labels to token positions. No Python logic runs on the model side after this.

Inference tokenizes each sequence once into an unpadded :class:`EncodedRow` and pads rows with
numpy (:func:`collate_rows`); training tokenizes whole padded batches (:func:`collate`). Both give
the same tensors as the tokenizer's own padded call. Callers go through
:class:`biomedner.text.pipeline.TextPipeline`, which decides what the sequences are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # rows pad with numpy alone; only the torch batch needs torch
    from biomedner.modeling.batch import EncodedBatch


@dataclass(frozen=True)
class TokenizerInfo:
    """What collation needs to know about the text tokenizer."""

    class_token_id: int | None  # <<ENT>> id (uni-encoder); None for the bi-encoder
    label_offset: int  # 0: the label vector is the <<ENT>> output; 1: the token after it
    pad_token_id: int
    pad_left: bool  # the tokenizer's padding side, so pre-tokenized rows pad as it would


def word_token_counts(tokenizer, word_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Sub-tokens per word (no special tokens), for window planning."""
    if not word_lists:
        return []
    enc = tokenizer(
        [list(w) for w in word_lists], is_split_into_words=True, add_special_tokens=False
    )
    out = []
    for i, words in enumerate(word_lists):
        ids = np.array([-1 if w is None else w for w in enc.word_ids(i)], dtype=np.int64)
        out.append(np.bincount(ids[ids >= 0], minlength=len(words)))
    return out


def collate(
    tokenizer,
    sequences: Sequence[Sequence[str]],
    prompt_lengths: Sequence[int],
    num_labels: Sequence[int],
    info: TokenizerInfo,
) -> EncodedBatch:
    """``sequences[b]`` = prompt words (``prompt_lengths[b]`` of them; 0 for the bi-encoder)
    followed by the text words of window b."""
    import torch

    from biomedner.modeling.batch import EncodedBatch

    enc = tokenizer(
        [list(s) for s in sequences],
        is_split_into_words=True,
        padding="longest",
        truncation=False,
        return_tensors="pt",
    )
    batch = len(sequences)
    text_words = [len(s) - p for s, p in zip(sequences, prompt_lengths)]
    max_words = max(text_words)
    word_index = np.zeros((batch, max_words), dtype=np.int64)
    word_mask = np.zeros((batch, max_words), dtype=bool)
    for b in range(batch):
        ids = np.array([-1 if w is None else w for w in enc.word_ids(b)], dtype=np.int64)
        # first sub-token of each word: where the word id changes
        positions = np.flatnonzero((ids >= 0) & (ids != np.concatenate([[-2], ids[:-1]])))
        word_ids = ids[positions] - prompt_lengths[b]
        keep = word_ids >= 0
        word_index[b, word_ids[keep]] = positions[keep]
        word_mask[b, word_ids[keep]] = True
    input_ids = enc["input_ids"]
    attention_mask = enc["attention_mask"]
    max_labels = max(num_labels) if info.class_token_id is not None else 0
    label_index = torch.zeros((batch, max_labels), dtype=torch.long)
    label_mask = torch.zeros((batch, max_labels), dtype=torch.bool)
    if info.class_token_id is not None:
        markers = (input_ids == info.class_token_id) & attention_mask.bool()
        for b in range(batch):
            pos = torch.nonzero(markers[b], as_tuple=True)[0] + info.label_offset
            if pos.numel() != num_labels[b]:
                raise RuntimeError(
                    f"prompt of window {b} has {pos.numel()} label markers for {num_labels[b]} labels"
                )
            label_index[b, : pos.numel()] = pos
            label_mask[b, : pos.numel()] = True
    return EncodedBatch(
        input_ids=input_ids,
        attention_mask=attention_mask,
        word_index=torch.from_numpy(word_index),
        word_mask=torch.from_numpy(word_mask),
        label_index=label_index,
        label_mask=label_mask,
    )


@dataclass(frozen=True)
class EncodedRow:
    """One sequence tokenized with its special tokens, unpadded, with its index maps."""

    input_ids: np.ndarray  # [T] int64
    word_starts: np.ndarray  # [W] first sub-token position of each text word that has one
    label_starts: np.ndarray  # [C] position of each label's vector; empty for the bi-encoder


def tokenize_words(
    tokenizer, sequences: Sequence[Sequence[str]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Token ids and word ids (-1 for special tokens) of each word sequence, special tokens
    added, in one batched call without padding or tensors: transformers turns padded lists into
    tensors element by element, which costs more than half as much as the tokenization."""
    if not sequences:
        return []
    enc = tokenizer(
        [list(s) for s in sequences],
        is_split_into_words=True,
        truncation=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    out = []
    for e in enc.encodings:
        # None (a special token) becomes NaN in a float array: no Python loop over tokens
        word_ids = np.nan_to_num(np.array(e.word_ids, dtype=np.float64), nan=-1).astype(np.int64)
        out.append((np.array(e.ids, dtype=np.int64), word_ids))
    return out


def encode_row(
    input_ids: np.ndarray,
    word_ids: np.ndarray,
    prompt_len: int,
    num_labels: int,
    info: TokenizerInfo,
) -> EncodedRow:
    """The row of a tokenized ``prompt + text words`` sequence (``prompt_len`` prompt words).
    A text word without sub-tokens gets no start: callers drop such words."""
    previous = np.concatenate(([-1], word_ids[:-1]))
    word_starts = np.flatnonzero((word_ids >= prompt_len) & (word_ids != previous))
    if info.class_token_id is None:
        return EncodedRow(input_ids, word_starts, np.zeros(0, dtype=np.int64))
    markers = np.flatnonzero(input_ids == info.class_token_id)
    if len(markers) != num_labels:
        raise RuntimeError(f"prompt has {len(markers)} label markers for {num_labels} labels")
    return EncodedRow(input_ids, word_starts, markers + info.label_offset)


def collate_rows(rows: Sequence[EncodedRow], info: TokenizerInfo) -> EncodedBatch:
    """Pads pre-tokenized rows into the batch the tokenizer's padded call would give."""
    import torch

    from biomedner.modeling.batch import EncodedBatch

    arrays = pad_rows(rows, info)
    return EncodedBatch(**{name: torch.from_numpy(a) for name, a in arrays.items()})


def pad_rows(rows: Sequence[EncodedRow], info: TokenizerInfo) -> dict[str, np.ndarray]:
    """:func:`collate_rows` as numpy arrays, by :class:`EncodedBatch` field name."""
    lengths = np.array([len(r.input_ids) for r in rows])
    width = int(lengths.max())
    shifts = width - lengths if info.pad_left else np.zeros_like(lengths)
    token_mask = _ragged_mask(lengths, width, shifts)
    input_ids = np.full((len(rows), width), info.pad_token_id, dtype=np.int64)
    input_ids[token_mask] = np.concatenate([r.input_ids for r in rows])
    word_index, word_mask = _pad_positions([r.word_starts for r in rows], shifts)
    label_index, label_mask = _pad_positions([r.label_starts for r in rows], shifts)
    return {
        "input_ids": input_ids,
        "attention_mask": token_mask.astype(np.int64),
        "word_index": word_index,
        "word_mask": word_mask,
        "label_index": label_index,
        "label_mask": label_mask,
    }


def _ragged_mask(lengths: np.ndarray, width: int, shifts: np.ndarray) -> np.ndarray:
    """[B, width] True on columns ``shifts[b] .. shifts[b] + lengths[b]``."""
    columns = np.arange(width)
    return (columns >= shifts[:, None]) & (columns < (shifts + lengths)[:, None])


def _pad_positions(
    positions: Sequence[np.ndarray], shifts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Token positions per row, moved by the row's left padding, right-padded with 0."""
    counts = np.array([len(p) for p in positions])
    mask = _ragged_mask(counts, int(counts.max()), np.zeros_like(counts))
    index = np.zeros(mask.shape, dtype=np.int64)
    index[mask] = np.concatenate(positions) + np.repeat(shifts, counts)
    return index, mask
