"""Bi-encoder span model: a separate label encoder turns each label into one vector (mean over
its tokens, [CLS]/[SEP] included), so label vectors can be computed once and reused.

As in the reference, no BiLSTM runs on this path. Checkpoints still carry LSTM weights when
``num_rnn_layers`` > 0; they are held (so loading stays strict and saving round-trips) and unused.
"""

from __future__ import annotations

import torch
from torch import nn

from biomedner.config import ModelConfig
from biomedner.errors import CheckpointError
from biomedner.modeling.batch import EncodedBatch
from biomedner.modeling.encoder import TextEncoder
from biomedner.modeling.span_head import SpanMarkerHead, mlp
from biomedner.modeling.word_lstm import WordLSTM


class BiEncoderSpanModel(nn.Module):
    labels_in_prompt = False

    def __init__(self, config: ModelConfig, *, init_weights: bool = False):
        super().__init__()
        if config.encoder_config is None or config.labels_encoder_config is None:
            raise CheckpointError(
                "a bi-encoder config needs both encoder_config and labels_encoder_config"
            )
        self.config = config
        d = config.hidden_size
        self.encoder = TextEncoder(config.encoder_config, d, init_weights=init_weights)
        self.label_encoder = TextEncoder(config.labels_encoder_config, d, init_weights=init_weights)
        self.word_lstm = (  # held, never applied (see module docstring)
            WordLSTM(d, config.num_rnn_layers) if config.num_rnn_layers > 0 else None
        )
        self.span_head = SpanMarkerHead(d, config.max_width, config.dropout)
        self.label_mlp = mlp(d, d, config.dropout)

    def encode_labels(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Label token ids [C, L] -> label vectors [C, D], ready for the span head."""
        tokens = self.label_encoder(input_ids, attention_mask)  # [C, L, D]
        weights = attention_mask.unsqueeze(-1).to(tokens.dtype)  # [C, L, 1]
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)  # [C, D]
        return self.label_mlp(pooled)  # [C, D]

    def forward(self, batch: EncodedBatch) -> torch.Tensor:
        """-> logits [B, W, K, C]. Labels: ``batch.label_vectors`` ([C, D] shared or [B, C, D]
        per window) when encoded beforehand, else ``batch.label_input_ids`` ([C, L]), encoded
        here (training, so gradients reach the label encoder)."""
        label_vectors = batch.label_vectors
        if label_vectors is None:
            if batch.label_input_ids is None or batch.label_attention_mask is None:
                raise ValueError("a bi-encoder batch needs label_vectors or label tokens")
            label_vectors = self.encode_labels(batch.label_input_ids, batch.label_attention_mask)
        words = self.encoder.at_positions(
            batch.input_ids, batch.attention_mask, batch.word_index, batch.word_mask
        )  # [B, W, D], zero at padding
        if label_vectors.dim() == 2:
            label_vectors = label_vectors.unsqueeze(0).expand(words.size(0), -1, -1)
        return self.span_head(words, label_vectors.to(words.dtype), batch.word_mask)  # [B, W, K, C]
