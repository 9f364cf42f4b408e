"""Character <-> word alignment: the only place where word indices meet character offsets.

Public spans are character offsets into the caller's text, end exclusive; word spans are
``(first word, stop word)``, stop exclusive. Which words exist is decided once per text by
:func:`drop_words_without_tokens`, for training and inference alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from biomedner.text.words import Words

# how a character span that does not start and end on word boundaries is treated:
# "skip" and "error" refuse it (the caller counts or raises), "expand" widens it to whole words
AlignPolicy = Literal["skip", "expand", "error"]


def drop_words_without_tokens(words: Words, counts: np.ndarray) -> tuple[Words, np.ndarray]:
    """Words the tokenizer turns into no sub-token (e.g. a lone zero-width character) have no
    vector to pool, so they can neither start nor end a span; they stay inside spans, because
    offsets come from the remaining words' boundaries."""
    if not len(counts) or not (counts == 0).any():
        return words, counts
    keep = np.flatnonzero(counts > 0)
    kept = Words(
        [words.tokens[j] for j in keep],
        [words.starts[j] for j in keep],
        [words.ends[j] for j in keep],
    )
    return kept, counts[keep]


def word_span(words: Words, start: int, end: int, policy: AlignPolicy) -> tuple[int, int] | None:
    """Character span -> (first word, stop word), or None when it does not sit on word
    boundaries (and ``policy`` is not "expand") or covers no word at all."""
    starts, ends = words.starts, words.ends
    i = int(np.searchsorted(starts, start))
    j = int(np.searchsorted(ends, end))
    if i < len(starts) and starts[i] == start and j < len(ends) and ends[j] == end:
        return i, j + 1
    if policy != "expand":
        return None
    first = int(np.searchsorted(ends, start, side="right"))  # first word ending after start
    stop = int(np.searchsorted(starts, end, side="left"))  # words starting before end
    return (first, stop) if stop > first else None


def is_exact(words: Words, span: tuple[int, int], start: int, end: int) -> bool:
    return words.starts[span[0]] == start and words.ends[span[1] - 1] == end


def char_span(words: Words, first: int, stop: int) -> tuple[int, int]:
    """Word span -> character span ``[start, end)`` in the text the words came from."""
    return words.starts[first], words.ends[stop - 1]


def char_spans(words: Words, firsts: Sequence[int], stops: Sequence[int]) -> list[tuple[int, int]]:
    return [char_span(words, f, s) for f, s in zip(firsts, stops)]
