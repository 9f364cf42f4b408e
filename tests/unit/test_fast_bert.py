"""BERT-style encoders run on real tokens only, last layer at the read positions only: the same
rows and gradients as the full forward."""

from __future__ import annotations

import pytest
import torch
from tests.fixtures.fast_encoders import (
    TINY,
    assert_dropouts_apply,
    gathered,
    tiny_encoder,
    weighted_grads,
)

from biomedner.modeling.encoder import TextEncoder
from biomedner.modeling.fast_bert import supports_fast_path


def encoder(model_type: str, hidden_size: int = 32, **extra) -> TextEncoder:
    config = {"model_type": model_type, **TINY, **extra}
    if model_type == "roberta":
        config["pad_token_id"] = 1
    if model_type == "electra":
        config.setdefault("embedding_size", TINY["hidden_size"])
    return tiny_encoder(config, hidden_size)


def padded_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(5, 120, (3, 11))
    mask = torch.ones(3, 11, dtype=torch.long)
    mask[1, 7:] = 0  # padded rows: their keys must stay out of the attention
    mask[2, 4:] = 0
    ids[mask == 0] = 0
    positions = torch.tensor([[0, 2, 3, 9, 10], [1, 1, 6, 0, 0], [3, 2, 1, 0, 0]])
    read = positions > 0  # padding slots point at 0 and are not read
    read[:, 0] = True
    return ids, mask, positions, read


@pytest.mark.parametrize("model_type", ["bert", "roberta", "electra"])
@pytest.mark.parametrize("hidden_size", [32, 24])  # 24: with the projection to the head width
def test_rows_match_the_full_forward(model_type, hidden_size):
    enc = encoder(model_type, hidden_size)
    assert enc._fast_path
    ids, mask, positions, read = padded_batch()
    with torch.inference_mode():
        full = enc(ids, mask)
        expected = gathered(full, positions, read)
        got = enc.at_positions(ids, mask, positions, read)
    assert got.shape == (3, 5, hidden_size)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_gradients_match_the_full_forward():
    enc = encoder("bert", 24)
    ids, mask, positions, read = padded_batch()
    weights = torch.randn(3, 5, 24)
    expected = weighted_grads(enc, gathered(enc(ids, mask), positions, read), weights)
    got = weighted_grads(enc, enc.at_positions(ids, mask, positions, read), weights)
    assert got.keys() == expected.keys() and len(got) > 0
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


def test_training_mode_applies_the_dropouts():
    enc = encoder("bert", attention_probs_dropout_prob=0.5, hidden_dropout_prob=0.5).train()
    assert_dropouts_apply(enc, *padded_batch())


@pytest.mark.parametrize(
    "model_type, extra",
    # DeBERTa-v2 runs fast_deberta.py, except with the convolution; ELECTRA: embedding projection
    [("deberta-v2", {"conv_kernel_size": 3}), ("electra", {"embedding_size": 16})],
)
def test_other_layouts_run_the_reference_forward(model_type, extra):
    enc = encoder(model_type, **extra)
    assert not supports_fast_path(enc.backbone)
    assert not enc._fast_path
    ids, mask, positions, read = padded_batch()
    with torch.inference_mode():
        full = enc(ids, mask)
        got = enc.at_positions(ids, mask, positions, read)
    expected = gathered(full, positions, read)
    torch.testing.assert_close(got, expected)
