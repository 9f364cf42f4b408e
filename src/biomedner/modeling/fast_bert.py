"""CPU inference for BERT-style encoders without the work the span model never reads.

The span model reads the encoder's output at a word's first sub-token and at each ``<<ENT>>``
marker, nothing else. Two parts of the reference forward are wasted on that:
- padding: batches are padded to their longest row, and every linear layer runs on the padded
  tokens too (about 10 % of the tokens in length-sorted batches of short texts);
- the last layer at positions nobody reads (about a third of the real tokens): every layer but
  the last is needed whole, since its keys and values feed the next, but the last layer's
  queries, attention output, feed-forward block and layer norms are needed only where read.

So here the linear layers, layer norms and feed-forward blocks run on the real tokens alone,
packed into one [N, D] matrix, and only attention sees the padded [B, T] layout (its key mask
keeps padding out, as in the reference). The last layer runs its queries at the read positions
only. The numbers are the reference forward's, up to float rounding; the tests compare them.

Only layouts checked by ``supports_fast_inference`` take this path: BERT, RoBERTa and their kin
(post-LN, absolute positions, encoder only). Others (DeBERTa's relative attention, for one) run
the reference forward whole.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# layer classes whose forward is self-attention -> BertSelfOutput -> intermediate -> output,
# post-LN, with nothing else in the attention scores
_POST_LN_LAYERS = frozenset(
    {"BertLayer", "RobertaLayer", "XLMRobertaLayer", "CamembertLayer", "ElectraLayer"}
)


def supports_fast_inference(backbone: nn.Module) -> bool:
    config = getattr(backbone, "config", None)
    encoder = getattr(backbone, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if config is None or not isinstance(layers, nn.ModuleList) or len(layers) < 1:
        return False
    return (
        set(encoder._modules) == {"layer"}  # nothing after the layers (no final norm)
        and hasattr(backbone, "embeddings")
        and not hasattr(backbone, "embeddings_project")  # ELECTRA with a narrow embedding
        and all(type(layer).__name__ in _POST_LN_LAYERS for layer in layers)
        and all(
            hasattr(layer.attention.self, name)
            for layer in layers
            for name in ("query", "key", "value", "scaling", "num_attention_heads")
        )
        and not getattr(config, "is_decoder", False)
        and not getattr(config, "add_cross_attention", False)
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
    )


def encode_at_positions(
    backbone: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    positions: torch.Tensor,
) -> torch.Tensor:
    """input_ids, attention_mask [B, T], positions [B, P] -> last hidden states [B, P, D] at
    those token positions. Inference only (no dropout, no autograd graph)."""
    batch, length = input_ids.shape
    keep = attention_mask.bool()
    real = keep.flatten().nonzero().squeeze(1)  # [N] padded index of each real token
    shape = _Shape(batch, length, real, keep[:, None, None, :])
    hidden = backbone.embeddings(input_ids=input_ids)  # [B, T, D]
    hidden = hidden.reshape(batch * length, -1).index_select(0, real)  # [N, D]
    layers = backbone.encoder.layer
    for layer in layers[:-1]:
        hidden = _layer(layer, hidden, shape)
    # the last layer's queries only where read: padded row index of each position
    rows = (positions + torch.arange(batch, device=positions.device)[:, None] * length).flatten()
    out = _layer(layers[-1], hidden, shape, query_rows=rows)  # [B * P, D]
    return out.view(batch, positions.size(1), -1)


class _Shape:
    """The padded layout: attention needs it, everything else works on packed tokens."""

    def __init__(self, batch: int, length: int, real: torch.Tensor, key_mask: torch.Tensor):
        self.batch, self.length, self.real, self.key_mask = batch, length, real, key_mask

    def pad(self, packed: torch.Tensor) -> torch.Tensor:  # [N, D] -> [B * T, D]
        out = packed.new_zeros(self.batch * self.length, packed.size(-1))
        return out.index_copy_(0, self.real, packed)


def _layer(
    layer: nn.Module, hidden: torch.Tensor, shape: _Shape, query_rows: torch.Tensor | None = None
) -> torch.Tensor:
    """One post-LN layer. hidden [N, D] packed -> [N, D], or [len(query_rows), D] when only
    the padded rows ``query_rows`` are asked for."""
    attn = layer.attention.self
    heads = attn.num_attention_heads

    def split(padded: torch.Tensor) -> torch.Tensor:  # [B * L, D] -> [B, H, L, D / H]
        return padded.view(shape.batch, -1, heads, padded.size(-1) // heads).transpose(1, 2)

    key = split(shape.pad(attn.key(hidden)))
    value = split(shape.pad(attn.value(hidden)))
    if query_rows is None:
        residual = hidden
        query = split(shape.pad(attn.query(hidden)))
    else:
        residual = shape.pad(hidden).index_select(0, query_rows)
        query = split(attn.query(residual))
    context = F.scaled_dot_product_attention(
        query, key, value, attn_mask=shape.key_mask, scale=attn.scaling
    )  # [B, H, L, D / H]
    context = context.transpose(1, 2).reshape(-1, residual.size(-1))  # [B * L, D]
    if query_rows is None:
        context = context.index_select(0, shape.real)
    attended = layer.attention.output(context, residual)
    return layer.output(layer.intermediate(attended), attended)
