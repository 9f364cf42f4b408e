"""The span models' logits with the packed BERT encoder path equal those of the reference
forward, on real batches: texts of mixed length (padding), prompts with labels, left padding,
several windows."""

from __future__ import annotations

import pytest
from tests.fixtures.fast_encoders import assert_span_logits_match_reference, window_batches

LABELS = ["drug", "gene or gene product", "adverse event"]


@pytest.mark.parametrize("name", ["uni", "bi", "uni_left_padded"])
def test_logits_equal_the_reference_forward(name, request, monkeypatch):
    model = request.getfixturevalue(name)
    assert model.module.encoder._fast_path  # the tiny backbone is a BERT
    batches = window_batches(model, LABELS)
    assert_span_logits_match_reference(model, batches, monkeypatch)
