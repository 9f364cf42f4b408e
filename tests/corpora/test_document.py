from __future__ import annotations

import pytest

from biomedner.corpora import Document, Passage
from biomedner.errors import InputError
from biomedner.types import Entity


def test_document_accepts_aligned_entities_and_passages() -> None:
    doc = Document(
        "d1",
        "BRCA1 loss. Breast cancer.",
        [Entity(0, 5, "BRCA1", "gene")],
        [Passage(0, "BRCA1 loss.", "title"), Passage(12, "Breast cancer.", "abstract")],
    )
    assert doc.passages[1].end == 26
    assert Document.from_dict(doc.to_dict()) == doc


def test_misaligned_entity_names_the_document() -> None:
    with pytest.raises(InputError, match=r"document 'pmid-7'.*'BRCA2'.*'BRCA1'"):
        Document("pmid-7", "BRCA1 loss.", [Entity(0, 5, "BRCA2", "gene")])


def test_entity_past_the_end_is_rejected() -> None:
    with pytest.raises(InputError, match="ends past the text"):
        Document("d", "short", [Entity(3, 9, "rt and", "x")])


def test_passage_must_match_text() -> None:
    with pytest.raises(InputError, match="passage 'title'"):
        Document("d", "abc def", [], [Passage(0, "abd", "title")])


def test_with_entities_keeps_text_and_passages() -> None:
    doc = Document("d", "IL-6 rises.", [], [Passage(0, "IL-6 rises.", "text")])
    pred = doc.with_entities([Entity(0, 4, "IL-6", "protein", score=0.9)])
    assert pred.text == doc.text and pred.passages == doc.passages
    assert pred.entities[0].score == 0.9 and doc.entities == []
