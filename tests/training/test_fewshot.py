"""K-shot sampling: reproducible, K documents per label, and only what was asked for."""

from __future__ import annotations

import pytest

from biomedner.corpora import Document
from biomedner.errors import InputError
from biomedner.training.fewshot import _records, sample_k_shot
from biomedner.types import Entity


def _doc(i: int, labels: list[str]) -> Document:
    text = " ".join(f"m{j}" for j in range(len(labels))) or "none"
    ents = [Entity(3 * j, 3 * j + 2, f"m{j}", lab) for j, lab in enumerate(labels)]
    return Document(id=f"d{i}", text=text, entities=ents)


DOCS = [_doc(i, ["gene"] if i % 3 else ["gene", "disease"]) for i in range(30)] + [_doc(99, [])]


def test_k_per_label_and_reproducible():
    picked = sample_k_shot(DOCS, ["gene", "disease"], 4, seed=1)
    assert picked == sample_k_shot(DOCS, ["gene", "disease"], 4, seed=1)
    assert picked != sample_k_shot(DOCS, ["gene", "disease"], 4, seed=2)
    labels = [{e.label for e in DOCS[i].entities} for i in picked]
    assert sum("disease" in l for l in labels) == 4
    assert sum("gene" in l for l in labels) >= 4
    assert len(set(picked)) == len(picked) <= 8
    # a label with fewer documents than K takes all of them
    assert len(sample_k_shot(DOCS[:4], ["disease"], 10, seed=0)) == 2
    with pytest.raises(InputError):
        sample_k_shot(DOCS, ["gene"], 0, seed=0)


def test_records_carry_other_labels_as_negatives():
    recs = _records(DOCS, [1, 0], ["disease", "gene"], "test")
    assert [r.id for r in recs] == ["d1", "d0"]
    assert recs[0].negatives == ["disease"] and recs[1].negatives == []
    assert [(e.start, e.end, e.label) for e in recs[1].entities] == [
        (0, 2, "gene"),
        (3, 5, "disease"),
    ]
