"""Word splitting keeps exact character offsets into the original string."""

from __future__ import annotations

import pytest

from biomedner.text.words import WordSplitter


def check_offsets(text: str, kind: str) -> list[str]:
    words = WordSplitter(kind)(text)  # type: ignore[arg-type]
    for tok, s, e in zip(words.tokens, words.starts, words.ends, strict=True):
        assert text[s:e] == tok
    return words.tokens


def test_reference_regex_keeps_hyphenated_compounds_whole():
    assert check_offsets("IL-2-dependent T_cell growth (CD4+).", "whitespace") == [
        "IL-2-dependent",
        "T_cell",
        "growth",
        "(",
        "CD4",
        "+",
        ")",
        ".",
    ]


def test_biomedical_splitter_breaks_at_hyphens_slashes_brackets():
    assert check_offsets("IL-2-dependent BRCA1/2 [Ca2+]", "biomedical") == [
        "IL",
        "-",
        "2",
        "-",
        "dependent",
        "BRCA1",
        "/",
        "2",
        "[",
        "Ca2",
        "+",
        "]",
    ]


def test_unicode_and_whitespace_runs():
    text = "TNF-α\u00a0 and   µ-opioid\t\treceptors\n\n5 mg/kg ± 2 — 肿瘤 🧬"
    tokens = check_offsets(text, "whitespace")
    assert "TNF-α" in tokens and "µ-opioid" in tokens and "肿瘤" in tokens and "🧬" in tokens


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_and_blank_texts_have_no_words(text):
    assert check_offsets(text, "whitespace") == []


def test_unknown_splitter():
    with pytest.raises(ValueError, match="unknown word splitter"):
        WordSplitter("spacy")  # type: ignore[arg-type]
