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
        self.hidden_size = hidden_size
        self.max_width = max_width
        self.project_start = mlp(hidden_size, hidden_size, dropout)
        self.project_end = mlp(hidden_size, hidden_size, dropout)
        self.out_project = mlp(2 * hidden_size, hidden_size, dropout)

    def forward(
        self, words: torch.Tensor, labels: torch.Tensor, word_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """words [B, W, D], labels [B, C, D] (already through the label MLP) -> logits [B, W, K, C].

        Cell (b, i, k, c) scores the span from word i to word i+k; cells with i+k >= W, or
        starting at a word where ``word_mask`` [B, W] is False, are padding and hold meaningless
        values (decoding and the loss mask them)."""
        k = self.max_width
        _, _, hidden_dropout, second = self.out_project
        a, b = self._word_terms(words, word_mask)  # [B, W, 4D], [B, W + K - 1, 4D]
        # b_spans[:, i, k] = b[:, i + k]: a strided view, no copy
        b_spans = b.unfold(1, k, 1).transpose(-1, -2)  # [B, W, K, 4D]
        fold = self.folds_labels(labels.size(1))
        if torch.is_grad_enabled() or not words.is_cpu:
            # one tensor: autograd needs it whole, and a GPU streams it fast enough
            batch, width = a.shape[:2]
            hidden = hidden_dropout((a.unsqueeze(2) + b_spans).relu())  # [B, W, K, 4D]
            # spans flattened to [B, W*K, .] for bmm: a broadcast matmul against [B, 1, ., C]
            # would first copy the label matrix W times (tens of GB at 1,000 labels)
            hidden = hidden.reshape(batch, width * k, -1)
            if fold:
                folded = labels @ second.weight  # [B, C, 4D]
                logits = torch.baddbmm(
                    (labels @ second.bias)[:, None, :], hidden, folded.transpose(1, 2)
                )
            else:
                logits = torch.bmm(second(hidden), labels.transpose(1, 2))
            return logits.view(batch, width, k, -1)  # [B, W, K, C]
        return self._chunked(a, b_spans, labels, word_mask, fold)

    def folds_labels(self, num_labels: int) -> bool:
        """Whether the last linear layer is folded into the label vectors (rewrite 2 above):
        cheaper while 3 C < 4 D."""
        return 3 * num_labels < 4 * self.hidden_size

    def _word_terms(
        self, words: torch.Tensor, word_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-word start and end terms of ``out_project``'s first layer: a [B, W, 4D] and
        b [B, W + K - 1, 4D], whose K - 1 extra rows are zero so that every span width has an
        end row to read. On CPU they are computed for real words only (a quarter of the rows
        can be padding in a batch of texts of mixed length) and are zero at padding; GPUs take
        the padded rows, which is cheaper than the device sync that packing needs."""
        first = self.out_project[0]
        batch, width, dim = words.shape
        extra = self.max_width - 1
        real = None
        if word_mask is not None and words.is_cpu and not bool(word_mask.all()):
            real = word_mask.flatten().nonzero().squeeze(1)
            rows = words.reshape(-1, dim).index_select(0, real)  # [N, D]
        else:
            rows = words
        a = F.linear(self.project_start(rows).relu(), first.weight[:, :dim], first.bias)
        b = F.linear(self.project_end(rows).relu(), first.weight[:, dim:])
        if real is None:
            return a, F.pad(b, (0, 0, 0, extra))
        hidden = a.size(-1)
        padded_a = a.new_zeros(batch * width, hidden).index_copy_(0, real, a)
        # b is placed straight into the extended layout: no second copy to pad it
        real_b = real + torch.div(real, width, rounding_mode="floor") * extra
        padded_b = b.new_zeros(batch * (width + extra), hidden).index_copy_(0, real_b, b)
        return padded_a.view(batch, width, hidden), padded_b.view(batch, width + extra, hidden)

    def _chunked(
        self,
        a: torch.Tensor,
        b_spans: torch.Tensor,
        labels: torch.Tensor,
        word_mask: torch.Tensor | None,
        fold: bool,
    ) -> torch.Tensor:
        """Inference on CPU: the [W, K, 4D] span tensor is K * 4D floats per word (147 KB at
        D=768); built whole it streams through memory three times, built a few words at a time
        in one reused buffer it stays in cache. Padding words are skipped."""
        _, _, hidden_dropout, second = self.out_project
        batch, width, k, _ = b_spans.shape
        lengths = [width] * batch if word_mask is None else word_mask.sum(-1).tolist()
        step = max(1, _CHUNK_FLOATS // (k * a.size(-1)))
        out = a.new_zeros(batch, width, k, labels.size(1))
        weight = (labels @ second.weight).transpose(1, 2) if fold else None  # [B, 4D, C]
        buffer = a.new_empty(step, k, a.size(-1))
        for row, n in enumerate(lengths):
            for lo in range(0, n, step):
                hi = min(lo + step, n)
                hidden = torch.add(a[row, lo:hi, None], b_spans[row, lo:hi], out=buffer[: hi - lo])
                hidden = hidden_dropout(hidden.relu_())
                if weight is not None:
                    torch.matmul(hidden, weight[row], out=out[row, lo:hi])  # [w, K, C]
                else:
                    torch.matmul(second(hidden), labels[row].T, out=out[row, lo:hi])
        if weight is not None:
            out += (labels @ second.bias)[:, None, None, :]
        return out


# span-tensor chunk size in floats (~2 MiB): fits the L2/L3 caches of current CPUs
_CHUNK_FLOATS = 1 << 19
