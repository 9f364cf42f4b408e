"""Checkpoint loading: strict keys, corrupt or partial directories, clear messages."""

from __future__ import annotations

import json
import shutil

import pytest
from safetensors.torch import load_file, save_file

from biomedner import NERModel
from biomedner.errors import CheckpointError


@pytest.fixture
def ckpt(tiny_uni_dir, tmp_path):
    return shutil.copytree(tiny_uni_dir, tmp_path / "ckpt")


def rewrite_weights(path, edit):
    state = load_file(str(path / "model.safetensors"))
    edit(state)
    save_file(state, str(path / "model.safetensors"))


def test_missing_key_is_named(ckpt):
    rewrite_weights(ckpt, lambda s: s.pop("prompt_rep_layer.0.weight"))
    with pytest.raises(CheckpointError, match=r"1 missing: prompt_rep_layer\.0\.weight"):
        NERModel.from_pretrained(ckpt)
    NERModel.from_pretrained(ckpt, strict=False)  # explicit opt-out loads


def test_unexpected_key_is_named(ckpt):
    import torch

    rewrite_weights(ckpt, lambda s: s.__setitem__("extra_head.weight", torch.zeros(2)))
    with pytest.raises(CheckpointError, match=r"1 unexpected: extra_head\.weight"):
        NERModel.from_pretrained(ckpt)


def test_wrong_shape_is_refused_even_when_not_strict(ckpt):
    import torch

    rewrite_weights(ckpt, lambda s: s.__setitem__("prompt_rep_layer.3.bias", torch.zeros(5)))
    with pytest.raises(CheckpointError, match="wrong shape"):
        NERModel.from_pretrained(ckpt, strict=False)


def test_truncated_weights(ckpt):
    data = (ckpt / "model.safetensors").read_bytes()
    (ckpt / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        NERModel.from_pretrained(ckpt)


def test_missing_files(ckpt):
    (ckpt / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="has no weights"):
        NERModel.from_pretrained(ckpt)
    (ckpt / "gliner_config.json").unlink()
    with pytest.raises(CheckpointError, match="gliner_config.json is missing"):
        NERModel.from_pretrained(ckpt)
    with pytest.raises(CheckpointError, match="does not exist"):
        NERModel.from_pretrained(ckpt / "nope")


def test_bad_config(ckpt):
    cfg_path = ckpt / "gliner_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        NERModel.from_pretrained(ckpt)
    cfg_path.write_text(json.dumps({**cfg, "span_mode": "token_level"}))
    with pytest.raises(CheckpointError, match="span_mode='token_level' is not supported"):
        NERModel.from_pretrained(ckpt)
    cfg_path.write_text(json.dumps({**cfg, "max_width": -3}))
    with pytest.raises(CheckpointError, match="invalid model configuration"):
        NERModel.from_pretrained(ckpt)


def test_pickled_weights_are_read_safely(ckpt):
    import torch

    state = load_file(str(ckpt / "model.safetensors"))
    torch.save(state, ckpt / "pytorch_model.bin")
    (ckpt / "model.safetensors").unlink()
    assert NERModel.from_pretrained(ckpt).predict("gene", ["gene"], threshold=0.0)
    (ckpt / "pytorch_model.bin").write_bytes(b"not a pickle at all")
    with pytest.raises(CheckpointError, match="weights_only=True"):
        NERModel.from_pretrained(ckpt)


def test_unknown_config_keys_survive_a_round_trip(ckpt, tmp_path):
    cfg_path = ckpt / "gliner_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text(json.dumps({**cfg, "lr_encoder": 1e-5, "my_note": "kept"}))
    out = NERModel.from_pretrained(ckpt).save_pretrained(tmp_path / "again")
    saved = json.loads((out / "gliner_config.json").read_text())
    assert saved["lr_encoder"] == 1e-5 and saved["my_note"] == "kept"


def test_missing_embedded_encoder_config_is_read_from_the_model_name(ckpt, tiny_backbone):
    cfg_path = ckpt / "gliner_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text(
        json.dumps({**cfg, "encoder_config": None, "model_name": str(tiny_backbone)})
    )
    model = NERModel.from_pretrained(ckpt)
    assert model.config.encoder_config["hidden_size"] == 32
    assert model.config.encoder_config["vocab_size"] == cfg["encoder_config"]["vocab_size"]
