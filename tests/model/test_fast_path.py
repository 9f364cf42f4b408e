"""The span models' logits with the packed BERT encoder path equal those of the reference
forward, on real batches: texts of mixed length (padding), prompts with labels, left padding,
several windows."""

from __future__ import annotations

import pytest
import torch

from biomedner.inference.predictor import length_batches

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
    prepared = model.pipeline.prepare(TEXTS, [LABELS] * len(TEXTS))
    windows, rows = prepared.windows, prepared.rows
    labels = None if model.pipeline.labels_in_prompt else model.encode_labels(LABELS).vectors
    batches = [
        model.pipeline.collate_rows([rows[i] for i in ids]) for ids in length_batches(windows, 3)
    ]
    for b in batches:
        b.label_vectors = labels
    assert any(not bool(b.word_mask.all()) for b in batches)  # padding is exercised
    assert len(windows) > len(TEXTS)  # and a text in several windows

    def logits() -> list[torch.Tensor]:
        with torch.inference_mode():
            return [module(b) for b in batches]

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
