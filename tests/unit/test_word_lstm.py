"""Both paths of the word BiLSTM (CPU inference: one LSTM call per direction over the padded
batch; otherwise packed sequences) against the BiLSTM run row by row on each row's real words:
same outputs at real words, zeros at padding, whatever the padding holds."""

from __future__ import annotations

import pytest
import torch

from biomedner.modeling.word_lstm import WordLSTM


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    mask = torch.zeros(4, 9, dtype=torch.bool)
    for row, n in enumerate([9, 5, 1, 3]):
        mask[row, :n] = True
    words = torch.randn(4, 9, 16)
    # padding that would leak into the backward direction if it were read first
    words[~mask] = 7.0
    return words, mask


def row_by_row_reference(lstm: WordLSTM, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One row at a time, only its real words: the definition of a BiLSTM over a sequence."""
    out = torch.zeros(*words.shape[:2], lstm.lstm.hidden_size * 2)
    for row in range(words.size(0)):
        n = int(mask[row].sum())
        out[row, :n] = lstm.lstm(words[row : row + 1, :n])[0][0]
    return out


@pytest.mark.parametrize("num_layers", [1, 2])
def test_inference_path_matches_the_bilstm_definition(num_layers):
    torch.manual_seed(1)
    lstm = WordLSTM(16, num_layers).eval()
    words, mask = batch()
    with torch.no_grad():
        want = row_by_row_reference(lstm, words, mask)
        fast = lstm(words, mask)  # CPU, eval, no grad: the per-direction path
    with torch.enable_grad():
        packed = lstm(words, mask)  # the packed-sequence path
    torch.testing.assert_close(fast, want, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(packed.detach(), want, atol=1e-6, rtol=1e-5)
    assert (fast[~mask] == 0).all()
