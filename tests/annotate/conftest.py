"""Tiny offline checkpoints and small corpora for the annotate tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.model.conftest import build_tiny_backbone

TEXTS = [
    "Insulin lowers glucose in patients with diabetes.",
    "BRCA1 mutation raises the risk of breast cancer.",
    "",
    "Aspirin 5 mg/kg was given; the tumor receptor expression fell.",
    "TNF alpha and IL beta drive the disease in cd4 cells.",
    "Cisplatin dose was reduced.",
    "HeLa cells express the gamma receptor.",
]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    from biomedner import NERModel

    backbone = build_tiny_backbone(tmp_path_factory.mktemp("annotate_backbone"))
    uni = NERModel.from_backbone(
        str(backbone), hidden_size=24, max_width=4, max_len=40, dropout=0.0
    )
    bi = NERModel.from_backbone(
        str(backbone),
        labels_encoder=str(backbone),
        hidden_size=24,
        max_width=4,
        max_len=40,
        dropout=0.0,
    )
    return {
        "uni": uni.save_pretrained(tmp_path_factory.mktemp("annotate_uni")),
        "bi": bi.save_pretrained(tmp_path_factory.mktemp("annotate_bi")),
    }


@pytest.fixture
def one_thread():
    """Scores are compared bit for bit across runs; one thread makes them reproducible."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_jsonl(path: Path, n: int, *, start: int = 0) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"id": f"doc{i}", "text": TEXTS[i % len(TEXTS)]}) + "\n")
    return path


def write_pubtator(path: Path, n: int) -> Path:
    blocks = []
    for i in range(n):
        title = TEXTS[i % len(TEXTS)] or "Untitled."
        abstract = TEXTS[(i + 1) % len(TEXTS)]
        lines = [f"{100 + i}|t|{title}", f"{100 + i}|a|{abstract}"]
        word = title.split()[0].rstrip(".,;")
        lines.append(f"{100 + i}\t0\t{len(word)}\t{word}\tGold")
        blocks.append("\n".join(lines) + "\n")
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path
