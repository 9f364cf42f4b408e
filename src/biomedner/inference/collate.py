"""Word sequences -> EncodedBatch: tokenization with ``is_split_into_words`` and the index maps
from words and labels to token positions. No Python logic runs on the model side after this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from biomedner.modeling.batch import EncodedBatch


@dataclass(frozen=True)
class TokenizerInfo:
    """What collation needs to know about the text tokenizer."""

    class_token_id: int | None  # <<ENT>> id (uni-encoder); None for the bi-encoder
    label_offset: int  # 0: the label vector is the <<ENT>> output; 1: the token after it


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
