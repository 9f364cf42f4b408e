"""The training config rejects what it does not know, with messages that name the key."""

from __future__ import annotations

import json

import pytest

from biomedner.errors import ConfigError, FormatError
from biomedner.training.config import apply_override, config_from_dict, load_config
from tests.training.conftest import CONFIGS


def _base(tmp_path) -> dict:
    return {
        "output_dir": str(tmp_path / "out"),
        "model": {"backbone": "some/encoder"},
        "stages": [{"name": "a", "steps": 5, "sources": [{"kind": "records", "path": "x.jsonl"}]}],
    }


def test_shipped_recipes_validate():
    for name in ("tiny_debug.toml", "minilm_uni.toml", "minilm_bi.toml"):
        cfg = load_config(CONFIGS / name)
        assert cfg.stages and cfg.base_dir == str(CONFIGS)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"learning_rate": 1e-5}, "learning_rate: unknown key"),
        ({"optim": {"lr": 1e-5}}, "optim.lr: unknown key"),
        ({"optim": {"batch_size": 0}}, "optim.batch_size: Input should be greater than 0"),
        ({"optim": {"schedule": "exponential"}}, "optim.schedule"),
        ({"optim": {"precision": "fp8"}}, "optim.precision"),
        ({"model": {"backbone": "a", "checkpoint": "b"}}, "exactly one of model.backbone"),
        ({"model": {"backbone": "a", "architecture": "bi"}}, "needs model.labels_encoder"),
        ({"stages": []}, "stages: List should have at least 1 item"),
    ],
)
def test_bad_configs_rejected_with_the_key_named(tmp_path, patch, message):
    data = {**_base(tmp_path), **patch}
    with pytest.raises(ConfigError, match="invalid training config") as err:
        config_from_dict(data)
    assert message in str(err.value)


def test_bad_source_and_stage_keys(tmp_path):
    data = _base(tmp_path)
    data["stages"][0]["sources"][0]["wieght"] = 2
    with pytest.raises(ConfigError, match=r"stages\.0\.sources\.0\.records\.wieght: unknown key"):
        config_from_dict(data)
    data = _base(tmp_path)
    data["stages"][0]["optim"] = {"head_lr": -1}
    with pytest.raises(ConfigError, match="stage 'a' optim: head_lr"):
        config_from_dict(data)
    data = _base(tmp_path)
    data["stages"][0]["sources"] = [{"kind": "benchmark", "name": "ncbi_disease", "split": "test"}]
    with pytest.raises(ConfigError, match="split"):
        config_from_dict(data)


def test_overrides(tmp_path):
    cfg = config_from_dict(
        _base(tmp_path),
        [
            "stages.0.steps=7",
            "optim.head_lr=2e-4",
            "optim.shuffle_labels=false",
            "seed=3",
            "output_dir=elsewhere",
        ],
    )
    assert cfg.stages[0].steps == 7
    assert cfg.optim.head_lr == 2e-4 and cfg.optim.shuffle_labels is False
    assert cfg.seed == 3 and cfg.output_dir == "elsewhere"
    with pytest.raises(ConfigError, match="optim.warmup: unknown key"):
        config_from_dict(_base(tmp_path), ["optim.warmup=0.1"])
    with pytest.raises(ConfigError, match="not an index"):
        config_from_dict(_base(tmp_path), ["stages.3.steps=1"])
    assert config_from_dict(_base(tmp_path), ['only_stages=["a"]']).only_stages == ["a"]
    with pytest.raises(ConfigError, match="only_stages"):
        config_from_dict(_base(tmp_path), ['only_stages=["b"]'])
    with pytest.raises(ConfigError, match="key=value"):
        apply_override({}, "seed")


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_bad_record_rejected_with_file_and_line(tmp_path, tiny_backbone):
    from biomedner.training import train
    from tests.training.conftest import tiny_config

    path = tmp_path / "bad.jsonl"
    good = {
        "id": "a",
        "text": "TP53 is mutated.",
        "entities": [{"start": 0, "end": 4, "label": "gene"}],
    }
    bad = {"id": "b", "text": "short", "entities": [{"start": 0, "end": 40, "label": "gene"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    cfg = config_from_dict(tiny_config(tiny_backbone, path, tmp_path / "run"))
    with pytest.raises(FormatError, match=r"bad\.jsonl:2: .*ends past the text"):
        train(cfg)


def test_test_split_files_refused(tmp_path, tiny_backbone):
    from biomedner.training import train
    from tests.training.conftest import tiny_config

    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "TP53.", "entities": []}) + "\n")
    cfg = config_from_dict(tiny_config(tiny_backbone, path, tmp_path / "run"))
    with pytest.raises(ConfigError, match="named like a test split"):
        train(cfg)
