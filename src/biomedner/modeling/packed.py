"""The packed-token layout the fast encoders (``fast_bert.py``, ``fast_deberta.py``) share.

Their layers run on the real tokens alone, packed into one [N, D] matrix; attention alone needs
the padded [B, T] layout back, and the last layer runs its queries at the read positions only.
What differs between the encoders is the layer, never this bookkeeping, so it lives here once.
"""

from __future__ import annotations

import torch


class Shape:
    """The padded layout: attention needs it, everything else works on packed tokens."""

    def __init__(self, attention_mask: torch.Tensor):
        self.batch, self.length = attention_mask.shape
        self.keep = attention_mask.bool()  # [B, T]
        self.real = self.keep.flatten().nonzero().squeeze(1)  # [N] padded index of each token
        self.key_mask = self.keep[:, None, None, :]  # [B, 1, 1, T] for attention

    def pad(self, packed: torch.Tensor, queries: Queries | None = None) -> torch.Tensor:
        """[N, D] packed token rows -> [B * T, D], zero at padding; with ``queries``, their
        [M, D] rows -> [B * P, D], zero where not read."""
        if queries is None:
            out = packed.new_zeros(self.batch * self.length, packed.size(-1))
            return out.index_copy_(0, self.real, packed)
        out = packed.new_zeros(self.batch * queries.per_row, packed.size(-1))
        return out.index_copy_(0, queries.read, packed)

    def split_heads(
        self, packed: torch.Tensor, heads: int, queries: Queries | None = None
    ) -> torch.Tensor:
        """Packed rows of a projection [N or M, H * d] -> attention's padded [B, H, L, d]."""
        padded = self.pad(packed, queries)
        return padded.view(self.batch, -1, heads, padded.size(-1) // heads).transpose(1, 2)

    def merge_heads(self, context: torch.Tensor, queries: Queries | None = None) -> torch.Tensor:
        """Attention's output [B, H, L, d] -> packed rows [N or M, H * d], padding dropped."""
        context = context.transpose(1, 2).reshape(-1, context.size(1) * context.size(-1))
        return context.index_select(0, self.real if queries is None else queries.read)


class Queries:
    """The last layer's query rows: ``rows`` [M] index the packed tokens; ``read`` [M] places
    them in a [B * per_row] layout for attention."""

    def __init__(self, rows: torch.Tensor, read: torch.Tensor, batch: int, per_row: int):
        self.rows, self.read, self.batch, self.per_row = rows, read, batch, per_row

    def unpack(self, out: torch.Tensor) -> torch.Tensor:
        """The last layer's [M, D] rows -> [B, P, D], zero at the positions not read."""
        full = out.new_zeros(self.batch * self.per_row, out.size(-1)).index_copy_(0, self.read, out)
        return full.view(self.batch, self.per_row, -1)


def pack(embedded: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, Shape]:
    """embedded [B, T, D] on the padded layout, attention_mask [B, T] -> the real tokens' rows
    packed [N, D] in reading order, and the layout to pad them back for attention."""
    shape = Shape(attention_mask)
    packed = embedded.reshape(shape.batch * shape.length, -1).index_select(0, shape.real)
    return packed, shape


def read_queries(shape: Shape, positions: torch.Tensor, position_mask: torch.Tensor) -> Queries:
    """positions, position_mask [B, P] token positions to read -> the packed row of each read
    one, in [B * P] order."""
    packed_row = shape.keep.flatten().cumsum(0) - 1  # padded index -> packed row, at real tokens
    padded = positions + torch.arange(shape.batch, device=positions.device)[:, None] * shape.length
    read = position_mask.flatten().nonzero().squeeze(1)  # [M] index into B * P
    rows = packed_row.index_select(0, padded.flatten().index_select(0, read))
    return Queries(rows, read, shape.batch, positions.size(1))
