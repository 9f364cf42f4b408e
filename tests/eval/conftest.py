"""A miniature registered benchmark written by hand, and a fake model with the NERModel
``predict_batch`` signature whose mistakes are chosen so the scores can be computed by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from biomedner.evaluation.benchmarks import Registry, load_registry
from biomedner.types import Entity

SHARED_DATA = Path(__file__).parents[2] / ".." / "shared" / "data"

MINI_DOCS = [
    (
        "m1",
        "Cisplatin caused acute kidney injury in two patients.",
        [("Cisplatin", "Chemical"), ("acute kidney injury", "Disease")],
    ),
    (
        "m2",
        "Long-term lithium therapy may induce hypothyroidism and goitre.",
        [("lithium", "Chemical"), ("hypothyroidism", "Disease"), ("goitre", "Disease")],
    ),
    (
        "m3",
        "Valproate is linked to pancreatitis.",
        [("Valproate", "Chemical"), ("pancreatitis", "Disease")],
    ),
]
LABEL_MAP = {"Chemical": "chemical compound", "Disease": "disease"}


def _pubtator(docs: list[tuple[str, str, list[tuple[str, str]]]]) -> str:
    lines = []
    for doc_id, title, mentions in docs:
        lines += [f"{doc_id}|t|{title}", f"{doc_id}|a|"]
        for surface, label in mentions:
            i = title.index(surface)
            lines.append(f"{doc_id}\t{i}\t{i + len(surface)}\t{surface}\t{label}")
        lines.append("")
    return "\n".join(lines) + "\n"


@pytest.fixture
def mini_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "mini").mkdir(parents=True)
    for split in ("dev", "test"):
        (root / "mini" / f"{split}.pubtator").write_text(_pubtator(MINI_DOCS), encoding="utf-8")
    return root


@pytest.fixture
def mini_registry(tmp_path: Path, mini_root: Path) -> Registry:
    data = {
        "registry_version": 7,
        "benchmarks": {
            "mini": {
                "description": "hand-written miniature benchmark",
                "format": "pubtator",
                "splits": {
                    "dev": {"files": ["mini/dev.pubtator"]},
                    "test": {"files": ["mini/test.pubtator"]},
                },
                "label_map": LABEL_MAP,
                "nested": False,
                "licence": "CC0",
            }
        },
    }
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_registry(path)


def _find(text: str, surface: str) -> tuple[int, int]:
    i = text.index(surface)
    return i, i + len(surface)


@dataclass
class FakeModel:
    """Predicts the mini benchmark's gold with scripted mistakes:
    drop ``goitre``; predict ``kidney injury`` instead of ``acute kidney injury``; call
    ``Valproate`` a disease; add ``patients`` as a disease (score 0.9) and ``therapy`` as a
    chemical compound (score 0.3). Correct mentions score 0.9."""

    perfect: bool = False
    name_or_path: str = "fake-model"
    calls: list[dict] = field(default_factory=list)

    def predict_batch(self, texts, labels, threshold=0.5, mode="flat", batch_size=8):
        self.calls.append(
            {"n": len(texts), "labels": list(labels), "threshold": threshold, "mode": mode}
        )
        gold = {text: mentions for _, text, mentions in MINI_DOCS}
        out = []
        for text in texts:
            ents = []
            for surface, raw in gold[text]:
                label = LABEL_MAP[raw]
                if not self.perfect:
                    if surface == "goitre":
                        continue
                    if surface == "acute kidney injury":
                        surface = "kidney injury"
                    if surface == "Valproate":
                        label = "disease"
                s, e = _find(text, surface)
                ents.append(Entity(s, e, text[s:e], label, score=0.9))
            if not self.perfect:
                for surface, label, score in (
                    ("patients", "disease", 0.9),
                    ("therapy", "chemical compound", 0.3),
                ):
                    if surface in text:
                        s, e = _find(text, surface)
                        ents.append(Entity(s, e, text[s:e], label, score=score))
            out.append([x for x in ents if x.score is not None and x.score >= threshold])
        return out


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def fake_model_class() -> type[FakeModel]:
    return FakeModel


@pytest.fixture(scope="module")
def shared_benchmarks() -> Path:
    root = SHARED_DATA / "benchmarks"
    if not root.is_dir():
        pytest.skip("../shared/data/benchmarks is not beside the checkout")
    return root.resolve()
