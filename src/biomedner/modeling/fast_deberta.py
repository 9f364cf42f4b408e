"""DeBERTa-v2/v3 encoders on CPU without the work the span model never reads.

The same shortcut as ``fast_bert.py`` (read its docstring first): the linear layers, layer norms
and feed-forward blocks run on the real tokens alone, packed into one [N, D] matrix; only
attention sees the padded [B, T] layout; the last layer runs its queries at the read positions
only. What DeBERTa adds is disentangled attention: besides content-to-content (query · key), each
score gets content-to-position (c2p: the query against the projected embedding of the relative
distance query - key) and position-to-content (p2c: the key against the projected embedding of
the same distance), all divided by sqrt(head width × (1 + number of those terms)). Distances are
log-bucketed past ``position_buckets / 2`` and clipped to the embedding table.

Two savings over the reference forward besides packing, neither of which changes a number:
- the distance -> table row lookup is computed once per forward, not per layer, and only the
  table rows some query-key pair of this batch uses are normalised and projected (at most
  2T - 1 rows; the reference projects all 2 × 256 for DeBERTa-v3 in every layer, then gathers);
- the c2p and p2c terms are gathered straight into the layout of the rows that need them and
  passed to ``F.scaled_dot_product_attention`` as one additive float mask, padding keys at the
  dtype's minimum as in the reference.

The numbers and gradients are the reference forward's up to float rounding; dropouts are the
reference's modules and rates (``tests/model/test_fast_deberta.py`` compares both). Layouts
``supports_fast_deberta`` does not accept (the convolution after the first layer of
DeBERTa-v2-xlarge, ``z_steps``, unknown attention terms) run the reference forward whole.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from biomedner.modeling.packed import Queries, Shape, pack, read_queries

_ATTENTION_TERMS = frozenset({"c2p", "p2c"})
_REL_NORMS = frozenset({"none", "layer_norm"})


def supports_fast_deberta(backbone: nn.Module) -> bool:
    """A ``DebertaV2Model`` whose forward is embeddings -> identical disentangled layers, with
    nothing between or after them that this module does not reproduce."""
    if type(backbone).__name__ != "DebertaV2Model":
        return False
    config = backbone.config
    encoder = backbone.encoder
    layers = getattr(encoder, "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) < 1:
        return False
    return (
        getattr(encoder, "conv", None) is None
        and getattr(backbone, "z_steps", 0) <= 1
        and all(type(layer).__name__ == "DebertaV2Layer" for layer in layers)
        and all(
            type(layer.attention.self).__name__ == "DisentangledSelfAttention" for layer in layers
        )
        and set(config.pos_att_type or []) <= _ATTENTION_TERMS
        and set(encoder.norm_rel_ebd) <= _REL_NORMS
        and not getattr(config, "is_decoder", False)
    )


def encode_at_positions(
    backbone: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    positions: torch.Tensor,
    position_mask: torch.Tensor,
) -> torch.Tensor:
    """input_ids, attention_mask [B, T], positions, position_mask [B, P] -> last hidden states
    [B, P, D] at those token positions, zero where ``position_mask`` is False."""
    # absolute positions, if the layout has them, are added on the padded layout as in the
    # reference; padding rows are dropped by the packing right after
    embedded = backbone.embeddings(input_ids=input_ids, mask=attention_mask)  # [B, T, D]
    hidden, shape = pack(embedded, attention_mask)  # [N, D]
    relative = _Relative.build(backbone.encoder, shape.length, positions)
    layers = backbone.encoder.layer
    for layer in layers[:-1]:
        hidden = _layer(layer, hidden, shape, relative)
    queries = read_queries(shape, positions, position_mask)
    return queries.unpack(_layer(layers[-1], hidden, shape, relative, queries))


def relative_buckets(distance: torch.Tensor, buckets: int, max_position: int) -> torch.Tensor:
    """Query-minus-key distances -> DeBERTa's position buckets: exact up to ``buckets / 2``,
    then log-spaced so that ``max_position - 1`` lands on bucket ``buckets - 1``; sign kept.
    Without buckets the distance itself. The float32 operations follow the reference's, so
    ties at a bucket edge round the same way."""
    if buckets <= 0 or max_position <= 0:
        return distance
    mid = buckets // 2
    magnitude = distance.abs()
    near = magnitude <= mid
    # clamped below so the log stays finite where ``near`` discards it anyway
    ratio = torch.where(near, torch.full_like(magnitude, mid - 1), magnitude) / mid
    log_span = torch.log(torch.tensor((max_position - 1) / mid))
    far = torch.ceil(torch.log(ratio) / log_span * (mid - 1)) + mid
    return torch.where(near, distance.to(far.dtype), far * torch.sign(distance)).long()


class _Relative:
    """What every layer of one forward shares: the table rows in use (normalised as the
    reference does) and, for each query-key pair, which of those rows its distance reads."""

    def __init__(
        self,
        embeddings: torch.Tensor | None,
        full_index: torch.Tensor | None,
        read_index: torch.Tensor | None,
    ):
        self.embeddings = embeddings  # [R, D]
        self.full_index = full_index  # [1, 1, T, T]: every query row
        self.read_index = read_index  # [B, 1, P, T]: the last layer's read positions

    @classmethod
    def build(cls, encoder: nn.Module, length: int, positions: torch.Tensor) -> _Relative:
        if not getattr(encoder, "relative_attention", False):
            return cls(None, None, None)
        table = encoder.rel_embeddings.weight  # [2 * span, D]
        span = table.size(0) // 2
        device = table.device
        offsets = torch.arange(-(length - 1), length, device=device)  # every query - key
        bucketed = relative_buckets(
            offsets, encoder.position_buckets, encoder.max_relative_positions
        )
        rows = (bucketed + span).clamp(0, 2 * span - 1)  # [2T - 1], non-decreasing
        first, last = int(rows[0]), int(rows[-1])
        used = table[first : last + 1]
        if "layer_norm" in encoder.norm_rel_ebd:
            used = encoder.LayerNorm(used)  # row-wise, so the unused rows need not be touched
        lookup = rows - first  # distance + T - 1 -> row of ``used``
        keys = torch.arange(length, device=device)
        full = lookup[keys[:, None] - keys[None, :] + length - 1]  # [T, T]
        read = lookup[positions.to(device)[:, :, None] - keys + length - 1]  # [B, P, T]
        return cls(used, full[None, None], read[:, None])


def _layer(
    layer: nn.Module,
    hidden: torch.Tensor,
    shape: Shape,
    relative: _Relative,
    queries: Queries | None = None,
) -> torch.Tensor:
    """One DeBERTa layer. hidden [N, D] packed -> [N, D], or [M, D] at ``queries`` only."""
    attn = layer.attention.self
    heads = attn.num_attention_heads
    key = shape.split_heads(attn.key_proj(hidden), heads)
    value = shape.split_heads(attn.value_proj(hidden), heads)
    residual = hidden if queries is None else hidden.index_select(0, queries.rows)  # [N or M, D]
    query = shape.split_heads(attn.query_proj(residual), heads, queries)
    index = relative.full_index if queries is None else relative.read_index
    terms = set(attn.pos_att_type)
    scale = math.sqrt(query.size(-1) * (1 + len(terms & _ATTENTION_TERMS)))
    if relative.embeddings is not None and terms:
        bias = _position_scores(attn, query, key, relative.embeddings, index, terms) / scale
        mask = bias.masked_fill(~shape.key_mask, torch.finfo(bias.dtype).min).to(query.dtype)
    else:
        mask = shape.key_mask
    context = F.scaled_dot_product_attention(
        query,
        key,
        value,
        attn_mask=mask,
        dropout_p=attn.dropout.p if attn.training else 0.0,
        scale=1.0 / scale,
    )  # [B, H, L, d]
    context = shape.merge_heads(context, queries)
    attended = layer.attention.output(context, residual)
    return layer.output(layer.intermediate(attended), attended)


def _position_scores(
    attn: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    embeddings: torch.Tensor,
    index: torch.Tensor,
    terms: set[str],
) -> torch.Tensor:
    """c2p + p2c scores [B, H, L, T], unscaled. query [B, H, L, d], key [B, H, T, d],
    embeddings [R, D] (rows in use), index [B or 1, 1, L, T] -> row of ``embeddings``."""
    heads = attn.num_attention_heads
    positions = attn.pos_dropout(embeddings)
    batch, _, rows, _ = query.shape
    index = index.expand(batch, heads, rows, key.size(2))

    def project(linear: nn.Module) -> torch.Tensor:  # [R, D] -> [H, R, d]
        projected = linear(positions)
        return projected.view(projected.size(0), heads, -1).transpose(0, 1)

    scores = None
    if "c2p" in terms:
        position_keys = project(attn.key_proj if attn.share_att_key else attn.pos_key_proj)
        by_row = torch.matmul(query, position_keys.transpose(-1, -2))  # [B, H, L, R]
        scores = by_row.gather(-1, index)
    if "p2c" in terms:
        position_queries = project(attn.query_proj if attn.share_att_key else attn.pos_query_proj)
        by_row = torch.matmul(position_queries, key.transpose(-1, -2))  # [B, H, R, T]
        term = by_row.gather(2, index)  # key j against the row of (query i - key j)
        scores = term if scores is None else scores + term
    return scores
