"""The span models' logits with the packed BERT encoder path equal those of the reference
forward, on real batches: texts of mixed length (padding), prompts with labels, left padding,
several windows."""

from __future__ import annotations

import pytest
import torch

from biomedner.inference.collate import collate_rows
from biomedner.inference.predictor import length_batches, prepare

TEXTS = [
    "Tamoxifen lowered ESR1 signalling in MCF-7 cells.",
    "Fever.",
    "Patients given 40 mg/day of atorvastatin reported myalgia and raised creatine kinase.",
    " ".join(["the", "kinase", "domain", "of", "EGFR", "binds", "erlotinib"] * 20),  # 2 windows
]
LABELS = ["drug", "gene or gene product", "adverse event"]


@pytest.mark.parametrize("name", ["uni", "bi", "uni_left_padded"])
def test_logits_equal_the_reference_forward(name, request, monkeypatch):
    model = request.getfixturevalue(name)
    module = model.module
    assert module.encoder._fast_path  # the tiny backbone is a BERT
    setup = model._setup
    _, windows, rows = prepare(setup, TEXTS, [LABELS] * len(TEXTS))
    labels = model.encode_labels(LABELS).vectors if setup.is_bi_encoder else None
    batches = [
        collate_rows([rows[i] for i in ids], setup.info) for ids in length_batches(windows, 3)
    ]
    assert any(not bool(b.word_mask.all()) for b in batches)  # padding is exercised
    assert len(windows) > len(TEXTS)  # and a text in several windows

    def logits() -> list[torch.Tensor]:
        with torch.inference_mode():
            return [module(b) if labels is None else module(b, labels) for b in batches]

    fast = logits()
    monkeypatch.setattr(module.encoder, "_fast_path", False)
    reference = logits()
    for b, got, expected in zip(batches, fast, reference):
        # cells of real spans: start at a real word, end inside the row
        n = b.word_mask.sum(-1)
        start = torch.arange(b.word_mask.size(1))[None, :, None]
        width = torch.arange(module.config.max_width)[None, None, :]
        valid = (start + width) < n[:, None, None]
        torch.testing.assert_close(got[valid], expected[valid], atol=1e-4, rtol=1e-4)
