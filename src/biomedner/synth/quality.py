"""Heuristic text-quality filters for curation.

Each check compares one cheap statistic with a configurable threshold; a text is dropped for the
first check it fails, and that check's name is the drop reason counted in the curation report. The
defaults keep ordinary English abstracts (including numbers, Greek letters and units) and reject
stubs, tables, OCR debris, boilerplate repetition and non-prose. ``None`` switches a check off.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field

_WORD = re.compile(r"\w+", re.UNICODE)
# Characters expected in prose: letters, digits, whitespace and common punctuation/symbols of
# biomedical writing. Anything else counts as "special".
_ORDINARY_PUNCT = ".,;:!?()[]{}-–—/'\"%+=<>±×·°µ&*#~^_|@$’‘“”…≤≥→"
_SPACE = re.compile(r"\s")
_ALPHA = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
# not a letter, digit, whitespace or ordinary punctuation (the underscore is punctuation here)
_SPECIAL = re.compile("[^\\w\\s" + re.escape(_ORDINARY_PUNCT) + "]")


class QualityConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_abstract: bool = True  # PubMed records with a title but no abstract
    min_chars: int | None = Field(default=200, ge=0)
    max_chars: int | None = Field(default=20_000, ge=1)
    min_words: int | None = Field(default=30, ge=0)
    max_words: int | None = Field(default=4_000, ge=1)
    min_alpha_fraction: float | None = Field(default=0.65, ge=0, le=1)
    max_digit_fraction: float | None = Field(default=0.2, ge=0, le=1)
    max_special_fraction: float | None = Field(default=0.05, ge=0, le=1)
    max_upper_word_fraction: float | None = Field(default=0.4, ge=0, le=1)
    min_mean_word_length: float | None = Field(default=3.0, ge=0)
    max_mean_word_length: float | None = Field(default=12.0, ge=0)
    min_unique_word_fraction: float | None = Field(default=0.3, ge=0, le=1)
    max_duplicate_line_fraction: float | None = Field(default=0.3, ge=0, le=1)
    max_top_bigram_fraction: float | None = Field(default=0.25, ge=0, le=1)
    max_duplicate_5gram_fraction: float | None = Field(default=0.65, ge=0, le=1)


def text_stats(text: str) -> dict[str, float]:
    """The statistics the filters use (also handy for choosing thresholds on a sample)."""
    # regex counting (subn) runs in C; a per-character Python loop was most of curation's time
    n_chars = max(len(text) - _SPACE.subn("", text)[1], 1)
    words = _WORD.findall(text)
    n_words = max(len(words), 1)
    lower = [w.lower() for w in words]
    alpha = _ALPHA.subn("", text)[1]
    digit = _DIGIT.subn("", text)[1]
    special = _SPECIAL.subn("", text)[1]
    upper_words = sum(1 for w in words if len(w) >= 2 and w.isupper() and w.isalpha())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    dup_lines = len(lines) - len(set(lines))

    bigrams = Counter(pairwise(lower))
    top_bigram_chars = 0
    if bigrams:
        (w1, w2), count = bigrams.most_common(1)[0]
        top_bigram_chars = count * (len(w1) + len(w2))
    word_chars = max(sum(len(w) for w in lower), 1)

    five = [tuple(lower[i : i + 5]) for i in range(len(lower) - 4)]
    five_counts = Counter(five)
    covered = [False] * len(lower)
    for i, g in enumerate(five):
        if five_counts[g] > 1:
            for j in range(i, i + 5):
                covered[j] = True
    return {
        "chars": float(len(text)),
        "words": float(len(words)),
        "alpha_fraction": alpha / n_chars,
        "digit_fraction": digit / n_chars,
        "special_fraction": special / n_chars,
        "upper_word_fraction": upper_words / n_words,
        "mean_word_length": sum(len(w) for w in words) / n_words,
        "unique_word_fraction": _windowed_unique_fraction(lower),
        "duplicate_line_fraction": dup_lines / max(len(lines), 1),
        "top_bigram_fraction": top_bigram_chars / word_chars,
        "duplicate_5gram_fraction": sum(covered) / n_words,
    }


def _windowed_unique_fraction(words: list[str], window: int = 100) -> float:
    # Type/token ratio falls with length; averaging it over fixed windows keeps one threshold
    # meaningful for both a 150-word abstract and a 3,000-word description.
    if not words:
        return 0.0
    spans = [words[i : i + window] for i in range(0, len(words), window)]
    if len(spans) > 1 and len(spans[-1]) < window // 2:
        spans[-2] = spans[-2] + spans[-1]
        spans.pop()
    return sum(len(set(s)) / len(s) for s in spans) / len(spans)


def _bounds(config: QualityConfig) -> list[tuple[str, str, float | None, bool]]:
    """(reason, statistic, threshold, is_minimum) in check order."""
    return [
        ("too_short_chars", "chars", config.min_chars, True),
        ("too_long_chars", "chars", config.max_chars, False),
        ("too_few_words", "words", config.min_words, True),
        ("too_many_words", "words", config.max_words, False),
        ("low_alpha_fraction", "alpha_fraction", config.min_alpha_fraction, True),
        ("high_digit_fraction", "digit_fraction", config.max_digit_fraction, False),
        ("high_special_fraction", "special_fraction", config.max_special_fraction, False),
        ("high_upper_word_fraction", "upper_word_fraction", config.max_upper_word_fraction, False),
        ("short_mean_word_length", "mean_word_length", config.min_mean_word_length, True),
        ("long_mean_word_length", "mean_word_length", config.max_mean_word_length, False),
        ("low_lexical_diversity", "unique_word_fraction", config.min_unique_word_fraction, True),
        ("repeated_lines", "duplicate_line_fraction", config.max_duplicate_line_fraction, False),
        ("repeated_bigram", "top_bigram_fraction", config.max_top_bigram_fraction, False),
        ("repeated_5grams", "duplicate_5gram_fraction", config.max_duplicate_5gram_fraction, False),
    ]


def quality_reason(text: str, config: QualityConfig, has_abstract: bool = True) -> str | None:
    """The name of the first failed check, or None when the text passes."""
    if not text.strip():
        return "empty"
    if config.require_abstract and not has_abstract:
        return "no_abstract"
    bounds = [b for b in _bounds(config) if b[2] is not None]
    if not bounds:
        return None
    stats = text_stats(text)
    for reason, key, threshold, is_min in bounds:
        value = stats[key]
        if (is_min and value < threshold) or (not is_min and value > threshold):
            return reason
    return None
