"""The one dispatch point from a config to a model class."""

from __future__ import annotations

from torch import nn

from biomedner.config import ModelConfig
from biomedner.modeling.bi_encoder import BiEncoderSpanModel
from biomedner.modeling.uni_encoder import UniEncoderSpanModel

MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "uni_encoder": UniEncoderSpanModel,
    "bi_encoder": BiEncoderSpanModel,
}


def build_model(config: ModelConfig, *, init_weights: bool = False) -> nn.Module:
    return MODEL_CLASSES[config.architecture](config, init_weights=init_weights)
