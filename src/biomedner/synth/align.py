"""Teacher annotations -> training records.

The teacher writes ``{"id", "entities": [{"text", "type"}]}`` per text: mention *strings*, not
offsets. This module finds every occurrence of each string in its text and turns the result into
:class:`~biomedner.data.records.TrainingRecord` objects, counting everything it cannot use.

Policy (each part is a field of :class:`AlignConfig`):

* **Word boundaries.** An occurrence is accepted only if it does not cut through a run of letters or
  digits: ``"mRNA"`` is not found inside ``"mRNAs"``, but ``"COVID-19"`` is found in
  ``"COVID-19-related"`` (hyphens, slashes and brackets are boundaries, matching the biomedical
  word splitter). Whitespace inside a mention matches any whitespace run in the text.
* **Case** (``case``): ``"fallback"`` (default) takes the occurrences with the mention's exact case;
  only if there are none does it accept case-insensitive occurrences. The teacher is told to copy
  mentions verbatim and lists case variants separately ("Energy restriction" at a sentence start),
  while matching case-insensitively always would tag words like "all" for the acronym "ALL".
  ``"exact"`` never ignores case; ``"ignore"`` always does (the reference GLiNER-biomed behaviour).
* **Type names** are normalised: Unicode NFKC, ``_`` to space, whitespace collapsed, lowercased.
* **Same span, several types** (``same_span_types``): ``"keep_all"`` (default) keeps one entity per
  type (span models train multi-label); ``"first"`` keeps the type listed first. Counted as
  ``ambiguous_spans`` either way.
* **Crossing spans** (``overlap``): nested spans are kept (the guideline asks for them); spans that
  partially overlap are a conflict. ``"prefer_longer"`` (default) keeps the longer span (then the
  earlier one); ``"keep_all"`` keeps both. Counted as ``overlap_conflicts``.
* **Records** are dropped only for a counted reason: no text for the id, a repeated id, an empty
  annotation (unless ``keep_empty``), nothing aligned, or more than ``max_not_found_fraction`` of the
  mentions not found.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from biomedner.data.records import SpanLabel, TrainingRecord, write_records
from biomedner.errors import FormatError
from biomedner.io.jsonl import (
    file_sha256,
    iter_jsonl,
    load_texts,
    report_path_for,
    require_str,
    write_json_atomic,
    write_jsonl_atomic,
)
from biomedner.logging import get_logger

logger = get_logger(__name__)

ALIGNER_VERSION = "biomedner.synth.align/v1"

CasePolicy = Literal["fallback", "exact", "ignore"]


class AlignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: CasePolicy = "fallback"
    same_span_types: Literal["keep_all", "first"] = "keep_all"
    overlap: Literal["prefer_longer", "keep_all"] = "prefer_longer"
    keep_empty: bool = False
    max_not_found_fraction: float = Field(default=1.0, ge=0.0, le=1.0)
    source: str = "synthetic"
    prompt_version: str | None = None


# Every counter the report carries, in report order. The mentions of annotations whose text is
# found partition as invalid + duplicate + matched + not_found = mentions_total; mentions of
# annotations without a text, or repeating an id, are mentions_in_unmatched_annotations.
COUNT_KEYS = (
    "texts",
    "annotations",
    "records_kept",
    "records_dropped",
    "dropped_no_text",
    "dropped_duplicate_id",
    "dropped_empty_annotation",
    "dropped_nothing_aligned",
    "dropped_too_many_not_found",
    "texts_without_annotation",
    "mentions_total",
    "mentions_invalid",
    "mentions_duplicate",
    "mentions_matched",
    "matched_verbatim",
    "matched_case_or_space_variant",
    "mentions_multi_occurrence",
    "mentions_not_found",
    "not_found_inside_word_only",
    "not_found_absent",
    "occurrences",
    "ambiguous_spans",
    "entities_dropped_ambiguous",
    "overlap_conflicts",
    "entities_dropped_overlap",
    "entities_in_dropped_records",
    "mentions_in_unmatched_annotations",
    "entities_written",
)


@dataclass
class AlignCounts:
    counts: Counter[str] = field(default_factory=Counter)
    raw_types: set[str] = field(default_factory=set)
    types: Counter[str] = field(default_factory=Counter)

    def add(self, key: str, n: int = 1) -> None:
        if key not in COUNT_KEYS:
            raise KeyError(key)
        self.counts[key] += n

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: int(self.counts.get(k, 0)) for k in COUNT_KEYS}
        out["distinct_types_raw"] = len(self.raw_types)
        out["distinct_types_normalised"] = len(self.types)
        return out


def normalize_type(raw: str) -> str:
    """``"  Gene_or  Protein "`` -> ``"gene or protein"``."""
    text = unicodedata.normalize("NFKC", raw).replace("_", " ")
    return " ".join(text.split()).lower()


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def _on_boundaries(text: str, start: int, end: int) -> bool:
    # A match may not cut through a run of letters/digits at either edge.
    if start > 0 and _is_word_char(text[start - 1]) and _is_word_char(text[start]):
        return False
    return not (end < len(text) and _is_word_char(text[end - 1]) and _is_word_char(text[end]))


def _pattern(mention: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [re.escape(p) for p in mention.split()]
    return re.compile(r"\s+".join(parts), re.IGNORECASE if ignore_case else 0)


def _scan(text: str, pattern: re.Pattern[str]) -> tuple[list[tuple[int, int]], int]:
    """All (possibly overlapping) matches on word boundaries, and how many matches were rejected
    for cutting a word."""
    spans: list[tuple[int, int]] = []
    rejected = 0
    pos = 0
    # each iteration advances pos by at least one character, so the loop is bounded by len(text)
    while pos <= len(text):
        m = pattern.search(text, pos)
        if m is None:
            break
        if m.end() > m.start():
            if _on_boundaries(text, m.start(), m.end()):
                spans.append((m.start(), m.end()))
            else:
                rejected += 1
        pos = m.start() + 1
    return spans, rejected


def _plain_haystack(text: str, mention: str, ignore_case: bool) -> str | None:
    """The string to search with ``str.find`` when that gives the same spans as the regex (no
    whitespace other than single spaces, and lowercasing keeps every offset); else None.
    Compiling one regex per mention was most of the alignment time."""
    if " ".join(mention.split()) != mention or " ".join(text.split()) != text:
        return None
    if not ignore_case:
        return text
    lowered = text.lower()
    if len(lowered) != len(text) or len(mention.lower()) != len(mention):
        return None
    return lowered


def _scan_plain(text: str, haystack: str, needle: str) -> tuple[list[tuple[int, int]], int]:
    spans: list[tuple[int, int]] = []
    rejected = 0
    pos = haystack.find(needle)
    # each iteration advances pos by at least one character, so the loop is bounded
    while pos >= 0:
        end = pos + len(needle)
        if _on_boundaries(text, pos, end):
            spans.append((pos, end))
        else:
            rejected += 1
        pos = haystack.find(needle, pos + 1)
    return spans, rejected


MatchKind = Literal["verbatim", "variant", "inside_word", "absent"]


def find_occurrences(
    text: str, mention: str, case: CasePolicy = "fallback"
) -> tuple[list[tuple[int, int]], MatchKind]:
    """Character spans of every occurrence of ``mention`` in ``text`` under the case policy.

    >>> find_occurrences("IL-2 and il-2 raise IL-2R levels", "IL-2")
    ([(0, 4)], 'verbatim')
    >>> find_occurrences("Energy restriction lowers weight.", "energy restriction")
    ([(0, 18)], 'variant')
    """
    mention = mention.strip()

    def scan(ignore_case: bool) -> tuple[list[tuple[int, int]], int]:
        plain = _plain_haystack(text, mention, ignore_case)
        if plain is not None:
            return _scan_plain(text, plain, mention.lower() if ignore_case else mention)
        return _scan(text, _pattern(mention, ignore_case))

    if case == "ignore":
        spans, rejected = scan(ignore_case=True)
    else:
        spans, rejected = scan(ignore_case=False)
        if not spans and case == "fallback":
            spans, rejected_ci = scan(ignore_case=True)
            rejected += rejected_ci
    if spans:
        verbatim = all(text[s:e] == mention for s, e in spans)
        return spans, "verbatim" if verbatim else "variant"
    return [], "inside_word" if rejected else "absent"


def _crosses(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Partial overlap: they intersect and neither contains the other."""
    (s1, e1), (s2, e2) = a, b
    if e1 <= s2 or e2 <= s1:
        return False
    nested = (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2)
    return not nested


@dataclass
class _Mention:
    text: str
    label: str


def _valid_mentions(entities: list[Any], counts: AlignCounts) -> list[_Mention]:
    mentions: list[_Mention] = []
    seen: set[tuple[str, str]] = set()
    for item in entities:
        counts.add("mentions_total")
        if not isinstance(item, dict):
            counts.add("mentions_invalid")
            continue
        mtext, mtype = item.get("text"), item.get("type")
        if not isinstance(mtext, str) or not isinstance(mtype, str):
            counts.add("mentions_invalid")
            continue
        label = normalize_type(mtype)
        if not mtext.strip() or not label:
            counts.add("mentions_invalid")
            continue
        counts.raw_types.add(mtype)
        key = (mtext.strip(), label)
        if key in seen:
            counts.add("mentions_duplicate")
            continue
        seen.add(key)
        mentions.append(_Mention(mtext.strip(), label))
    return mentions


def align_mentions(
    text: str,
    mentions: list[tuple[str, str]],
    config: AlignConfig | None = None,
    counts: AlignCounts | None = None,
) -> list[SpanLabel]:
    """Align ``(mention_text, type)`` pairs (types already normalised, duplicates removed) to
    ``text``; returns sorted span labels. Counts go into ``counts`` when given."""
    config = config or AlignConfig()
    counts = counts if counts is not None else AlignCounts()
    span_types: dict[tuple[int, int], list[str]] = {}
    for mtext, label in mentions:
        spans, kind = find_occurrences(text, mtext, config.case)
        if not spans:
            counts.add("mentions_not_found")
            counts.add(
                "not_found_inside_word_only" if kind == "inside_word" else "not_found_absent"
            )
            continue
        counts.add("mentions_matched")
        counts.add("matched_verbatim" if kind == "verbatim" else "matched_case_or_space_variant")
        if len(spans) > 1:
            counts.add("mentions_multi_occurrence")
        counts.add("occurrences", len(spans))
        for span in spans:
            labels = span_types.setdefault(span, [])
            if label not in labels:
                labels.append(label)

    for span, labels in span_types.items():
        if len(labels) > 1:
            counts.add("ambiguous_spans")
            if config.same_span_types == "first":
                counts.add("entities_dropped_ambiguous", len(labels) - 1)
                span_types[span] = labels[:1]

    # Longest first, then leftmost: the greedy pass keeps the longer of two crossing spans.
    order = sorted(span_types, key=lambda s: (-(s[1] - s[0]), s[0]))
    kept: list[tuple[int, int]] = []
    for span in order:
        clash = any(_crosses(span, other) for other in kept)
        if clash:
            counts.add("overlap_conflicts")
            if config.overlap == "prefer_longer":
                counts.add("entities_dropped_overlap", len(span_types[span]))
                continue
        kept.append(span)

    out = [SpanLabel(start=s, end=e, label=lab) for (s, e) in kept for lab in span_types[(s, e)]]
    out.sort(key=lambda x: (x.start, x.end, x.label))
    return out


def align_annotations(
    texts: dict[str, tuple[str, str | None]],
    annotations_path: str | os.PathLike[str],
    config: AlignConfig | None = None,
    details: list[dict[str, Any]] | None = None,
) -> tuple[list[TrainingRecord], AlignCounts]:
    """Align every annotation line of ``annotations_path`` against ``texts``. When ``details`` is a
    list, one entry per unaligned mention / dropped record is appended to it (for debugging)."""
    config = config or AlignConfig()
    counts = AlignCounts()
    counts.add("texts", len(texts))
    records: list[TrainingRecord] = []
    seen_ids: set[str] = set()
    apath = str(annotations_path)
    for line, data in iter_jsonl(annotations_path):
        counts.add("annotations")
        rid = require_str(data, "id", apath, line)
        if "entities" not in data:
            raise FormatError("missing field 'entities'", apath, line)
        if not isinstance(data["entities"], list):
            raise FormatError("field 'entities' must be a list", apath, line)
        if rid in seen_ids or rid not in texts:
            # mentions of annotations that cannot be used are counted apart from mentions_total
            counts.add("mentions_in_unmatched_annotations", len(data["entities"]))
        if rid in seen_ids:
            counts.add("records_dropped")
            counts.add("dropped_duplicate_id")
            _note(details, rid, "dropped_duplicate_id")
            continue
        seen_ids.add(rid)
        if rid not in texts:
            counts.add("records_dropped")
            counts.add("dropped_no_text")
            _note(details, rid, "dropped_no_text")
            continue
        text, text_source = texts[rid]
        mentions = _valid_mentions(data["entities"], counts)
        if not mentions:
            if config.keep_empty:
                records.append(_record(rid, text, [], text_source, config))
                counts.add("records_kept")
            else:
                counts.add("records_dropped")
                counts.add("dropped_empty_annotation")
                _note(details, rid, "dropped_empty_annotation")
            continue
        rec_counts = AlignCounts()
        spans = align_mentions(text, [(m.text, m.label) for m in mentions], config, rec_counts)
        if details is not None:
            for m in mentions:
                found, kind = find_occurrences(text, m.text, config.case)
                if not found:
                    details.append({"id": rid, "event": f"not_found_{kind}", "mention": m.text})
        counts.counts.update(rec_counts.counts)
        not_found = rec_counts.counts["mentions_not_found"]
        reason = None
        if not spans:
            reason = "dropped_nothing_aligned"
        elif not_found / len(mentions) > config.max_not_found_fraction:
            reason = "dropped_too_many_not_found"
        if reason is not None:
            counts.add("records_dropped")
            counts.add(reason)
            counts.add("entities_in_dropped_records", len(spans))
            _note(details, rid, reason)
            continue
        for s in spans:
            counts.types[s.label] += 1
        counts.add("entities_written", len(spans))
        counts.add("records_kept")
        records.append(_record(rid, text, spans, text_source, config))
    counts.add("texts_without_annotation", len(set(texts) - seen_ids))
    return records, counts


def _note(details: list[dict[str, Any]] | None, rid: str, event: str) -> None:
    if details is not None:
        details.append({"id": rid, "event": event})


def _record(
    rid: str, text: str, spans: list[SpanLabel], text_source: str | None, config: AlignConfig
) -> TrainingRecord:
    provenance: dict[str, Any] = {"source": config.source, "aligner": ALIGNER_VERSION}
    if config.prompt_version:
        provenance["prompt_version"] = config.prompt_version
    if text_source:
        provenance["text_source"] = text_source
    return TrainingRecord(id=rid, text=text, entities=spans, provenance=provenance)


def align_files(
    texts_path: str | os.PathLike[str],
    annotations_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    config: AlignConfig | None = None,
    report_path: str | os.PathLike[str] | None = None,
    details_path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Align a teacher annotation file against its texts, write records JSONL to ``out_path`` and a
    JSON report (counts only, no text) to ``report_path`` (default: beside the output)."""
    config = config or AlignConfig()
    texts = load_texts(texts_path)
    details: list[dict[str, Any]] | None = [] if details_path is not None else None
    records, counts = align_annotations(texts, annotations_path, config, details)
    write_records(records, out_path)
    report = {
        "aligner": ALIGNER_VERSION,
        "config": config.model_dump(),
        "inputs": {
            "texts": {"name": Path(texts_path).name, "sha256": file_sha256(texts_path)},
            "annotations": {
                "name": Path(annotations_path).name,
                "sha256": file_sha256(annotations_path),
            },
        },
        "output": {"name": Path(out_path).name, "records": len(records)},
        "counts": counts.to_dict(),
        "top_types": [{"type": t, "entities": n} for t, n in counts.types.most_common(25)],
    }
    write_json_atomic(report, report_path or report_path_for(out_path))
    if details is not None and details_path is not None:
        write_jsonl_atomic(details, details_path)
    logger.info(
        "aligned %d records (%d dropped), %d/%d mentions matched",
        counts.counts["records_kept"],
        counts.counts["records_dropped"],
        counts.counts["mentions_matched"],
        counts.counts["mentions_total"],
    )
    return report
