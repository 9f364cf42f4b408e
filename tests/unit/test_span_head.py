"""The span head's rewritten computation against its plain definition (docs/gliner_format.md):
span = out_project([start_i; end_j]), logit = span · label, for every path the head can take."""

from __future__ import annotations

import pytest
import torch

from biomedner.modeling import span_head
from biomedner.modeling.span_head import SpanMarkerHead

DIM, WIDTH = 16, 4


def plain_logits(head: SpanMarkerHead, words: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[B, W, K, C] by the definition, one span at a time; cells past the row stay NaN."""
    batch, n, _ = words.shape
    out = torch.full((batch, n, WIDTH, labels.size(1)), float("nan"))
    start = head.project_start(words)
    end = head.project_end(words)
    for b in range(batch):
        for i in range(n):
            for k in range(WIDTH):
                if i + k < n:
                    span = head.out_project(torch.cat([start[b, i], end[b, i + k]]).relu())
                    out[b, i, k] = labels[b] @ span
    return out


@pytest.mark.parametrize("num_labels", [3, 40])  # label folding on (3 C < 4 D) and off
@pytest.mark.parametrize("grad", [False, True])  # cache-sized chunks / one tensor
@pytest.mark.parametrize("chunk_words", [None, 2])  # 2: several chunks per row, one buffer
def test_head_matches_its_definition(num_labels, grad, chunk_words, monkeypatch):
    if chunk_words is not None:
        monkeypatch.setattr(span_head, "_CHUNK_FLOATS", chunk_words * WIDTH * 4 * DIM)
    torch.manual_seed(0)
    head = SpanMarkerHead(DIM, WIDTH, dropout=0.0).eval()
    words = torch.randn(2, 7, DIM)
    labels = torch.randn(2, num_labels, DIM)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, 5:] = False  # row 1 has 5 words
    with torch.set_grad_enabled(grad):
        got = head(words, labels, mask)
    with torch.no_grad():
        want = plain_logits(head, words, labels)
    assert got.shape == (2, 7, WIDTH, num_labels)
    valid = ~want.isnan()
    valid[1, 5:] = False  # spans starting on padding are meaningless by contract
    for i in range(5):
        valid[1, i, max(0, 5 - i) :] = False  # and so are spans ending on it
    assert torch.allclose(got.detach()[valid], want[valid], atol=1e-5)
