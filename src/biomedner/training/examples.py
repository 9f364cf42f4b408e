"""Training records -> word-level examples the model can learn from.

Words come from the model's own splitter (the one used at inference), so character-offset gold
spans are mapped to word spans here, never stored. Nothing is lost silently: entities that do not
start and end on word boundaries are skipped or expanded (``data.unaligned``) and counted, as are
entities wider than ``max_width``; texts longer than the model's window are cut into overlapping
windows (``text/chunk.py``) so every entity lies whole inside at least one window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biomedner.data.records import TrainingRecord
from biomedner.errors import FormatError
from biomedner.inference.collate import word_token_counts
from biomedner.text.chunk import plan_windows
from biomedner.text.words import WordSplitter


@dataclass(frozen=True)
class Example:
    """One window of one record. ``spans`` are (first word, stop word exclusive, label)."""

    id: str
    words: tuple[str, ...]
    spans: tuple[tuple[int, int, str], ...]
    negatives: tuple[str, ...]
    num_tokens: int  # sub-tokens of the words, without prompt or special tokens

    @property
    def positives(self) -> list[str]:
        return list(dict.fromkeys(s[2] for s in self.spans))


@dataclass(frozen=True)
class ExampleSettings:
    max_width: int
    max_words: int
    token_budget: int | None  # sub-tokens available for a window's words, None if unlimited
    unaligned: str = "skip"


def _word_span(
    starts: Sequence[int], ends: Sequence[int], start: int, end: int, policy: str
) -> tuple[int, int] | None:
    """Character span -> (first word, stop word) or None when it does not sit on boundaries
    (and policy is not "expand"), or covers no word at all."""
    i = int(np.searchsorted(starts, start))
    j = int(np.searchsorted(ends, end))
    if i < len(starts) and starts[i] == start and j < len(ends) and ends[j] == end:
        return i, j + 1
    if policy != "expand":
        return None
    first = int(np.searchsorted(ends, start, side="right"))  # first word ending after start
    stop = int(np.searchsorted(starts, end, side="left"))  # words starting before end
    return (first, stop) if stop > first else None


def build_examples(
    records: Sequence[TrainingRecord],
    splitter: WordSplitter,
    tokenizer,
    settings: ExampleSettings,
    counts: Counter[str],
    *,
    chunk: int = 512,
) -> list[Example]:
    out: list[Example] = []
    for lo in range(0, len(records), chunk):
        part = records[lo : lo + chunk]
        words = [splitter(r.text) for r in part]
        token_counts = word_token_counts(tokenizer, [w.tokens for w in words])
        for record, w, c in zip(part, words, token_counts):
            out.extend(_record_examples(record, w, c, settings, counts))
    return out


def _record_examples(record, w, c: np.ndarray, settings: ExampleSettings, counts: Counter[str]):
    counts["records_in"] += 1
    tokens, starts, ends = list(w.tokens), list(w.starts), list(w.ends)
    if len(c) and (c == 0).any():
        # words the tokenizer turns into nothing cannot be pooled; drop them as inference does
        keep = np.flatnonzero(c > 0)
        counts["words_without_subtokens_dropped"] += int(len(c) - len(keep))
        tokens = [tokens[j] for j in keep]
        starts = [starts[j] for j in keep]
        ends = [ends[j] for j in keep]
        c = c[keep]
    if not tokens:
        counts["records_without_words_skipped"] += 1
        counts["entities_in_skipped_records"] += len(record.entities)
        return []
    spans: list[tuple[int, int, str]] = []
    seen: set[tuple[int, int, str]] = set()
    for ent in record.entities:
        counts["entities_in"] += 1
        ws = _word_span(starts, ends, ent.start, ent.end, settings.unaligned)
        exact = ws is not None and starts[ws[0]] == ent.start and ends[ws[1] - 1] == ent.end
        if ws is None:
            if settings.unaligned == "error":
                raise FormatError(
                    f"record {record.id!r}: entity {record.text[ent.start : ent.end]!r} "
                    f"[{ent.start}, {ent.end}) does not start and end on word boundaries; use "
                    "model.words_splitter = 'biomedical' or data.unaligned = 'skip' | 'expand'"
                )
            counts["entities_unaligned_skipped"] += 1
            continue
        if not exact:
            counts["entities_unaligned_expanded"] += 1
        if ws[1] - ws[0] > settings.max_width:
            counts["entities_wider_than_max_width_skipped"] += 1
            continue
        key = (ws[0], ws[1], ent.label)
        if key in seen:
            counts["entities_same_word_span_merged"] += 1
            continue
        seen.add(key)
        spans.append(key)
    spans.sort()
    n = len(tokens)
    budget = settings.token_budget
    if n <= settings.max_words and (budget is None or int(c.sum()) <= budget):
        ranges = [(0, n)]
    else:
        overlap = min(2 * settings.max_width, settings.max_words - 1)
        try:
            ranges = plan_windows(c.tolist(), settings.max_words, budget, overlap)
        except Exception as exc:
            raise FormatError(f"record {record.id!r}: cannot window the text: {exc}") from exc
        counts["records_windowed"] += 1
    cumulative = np.concatenate([[0], np.cumsum(c)])
    covered: set[tuple[int, int, str]] = set()
    examples = []
    for k, (lo, hi) in enumerate(ranges):
        inside = tuple((s - lo, e - lo, lab) for s, e, lab in spans if s >= lo and e <= hi)
        covered.update((s + lo, e + lo, lab) for s, e, lab in inside)
        examples.append(
            Example(
                id=record.id if len(ranges) == 1 else f"{record.id}@{k}",
                words=tuple(tokens[lo:hi]),
                spans=inside,
                negatives=tuple(record.negatives),
                num_tokens=int(cumulative[hi] - cumulative[lo]),
            )
        )
    lost = len(spans) - len(covered)
    if lost:  # cannot happen while the overlap exceeds max_width; counted all the same
        counts["entities_lost_in_windowing"] += lost
    counts["entities_used"] += len(covered)
    counts["examples"] += len(examples)
    return examples
