"""int8 inference on CPU: the quantized layers, a quantized model's predictions, its limits."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from biomedner.errors import InputError
from biomedner.model import NERModel
from biomedner.modeling.int8 import Int8Linear, is_quantized, quantize_int8
from tests.fixtures.biomedical_texts import LABELS_20, SENTENCES

# measured: 0.5 % (tiny DeBERTa) and 7.2 % (MiniLM, whose activations have outlier channels)
# relative error of the encoder states
ENCODER_TOLERANCE = 0.1


def test_int8_linear_is_close_to_the_float_layer():
    torch.manual_seed(0)
    linear = nn.Linear(64, 48)
    x = torch.randn(5, 7, 64)
    expected = linear(x)
    got = Int8Linear(linear)(x)
    assert got.shape == expected.shape and got.dtype == torch.float32
    # per-channel weights and per-row activations: under 1 % of the output's norm (0.4 % here)
    assert ((got - expected).norm() / expected.norm()).item() < 0.01
    assert Int8Linear(linear)(torch.zeros(0, 64)).shape == (0, 48)
    assert Int8Linear(nn.Linear(64, 48, bias=False))(x).shape == (5, 7, 48)


def test_quantize_keeps_the_head_layers_read_by_weight():
    model = nn.Module()
    model.encoder = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
    model.span_head = nn.Module()
    model.span_head.out_project = nn.Sequential(
        nn.Linear(8, 4), nn.ReLU(), nn.Dropout(), nn.Linear(4, 4)
    )
    assert quantize_int8(model) == 2
    assert isinstance(model.encoder[0], Int8Linear) and isinstance(model.encoder[2], Int8Linear)
    assert type(model.span_head.out_project[0]) is nn.Linear
    assert is_quantized(model)


@pytest.mark.minilm
@pytest.mark.parametrize("fixture", ["deberta_uni_ckpt", "minilm_bi_ckpt"])
def test_int8_model_predicts_valid_entities_close_to_fp32(fixture, request):
    path = request.getfixturevalue(fixture)
    fp32 = NERModel.from_pretrained(path)
    int8 = NERModel.from_pretrained(path, quantize="int8")
    assert is_quantized(int8.module) and not is_quantized(fp32.module)
    labels = LABELS_20[:5]
    texts = SENTENCES[:12]
    found = int8.predict_batch(texts, labels, threshold=0.5, batch_size=4)
    assert len(found) == len(texts) and any(found)
    for text, entities in zip(texts, found):
        for e in entities:
            assert text[e.start : e.end] == e.text and e.label in labels and 0.5 < e.score <= 1
    # the encoder's states (what int8 changes) stay within the measured tolerance; span scores
    # of these random fixtures are calibrated from tiny differences between span vectors, so
    # they amplify any error and are not the measure (docs/performance.md)
    batch = fp32.pipeline.collate_rows(fp32.pipeline.prepare(texts, [labels] * len(texts)).rows)
    positions, read = batch.word_index, batch.word_mask
    with torch.inference_mode():
        ref = fp32.module.encoder.at_positions(
            batch.input_ids, batch.attention_mask, positions, read
        )
        got = int8.module.encoder.at_positions(
            batch.input_ids, batch.attention_mask, positions, read
        )
    assert ((got - ref).norm() / ref.norm()).item() < ENCODER_TOLERANCE


def test_int8_is_checked_before_loading(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError, match="'int4'"):
        NERModel.from_pretrained(missing, quantize="int4")
    with pytest.raises(InputError, match="CPU only"):
        NERModel.from_pretrained(missing, quantize="int8", device="cuda")


@pytest.mark.minilm
def test_int8_model_refuses_saving_and_autocast(deberta_uni_ckpt, tmp_path):
    model = NERModel.from_pretrained(deberta_uni_ckpt, quantize="int8")
    with pytest.raises(InputError, match="cannot be saved"):
        model.save_pretrained(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="autocast"):
        model.predict_batch(["Aspirin."], ["drug"], autocast_dtype=torch.bfloat16)
