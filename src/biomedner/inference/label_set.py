"""A bi-encoder's labels, encoded once and reused for every prediction call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class LabelSet:
    """Immutable: ``labels[i]``'s vector is ``vectors[i]`` (already through the label MLP).
    ``owner`` identifies the model that computed it; another model refuses it."""

    labels: tuple[str, ...]
    vectors: Any  # [C, D]: a torch tensor, or a numpy array for the ONNX backend
    owner: int

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"LabelSet({len(self.labels)} labels: {list(self.labels[:5])}{'...' if len(self) > 5 else ''})"
