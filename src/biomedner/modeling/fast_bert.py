"""BERT-style encoders on CPU without the work the span model never reads.

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
only. The numbers are the reference forward's, up to float rounding, and so are the gradients
(padding and unread positions never reach the loss); the dropouts are the reference's modules
and rates. The tests compare both.

Only layouts checked by ``supports_fast_path`` take this path: BERT, RoBERTa and their kin
(post-LN, absolute positions, encoder only). Others (DeBERTa's relative attention, for one) run
the reference forward whole.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from biomedner.modeling.packed import Queries, Shape, pack, read_queries

# layer classes whose forward is self-attention -> BertSelfOutput -> intermediate -> output,
# post-LN, with nothing else in the attention scores
_POST_LN_LAYERS = frozenset(
    {"BertLayer", "RobertaLayer", "XLMRobertaLayer", "CamembertLayer", "ElectraLayer"}
)


def supports_fast_path(backbone: nn.Module) -> bool:
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
    position_mask: torch.Tensor,
) -> torch.Tensor:
    """input_ids, attention_mask [B, T], positions, position_mask [B, P] -> last hidden states
    [B, P, D] at those token positions, zero where ``position_mask`` is False."""
    hidden, shape = pack(backbone.embeddings(input_ids=input_ids), attention_mask)  # [N, D]
    layers = backbone.encoder.layer
    for layer in layers[:-1]:
        hidden = _layer(layer, hidden, shape)
    queries = read_queries(shape, positions, position_mask)
    return queries.unpack(_layer(layers[-1], hidden, shape, queries))


def _layer(
    layer: nn.Module, hidden: torch.Tensor, shape: Shape, queries: Queries | None = None
) -> torch.Tensor:
    """One post-LN layer. hidden [N, D] packed -> [N, D], or [M, D] at ``queries`` only."""
    attn = layer.attention.self
    heads = attn.num_attention_heads
    key = shape.split_heads(attn.key(hidden), heads)
    value = shape.split_heads(attn.value(hidden), heads)
    residual = hidden if queries is None else hidden.index_select(0, queries.rows)  # [N or M, D]
    query = shape.split_heads(attn.query(residual), heads, queries)
    context = F.scaled_dot_product_attention(
        query,
        key,
        value,
        attn_mask=shape.key_mask,
        dropout_p=attn.dropout.p if attn.training else 0.0,
        scale=attn.scaling,
    )  # [B, H, L, D / H]
    context = shape.merge_heads(context, queries)
    attended = layer.attention.output(context, residual)
    return layer.output(layer.intermediate(attended), attended)
