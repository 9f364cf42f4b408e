"""DeBERTa-v2/v3 encoders on CPU (``modeling/fast_deberta.py``): real tokens only, the
disentangled attention recomputed, the last layer at the read positions only. The rows, the
gradients, the span logits and the predictions must be those of the reference forward."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tests.fixtures.biomedical_texts import LABELS_3, LABELS_20, LONG_DOCUMENTS, SENTENCES
from tests.fixtures.compare import compare_predictions
from tests.fixtures.fast_encoders import (
    TEXTS,
    TINY,
    assert_dropouts_apply,
    assert_span_logits_match_reference,
    gathered,
    tiny_encoder,
    weighted_grads,
    window_batches,
)

from biomedner.model import NERModel
from biomedner.modeling import fast_bert, fast_deberta
from biomedner.modeling.encoder import TextEncoder, fast_encoder
from biomedner.modeling.fast_deberta import relative_buckets, supports_fast_deberta

LENGTH = 40
# DeBERTa-v3's layout, shrunk: shared attention key, both position terms, log buckets, a
# normalised relative table, no absolute positions. 8 buckets: distances past 4 are bucketed.
V3 = {
    "model_type": "deberta-v2",
    **TINY,
    "relative_attention": True,
    "position_buckets": 8,
    "norm_rel_ebd": "layer_norm",
    "share_att_key": True,
    "pos_att_type": ["p2c", "c2p"],
    "position_biased_input": False,
    "max_relative_positions": -1,
    "type_vocab_size": 0,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
LAYOUTS = {
    "v3": {},
    "v2 position projections": {"share_att_key": False},  # the gliner fixtures' layout
    "c2p only": {"pos_att_type": ["c2p"]},
    "p2c only, absolute positions": {"pos_att_type": ["p2c"], "position_biased_input": True},
    "no relative attention": {"relative_attention": False, "position_biased_input": True},
    "no buckets": {"position_buckets": -1, "max_relative_positions": 12},
    "distances past the table": {"max_relative_positions": 16},
    "table not normalised": {"norm_rel_ebd": "none"},
    "token types, narrow embeddings": {"type_vocab_size": 2, "embedding_size": 16},
}


def encoder(hidden_size: int = 32, **extra) -> TextEncoder:
    return tiny_encoder({**V3, **extra}, hidden_size)


def padded_batch(side: str = "right") -> tuple[torch.Tensor, ...]:
    """Rows of 40, 27, 9 and 2 real tokens; positions read at both ends, twice, and not at all."""
    torch.manual_seed(1)
    lengths = [LENGTH, 27, 9, 2]
    ids = torch.randint(5, 120, (len(lengths), LENGTH))
    mask = torch.zeros_like(ids)
    for row, n in enumerate(lengths):
        if side == "right":
            mask[row, :n] = 1
        else:
            mask[row, LENGTH - n :] = 1
    ids[mask == 0] = 0
    positions = torch.tensor(
        [[0, 2, 3, 39, 20, 5], [1, 1, 26, 13, 0, 0], [3, 8, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
    )
    read = positions > 0
    read[:, 0] = True
    if side == "left":
        positions = positions + (LENGTH - torch.tensor(lengths))[:, None]
    return ids, mask, positions, read


@pytest.mark.parametrize("buckets, max_position", [(256, 512), (64, 512), (8, 64), (8, 16)])
def test_position_buckets_are_the_reference_ones(buckets, max_position):
    from transformers.models.deberta_v2.modeling_deberta_v2 import build_relative_position

    tokens = torch.zeros(1, 700, 1)  # past the table on purpose: those distances clip
    expected = build_relative_position(
        tokens, tokens, bucket_size=buckets, max_position=max_position
    )[0]
    offsets = torch.arange(700)
    got = relative_buckets(offsets[:, None] - offsets[None, :], buckets, max_position)
    assert torch.equal(got, expected)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_rows_match_the_full_forward(layout, side):
    enc = encoder(**LAYOUTS[layout])
    assert enc._fast_encode is fast_deberta.encode_at_positions
    ids, mask, positions, read = padded_batch(side)
    with torch.inference_mode():
        expected = gathered(enc(ids, mask), positions, read)
        got = enc.at_positions(ids, mask, positions, read)
    assert got.shape == (4, 6, 32)
    assert bool(got[~read].eq(0).all())
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_rows_match_with_a_projection_to_the_head_width():
    enc = encoder(hidden_size=24)
    ids, mask, positions, read = padded_batch()
    with torch.inference_mode():
        expected = gathered(enc(ids, mask), positions, read)
        got = enc.at_positions(ids, mask, positions, read)
    assert got.shape == (4, 6, 24)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "layout", ["v3", "v2 position projections", "c2p only", "no relative attention"]
)
def test_gradients_of_every_parameter_match(layout):
    enc = encoder(hidden_size=24, **LAYOUTS[layout]).train()  # dropout rates are 0
    ids, mask, positions, read = padded_batch()
    weights = torch.randn(4, 6, 24, generator=torch.Generator().manual_seed(2))
    expected = weighted_grads(enc, gathered(enc(ids, mask), positions, read), weights)
    got = weighted_grads(enc, enc.at_positions(ids, mask, positions, read), weights)
    assert got.keys() == expected.keys()
    if layout != "no relative attention":
        assert "backbone.encoder.rel_embeddings.weight" in got
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


def test_training_mode_applies_the_dropouts():
    enc = encoder(attention_probs_dropout_prob=0.5, hidden_dropout_prob=0.5).train()
    assert_dropouts_apply(enc, *padded_batch())


def test_bf16_autocast_stays_within_bf16_rounding_of_fp32():
    enc = encoder()
    ids, mask, positions, read = padded_batch()
    with torch.inference_mode():
        exact = enc.at_positions(ids, mask, positions, read)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rounded = enc.at_positions(ids, mask, positions, read)
    torch.testing.assert_close(rounded.float(), exact, atol=0.1, rtol=0.05)


def test_the_convolution_layout_runs_the_reference_forward():
    enc = encoder(conv_kernel_size=3)  # DeBERTa-v2-xlarge's layout: not reproduced here
    assert not supports_fast_deberta(enc.backbone)
    assert not enc._fast_path
    ids, mask, positions, read = padded_batch()
    with torch.inference_mode():
        got = enc.at_positions(ids, mask, positions, read)
        expected = gathered(enc(ids, mask), positions, read)
    torch.testing.assert_close(got, expected)


def test_each_backbone_gets_its_own_path():
    bert = TextEncoder({"model_type": "bert", **TINY}, 32)
    assert fast_encoder(bert.backbone) is fast_bert.encode_at_positions
    assert fast_encoder(encoder().backbone) is fast_deberta.encode_at_positions
    assert not fast_bert.supports_fast_path(encoder().backbone)


# ----------------------------------------------------------------- through the span models


@pytest.fixture(scope="module")
def v3_backbone(tmp_path_factory) -> Path:
    from tests.fixtures.checkpoints import build_tiny_deberta_backbone

    return build_tiny_deberta_backbone(tmp_path_factory.mktemp("v3"), share_att_key=True)


@pytest.fixture(scope="module", params=["uni", "bi"])
def v3_model(request, v3_backbone) -> NERModel:
    extra = {"labels_encoder": str(v3_backbone)} if request.param == "bi" else {}
    return NERModel.from_backbone(
        str(v3_backbone), hidden_size=48, max_width=4, max_len=80, dropout=0.0, **extra
    )


def test_span_logits_equal_the_reference_forward(v3_model, monkeypatch):
    assert v3_model.module.encoder._fast_encode is fast_deberta.encode_at_positions
    batches = window_batches(v3_model, LABELS_3)
    assert_span_logits_match_reference(v3_model, batches, monkeypatch)


def test_training_gradients_equal_the_reference_forward(v3_model, monkeypatch):
    """The trainer reaches the encoder through the span model's forward, in train mode, on
    batches from ``collate_windows`` (prompts of different lengths for the uni-encoder)."""
    module = v3_model.module.train()
    words = [text.split() for text in TEXTS[:3]]
    if v3_model.pipeline.labels_in_prompt:
        label_lists = [LABELS_3, LABELS_3[:1], LABELS_3[1:]]
    else:  # a bi-encoder batch shares one label list
        label_lists = [LABELS_3] * 3
    batch = v3_model.pipeline.collate_windows(words, label_lists)
    assert not bool(batch.attention_mask.all())
    try:

        def grads() -> dict[str, torch.Tensor]:
            logits = module(batch)
            weights = torch.randn(logits.shape, generator=torch.Generator().manual_seed(4))
            return weighted_grads(module, logits, weights)

        fast = grads()
        monkeypatch.setattr(module.encoder, "_fast_path", False)
        reference = grads()
    finally:
        module.eval()
    assert fast.keys() == reference.keys()
    assert "encoder.backbone.encoder.rel_embeddings.weight" in fast
    for name in reference:
        torch.testing.assert_close(fast[name], reference[name], atol=1e-4, rtol=1e-3, msg=name)


@pytest.mark.parametrize("fixture_name", ["deberta_uni_ckpt", "deberta_bi_ckpt"])
def test_predictions_equal_with_the_fast_path_off(fixture_name, request, monkeypatch):
    """gliner's tiny DeBERTa checkpoints: same entities, scores within 5e-4. The encoder rows
    differ by float rounding only (5e-7 on states of unit scale), but the fixtures' calibrated
    heads multiply a state difference by a few hundred; gliner's own DeBERTa scores move by up
    to 4.5e-4 with the batch's padding (tests/parity/test_parity_gliner.py)."""
    model = NERModel.from_pretrained(request.getfixturevalue(fixture_name))
    assert model.module.encoder._fast_encode is fast_deberta.encode_at_positions
    texts = SENTENCES[:24] + LONG_DOCUMENTS[:1]  # the long one in several windows
    for labels in (LABELS_3, LABELS_20):
        fast = model.predict_batch(texts, labels, threshold=0.5, batch_size=8)
        with monkeypatch.context() as patch:
            patch.setattr(model.module.encoder, "_fast_path", False)
            reference = model.predict_batch(texts, labels, threshold=0.5, batch_size=8)
        assert sum(map(len, reference)) > len(texts)  # the comparison has entities to compare
        report = compare_predictions(texts, reference, fast, threshold=0.5, tol=5e-4)
        assert not report.problems, report.summary(fixture_name) + "\n" + "\n".join(report.problems)
