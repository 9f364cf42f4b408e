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
from biomedner.text.align import AlignPolicy, is_exact, word_span
from biomedner.text.pipeline import TextPipeline
from biomedner.text.words import Words


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
    prompt_reserve: int = 0  # sub-tokens kept free for the prompt in every window
    unaligned: AlignPolicy = "skip"
    # only the record's own labels are known (per-type query data): a window's negatives are the
    # record's labels it does not contain, and a window left with no label at all is skipped
    known_labels_only: bool = False


def build_examples(
    records: Sequence[TrainingRecord],
    pipeline: TextPipeline,
    settings: ExampleSettings,
    counts: Counter[str],
    *,
    chunk: int = 512,
) -> list[Example]:
    out: list[Example] = []
    for lo in range(0, len(records), chunk):
        part = records[lo : lo + chunk]
        words, token_counts, dropped = pipeline.words([r.text for r in part])
        for record, w, c, d in zip(part, words, token_counts, dropped):
            if d:
                counts["words_without_subtokens_dropped"] += d
            out.extend(_record_examples(record, w, c, pipeline, settings, counts))
    return out


def _record_spans(
    record: TrainingRecord, words: Words, max_width: int, policy: AlignPolicy, counts: Counter[str]
) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    seen: set[tuple[int, int, str]] = set()
    for ent in record.entities:
        counts["entities_in"] += 1
        ws = word_span(words, ent.start, ent.end, policy)
        if ws is None:
            if policy == "error":
                raise FormatError(
                    f"record {record.id!r}: entity {record.text[ent.start : ent.end]!r} "
                    f"[{ent.start}, {ent.end}) does not start and end on word boundaries; use "
                    "model.words_splitter = 'biomedical' or data.unaligned = 'skip' | 'expand'"
                )
            counts["entities_unaligned_skipped"] += 1
            continue
        if not is_exact(words, ws, ent.start, ent.end):
            counts["entities_unaligned_expanded"] += 1
        if ws[1] - ws[0] > max_width:
            counts["entities_wider_than_max_width_skipped"] += 1
            continue
        key = (ws[0], ws[1], ent.label)
        if key in seen:
            counts["entities_same_word_span_merged"] += 1
            continue
        seen.add(key)
        spans.append(key)
    spans.sort()
    return spans


def _record_examples(
    record: TrainingRecord,
    words: Words,
    c: np.ndarray,
    pipeline: TextPipeline,
    settings: ExampleSettings,
    counts: Counter[str],
) -> list[Example]:
    counts["records_in"] += 1
    if not len(words):
        counts["records_without_words_skipped"] += 1
        counts["entities_in_skipped_records"] += len(record.entities)
        return []
    spans = _record_spans(record, words, pipeline.max_width, settings.unaligned, counts)
    try:
        ranges = pipeline.windows(c, settings.prompt_reserve)
    except Exception as exc:
        raise FormatError(f"record {record.id!r}: cannot window the text: {exc}") from exc
    if len(ranges) > 1:
        counts["records_windowed"] += 1
    cumulative = np.concatenate([[0], np.cumsum(c)])
    covered: set[tuple[int, int, str]] = set()
    examples = []
    record_labels = list(dict.fromkeys(lab for _, _, lab in spans))
    for k, (lo, hi) in enumerate(ranges):
        inside = tuple((s - lo, e - lo, lab) for s, e, lab in spans if s >= lo and e <= hi)
        covered.update((s + lo, e + lo, lab) for s, e, lab in inside)
        negatives = tuple(record.negatives)
        if settings.known_labels_only:
            present = {lab for _, _, lab in inside}
            negatives += tuple(lab for lab in record_labels if lab not in present)
            if not inside and not negatives:
                counts["examples_without_known_labels_skipped"] += 1
                continue
        examples.append(
            Example(
                id=record.id if len(ranges) == 1 else f"{record.id}@{k}",
                words=tuple(words.tokens[lo:hi]),
                spans=inside,
                negatives=negatives,
                num_tokens=int(cumulative[hi] - cumulative[lo]),
            )
        )
    lost = len(spans) - len(covered)
    if lost:  # cannot happen while the overlap exceeds max_width; counted all the same
        counts["entities_lost_in_windowing"] += lost
    counts["entities_used"] += len(covered)
    counts["examples"] += len(examples)
    return examples
