"""The one dispatch point from a config to a model class, and the contract every class keeps.

Each architecture takes the same :class:`EncodedBatch` and returns logits ``[B, W, K, C]``; how its
labels reach it is the batch's business (prompt positions for the uni-encoder, label vectors or
label tokens for the bi-encoder), built by ``text/pipeline.py``. Callers never branch on the
architecture to run a forward pass.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import torch
from torch import nn

from biomedner.config import Architecture, ModelConfig
from biomedner.modeling.batch import EncodedBatch
from biomedner.modeling.bi_encoder import BiEncoderSpanModel
from biomedner.modeling.uni_encoder import UniEncoderSpanModel


class SpanModel(Protocol):
    labels_in_prompt: ClassVar[bool]

    def __call__(self, batch: EncodedBatch) -> torch.Tensor: ...

    def encode_labels(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor: ...


MODEL_CLASSES: dict[Architecture, type[nn.Module]] = {
    "uni_encoder": UniEncoderSpanModel,
    "bi_encoder": BiEncoderSpanModel,
}


def build_model(config: ModelConfig, *, init_weights: bool = False) -> nn.Module:
    return MODEL_CLASSES[config.architecture](config, init_weights=init_weights)
