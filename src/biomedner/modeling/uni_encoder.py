"""Uni-encoder span model: labels ride in the prompt, ``<<ENT>> l1 <<ENT>> l2 ... <<SEP>> words``,
and each label's vector is the encoder output at its ``<<ENT>>`` marker."""

from __future__ import annotations

import torch
from torch import nn

from biomedner.config import ModelConfig
from biomedner.errors import CheckpointError
from biomedner.modeling.batch import EncodedBatch
from biomedner.modeling.encoder import TextEncoder
from biomedner.modeling.span_head import SpanMarkerHead, mlp
from biomedner.modeling.word_lstm import WordLSTM


class UniEncoderSpanModel(nn.Module):
    labels_in_prompt = True

    def __init__(self, config: ModelConfig, *, init_weights: bool = False):
        super().__init__()
        if config.encoder_config is None:
            raise CheckpointError("the model config has no embedded encoder_config")
        self.config = config
        self.encoder = TextEncoder(
            config.encoder_config, config.hidden_size, init_weights=init_weights
        )
        d = config.hidden_size
        self.word_lstm = WordLSTM(d, config.num_rnn_layers) if config.num_rnn_layers > 0 else None
        self.span_head = SpanMarkerHead(d, config.max_width, config.dropout)
        self.label_mlp = mlp(d, d, config.dropout)

    def encode_labels(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise TypeError("a uni-encoder reads its labels from the prompt; it has no label encoder")

    def forward(self, batch: EncodedBatch) -> torch.Tensor:
        """-> logits [B, W, K, C]; label vectors are read at ``batch.label_index``."""
        # words at their first sub-token, labels at their <<ENT>> marker: one read
        positions, read = batch.read_positions()  # [B, W + C]
        states = self.encoder.at_positions(batch.input_ids, batch.attention_mask, positions, read)
        num_words = batch.word_index.size(1)
        words = states[:, :num_words]  # [B, W, D], zero at padding
        if self.word_lstm is not None:
            words = self.word_lstm(words, batch.word_mask)  # [B, W, D]
        labels = states[:, num_words:]  # [B, C, D]
        labels = self.label_mlp(labels)  # [B, C, D]
        return self.span_head(words, labels, batch.word_mask)  # [B, W, K, C]
