"""Bidirectional LSTM over word vectors, run on packed sequences so padding never leaks in."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class WordLSTM(nn.Module):
    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=hidden_size,
            hidden_size=hidden_size // 2,
            num_layers=num_layers,
            bidirectional=True,
            batch_first=True,
        )

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        # words [B, W, D], word_mask [B, W] -> [B, W, D], zeros at padded positions
        lengths = word_mask.sum(-1).cpu()
        packed = pack_padded_sequence(words, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=words.size(1))
        return out
