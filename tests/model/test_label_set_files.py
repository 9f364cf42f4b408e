"""LabelSet.save / NERModel.load_labels: a saved label set predicts what freshly encoded labels
predict, in another model object loaded from another copy of the checkpoint; a label set from
another label encoder is refused with both models named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from biomedner.errors import InputError
from biomedner.model import NERModel

LABELS = ["gene", "disease", "drug", "cell line"]
TEXTS = ["brca1 mutation raises the risk of cancer", "aspirin dose for hela cells"]


def test_saved_label_set_predicts_like_fresh_labels(
    bi: NERModel, tiny_bi_dir: Path, tmp_path: Path
) -> None:
    path = bi.encode_labels(LABELS).save(tmp_path / "labels.safetensors")
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata()
    assert json.loads(header["labels"]) == LABELS
    assert json.loads(header["descriptions"]) is None
    assert header["fingerprint"] == bi.label_encoder_fingerprint
    assert header["model"] == str(tiny_bi_dir)

    # the same checkpoint copied elsewhere, loaded into a new model object
    copy = shutil.copytree(tiny_bi_dir, tmp_path / "copied-checkpoint")
    other = NERModel.from_pretrained(copy)
    loaded = other.load_labels(path)
    assert loaded.labels == tuple(LABELS)
    assert torch.equal(loaded.vectors, bi.encode_labels(LABELS).vectors)
    fresh = other.predict_batch(TEXTS, LABELS, threshold=0.0, mode="nested")
    assert fresh and all(fresh)
    assert other.predict_batch(TEXTS, loaded, threshold=0.0, mode="nested") == fresh


def test_label_set_from_another_label_encoder_is_refused(
    bi: NERModel, tiny_bi_dir: Path, tmp_path: Path
) -> None:
    path = bi.encode_labels(LABELS).save(tmp_path / "labels.safetensors")
    changed = NERModel.from_pretrained(tiny_bi_dir)
    with torch.no_grad():
        next(changed.module.label_mlp.parameters()).add_(1e-3)
    changed.save_pretrained(tmp_path / "changed")
    other = NERModel.from_pretrained(tmp_path / "changed")
    with pytest.raises(InputError) as err:
        other.load_labels(path)
    message = str(err.value)
    assert str(tiny_bi_dir) in message and str(tmp_path / "changed") in message
    assert bi.label_encoder_fingerprint in message
    assert other.label_encoder_fingerprint in message


def test_text_encoder_weights_do_not_change_the_fingerprint(
    bi: NERModel, tiny_bi_dir: Path
) -> None:
    """Only the label tower decides what a label vector is."""
    changed = NERModel.from_pretrained(tiny_bi_dir)
    with torch.no_grad():
        next(changed.module.encoder.parameters()).add_(1.0)
    assert changed.label_encoder_fingerprint == bi.label_encoder_fingerprint


def test_not_a_label_set_file(bi: NERModel, tiny_bi_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        bi.load_labels(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match=r"garbage\.safetensors is not a label set file"):
        bi.load_labels(garbage)
    with pytest.raises(InputError, match="not a label set file"):
        bi.load_labels(tiny_bi_dir / "model.safetensors")


def test_failed_save_keeps_the_previous_file(bi: NERModel, tmp_path: Path) -> None:
    path = bi.encode_labels(LABELS).save(tmp_path / "labels.safetensors")
    before = path.read_bytes()
    broken = bi.encode_labels(["gene"])
    object.__setattr__(broken, "vectors", "not a tensor")
    with pytest.raises(AttributeError):
        broken.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.safetensors"]


def test_uni_encoder_has_no_label_sets(uni: NERModel, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="only a bi-encoder"):
        uni.load_labels(tmp_path / "labels.safetensors")


def test_encoding_does_not_hash_the_label_encoder(tiny_bi_dir: Path, tmp_path: Path) -> None:
    """Hashing passes over the label encoder's weights: only saving or loading pays for it."""
    model = NERModel.from_pretrained(tiny_bi_dir)
    label_set = model.encode_labels(LABELS)
    model.predict(TEXTS[0], LABELS)
    assert "label_encoder_fingerprint" not in vars(model)
    label_set.save(tmp_path / "labels.safetensors")
    assert vars(model)["label_encoder_fingerprint"] == label_set.fingerprint
