"""One model, loaded once per worker, predicting every passage of a shard in one
``predict_batch`` call (``predict_batch`` orders texts by length and windows long ones itself)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from biomedner.corpora import Document
from biomedner.types import Entity


class PredictSettings(BaseModel):
    """What a worker needs to build its model; plain data, so it crosses process boundaries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    labels: list[str]
    threshold: float
    mode: str
    batch_size: int
    precision: str
    device: str = "cpu"
    threads: int | None = None


def passages_of(doc: Document) -> list[tuple[int, str]]:
    """(offset, text) of every unit predicted separately: each passage, or the whole text."""
    if doc.passages:
        return [(p.offset, p.text) for p in doc.passages]
    return [(0, doc.text)]


class ShardPredictor:
    def __init__(self, settings: PredictSettings) -> None:
        import torch

        from biomedner.model import NERModel

        if settings.threads is not None:
            torch.set_num_threads(settings.threads)
        self.settings = settings
        self.model = NERModel.from_pretrained(settings.model, device=settings.device)
        # a bi-encoder's label vectors are computed once for the whole run
        self.labels: Any = (
            self.model.encode_labels(settings.labels)
            if self.model.config.is_bi_encoder
            else list(settings.labels)
        )
        self.autocast = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[
            settings.precision
        ]

    def predict(self, docs: list[Document]) -> list[list[Entity]]:
        """Entities per document, offsets into the document text, sorted by position."""
        units: list[tuple[int, int, str]] = []  # (document, passage offset, passage text)
        for d, doc in enumerate(docs):
            units.extend((d, off, text) for off, text in passages_of(doc) if text.strip())
        out: list[list[Entity]] = [[] for _ in docs]
        if not units:
            return out
        s = self.settings
        results = self.model.predict_batch(
            [text for _, _, text in units],
            self.labels,
            threshold=s.threshold,
            mode=s.mode,  # type: ignore[arg-type]
            batch_size=s.batch_size,
            autocast_dtype=self.autocast,
        )
        for (d, off, _), entities in zip(units, results, strict=True):
            out[d].extend(
                Entity(e.start + off, e.end + off, e.text, e.label, e.score) for e in entities
            )
        for ents in out:
            ents.sort(key=lambda e: (e.start, e.end, e.label))
        return out
