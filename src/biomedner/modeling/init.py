"""A new, untrained span model on top of pretrained encoders (the start of training)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from biomedner.config import (
    DEFAULT_DROPOUT,
    DEFAULT_MAX_LEN,
    DEFAULT_MAX_WIDTH,
    DEFAULT_NUM_RNN_LAYERS,
    ModelConfig,
    WordSplitterType,
)
from biomedner.errors import CheckpointError

# the reference adds these three to a uni-encoder's vocabulary, in this order
PROMPT_TOKENS = ("[FLERT]", "<<ENT>>", "<<SEP>>")


@dataclass
class NewModelParts:
    """What :class:`biomedner.NERModel` is built from: the module, its config, its tokenizers."""

    module: nn.Module
    config: ModelConfig
    tokenizer: Any
    labels_tokenizer: Any | None


def new_span_model(
    backbone: str,
    *,
    labels_encoder: str | None = None,
    hidden_size: int | None = None,
    max_width: int = DEFAULT_MAX_WIDTH,
    max_len: int = DEFAULT_MAX_LEN,
    dropout: float = DEFAULT_DROPOUT,
    num_rnn_layers: int = DEFAULT_NUM_RNN_LAYERS,
    words_splitter_type: WordSplitterType = "whitespace",
    seed: int = 0,
) -> NewModelParts:
    """Backbone weights from ``backbone`` (hub id or local HF directory), a randomly initialised
    head (seeded), and for a bi-encoder a label encoder from ``labels_encoder``. The public
    entry point is :meth:`biomedner.NERModel.from_backbone`."""
    from transformers import AutoModel

    from biomedner.io.tokenizers import load_tokenizer
    from biomedner.modeling.registry import build_model

    text_model = _pretrained(AutoModel, backbone)
    tokenizer = load_tokenizer(None, backbone)
    labels_tokenizer = None
    label_model = None
    class_token_index = -1
    if labels_encoder is None:
        tokenizer.add_tokens(list(PROMPT_TOKENS), special_tokens=True)
        text_model.resize_token_embeddings(len(tokenizer))
        class_token_index = tokenizer.convert_tokens_to_ids(PROMPT_TOKENS[1])
    else:
        label_model = _pretrained(AutoModel, labels_encoder)
        labels_tokenizer = load_tokenizer(None, labels_encoder)
    width = hidden_size or text_model.config.hidden_size
    config = ModelConfig(
        architecture="bi_encoder" if labels_encoder else "uni_encoder",
        model_name=backbone,
        labels_encoder=labels_encoder,
        hidden_size=width,
        max_width=max_width,
        max_len=max_len,
        dropout=dropout,
        num_rnn_layers=num_rnn_layers,
        class_token_index=class_token_index,
        vocab_size=len(tokenizer) if labels_encoder is None else -1,
        words_splitter_type=words_splitter_type,
        encoder_config=text_model.config.to_dict(),
        labels_encoder_config=label_model.config.to_dict() if label_model is not None else None,
    )
    torch.manual_seed(seed)
    module = build_model(config, init_weights=True)
    module.encoder.backbone = text_model
    if label_model is not None:
        module.label_encoder.backbone = label_model
    return NewModelParts(module, config, tokenizer, labels_tokenizer)


def _pretrained(auto_cls: Any, ref: str) -> Any:
    try:
        return auto_cls.from_pretrained(ref)
    except OSError as exc:
        from biomedner.io.hub import OFFLINE_HINT

        raise CheckpointError(f"could not load the encoder {ref!r}: {exc}. {OFFLINE_HINT}") from exc
