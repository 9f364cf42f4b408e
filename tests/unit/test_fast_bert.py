"""The last encoder layer run at chosen positions only gives the full forward's rows there."""

from __future__ import annotations

import pytest
import torch

from biomedner.modeling.encoder import TextEncoder
from biomedner.modeling.fast_bert import encode_at_positions, supports_fast_inference

TINY = {
    "hidden_size": 32,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "vocab_size": 120,
    "max_position_embeddings": 64,
}


def encoder(model_type: str, hidden_size: int = 32, **extra) -> TextEncoder:
    torch.manual_seed(0)
    config = {"model_type": model_type, **TINY, **extra}
    if model_type == "roberta":
        config["pad_token_id"] = 1
    if model_type == "electra":
        config.setdefault("embedding_size", TINY["hidden_size"])
    return TextEncoder(config, hidden_size, init_weights=True).eval()


def padded_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(5, 120, (3, 11))
    mask = torch.ones(3, 11, dtype=torch.long)
    mask[1, 7:] = 0  # padded rows: their keys must stay out of the attention
    mask[2, 4:] = 0
    ids[mask == 0] = 0
    positions = torch.tensor([[0, 2, 3, 9, 10], [1, 1, 6, 0, 0], [3, 2, 1, 0, 0]])
    return ids, mask, positions


@pytest.mark.parametrize("model_type", ["bert", "roberta", "electra"])
@pytest.mark.parametrize("hidden_size", [32, 24])  # 24: with the projection to the head width
def test_partial_last_layer_matches_full_forward(model_type, hidden_size):
    enc = encoder(model_type, hidden_size)
    assert enc._fast_inference
    ids, mask, positions = padded_batch()
    with torch.inference_mode():
        full = enc(ids, mask)
        expected = full.gather(1, positions.unsqueeze(-1).expand(-1, -1, full.size(-1)))
        got = enc.at_positions(ids, mask, positions)
    assert got.shape == (3, 5, hidden_size)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_the_backbone_is_left_whole():
    enc = encoder("bert")
    ids, mask, positions = padded_batch()
    with torch.inference_mode():
        encode_at_positions(enc.backbone, ids, mask, positions)
    assert len(enc.backbone.encoder.layer) == TINY["num_hidden_layers"]
    assert enc.backbone.pooler is not None


def test_training_and_autograd_use_the_full_forward():
    enc = encoder("bert")
    ids, mask, positions = padded_batch()
    with torch.inference_mode():
        expected = enc.at_positions(ids, mask, positions)
    got = enc.at_positions(ids, mask, positions)  # grad on: the reference's graph
    assert got.requires_grad
    torch.testing.assert_close(got.detach(), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "model_type, extra",
    [("deberta-v2", {}), ("electra", {"embedding_size": 16})],  # relative attention; projection
)
def test_other_layouts_run_the_reference_forward(model_type, extra):
    enc = encoder(model_type, **extra)
    assert not supports_fast_inference(enc.backbone)
    ids, mask, positions = padded_batch()
    with torch.inference_mode():
        full = enc(ids, mask)
        got = enc.at_positions(ids, mask, positions)
    expected = full.gather(1, positions.unsqueeze(-1).expand(-1, -1, full.size(-1)))
    torch.testing.assert_close(got, expected)
