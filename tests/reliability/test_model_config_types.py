"""Item 8: gliner_config.json values of the wrong type are a CheckpointError naming the key,
never coerced (``true`` read as width 1) and never a ValueError traceback."""

from __future__ import annotations

import json
import shutil

import pytest

from biomedner.errors import CheckpointError
from biomedner.model import NERModel
from tests.reliability.contract import assert_user_error, invoke


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_width", True), ("num_rnn_layers", "two"), ("max_len", 384.5), ("hidden_size", "24")],
)
def test_wrongly_typed_config_values_are_refused(tiny_uni_dir, tmp_path, key, value):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_uni_dir, ckpt)
    path = ckpt / "gliner_config.json"
    config = json.loads(path.read_text())
    config[key] = value
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError) as err:
        NERModel.from_pretrained(ckpt)
    assert f"'{key}'" in str(err.value) and "gliner_config.json" in str(err.value)
    result = invoke(["predict", "-m", ckpt, "-l", "x", "text"])
    assert_user_error(result, key)
