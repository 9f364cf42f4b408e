"""The markerV0 span head and the label MLP: everything after the encoder up to the logits.

Reference definition, for a span from word i to word j (inclusive) and a label vector p:
    start = MLP_s(h_i), end = MLP_e(h_j)                     MLP = Linear(D,4D) ReLU Dropout Linear(4D,D)
    span  = Linear2(Dropout(ReLU(Linear1(ReLU([start; end])))))  Linear1: 2D->4D, Linear2: 4D->D
    logit = span · MLP_p(p)

Two exact rewrites make this cheap (see docs/performance.md):
1. ReLU([start; end]) = [ReLU(start); ReLU(end)], so Linear1 splits into a per-word start term
   plus a per-word end term; a span's hidden vector is ReLU(a_i + b_j), no [W*K, 2D] concat.
2. Linear2 is linear, so it folds into the labels: span · q = ReLU(.) · (W2ᵀ q) + b2 · q. That is
   cheaper whenever there are fewer labels than 4D/3; otherwise the span vectors are built.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(in_dim: int, out_dim: int, dropout: float) -> nn.Sequential:
    # indices 0 and 3 are the reference's state-dict names
    return nn.Sequential(
        nn.Linear(in_dim, out_dim * 4),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(out_dim * 4, out_dim),
    )


class SpanMarkerHead(nn.Module):
    def __init__(self, hidden_size: int, max_width: int, dropout: float):
        super().__init__()
        self.max_width = max_width
        self.project_start = mlp(hidden_size, hidden_size, dropout)
        self.project_end = mlp(hidden_size, hidden_size, dropout)
        self.out_project = mlp(2 * hidden_size, hidden_size, dropout)

    def forward(self, words: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """words [B, W, D], labels [B, C, D] (already through the label MLP) -> logits [B, W, K, C].

        Cell (b, i, k, c) scores the span from word i to word i+k; cells with i+k >= W are
        padding and hold meaningless values (decoding and the loss mask them)."""
        dim = words.size(-1)
        k = self.max_width
        first, _, hidden_dropout, second = self.out_project
        start = self.project_start(words).relu()  # [B, W, D]
        end = self.project_end(words).relu()  # [B, W, D]
        a = F.linear(start, first.weight[:, :dim], first.bias)  # [B, W, 4D]
        b = F.linear(end, first.weight[:, dim:])  # [B, W, 4D]
        # b_spans[:, i, :, k] = b[:, i + k]: a strided view, no copy until the add
        b_spans = F.pad(b, (0, 0, 0, k - 1)).unfold(1, k, 1)  # [B, W, 4D, K]
        hidden = hidden_dropout((a.unsqueeze(-1) + b_spans).relu())  # [B, W, 4D, K]
        num_labels = labels.size(1)
        if 3 * num_labels < 4 * dim:
            folded = labels @ second.weight  # [B, C, 4D]
            bias = labels @ second.bias  # [B, C]
            logits = torch.einsum("bwhk,bch->bwkc", hidden, folded)
            return logits + bias[:, None, None, :]
        spans = second(hidden.transpose(-1, -2))  # [B, W, K, D]
        return torch.einsum("bwkd,bcd->bwkc", spans, labels)
