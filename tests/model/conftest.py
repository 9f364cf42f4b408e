"""A tiny random BERT with a word-piece tokenizer built in code: fully offline, a second to make."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from biomedner.model import NERModel

WORDS = [
    "the",
    "of",
    "and",
    "in",
    "with",
    "was",
    "were",
    "is",
    "a",
    "to",
    "by",
    "for",
    "patients",
    "cells",
    "gene",
    "protein",
    "disease",
    "cancer",
    "drug",
    "dose",
    "tumor",
    "receptor",
    "expression",
    "mutation",
    "risk",
    "alpha",
    "beta",
    "gamma",
    "delta",
    "insulin",
    "aspirin",
    "brca1",
    "il",
    "tnf",
    "mg",
    "kg",
    "cd4",
    "hela",
]


def build_tiny_backbone(out_dir: Path, *, max_positions: int = 128) -> Path:
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,;:()[]-/+%±αβµ")
    vocab = specials + chars + ["##" + c for c in chars] + WORDS
    vocab = list(dict.fromkeys(vocab))
    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab.index("[CLS]")), ("[SEP]", vocab.index("[SEP]"))],
    )
    from tokenizers import decoders

    tok.decoder = decoders.WordPiece()
    fast = BertTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    return build_tiny_backbone(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def tiny_uni_dir(tiny_backbone, tmp_path_factory) -> Path:

    model = NERModel.from_backbone(
        str(tiny_backbone), hidden_size=24, max_width=4, max_len=40, dropout=0.0
    )
    return model.save_pretrained(tmp_path_factory.mktemp("tiny_uni"))


@pytest.fixture(scope="session")
def tiny_bi_dir(tiny_backbone, tmp_path_factory) -> Path:

    model = NERModel.from_backbone(
        str(tiny_backbone),
        labels_encoder=str(tiny_backbone),
        hidden_size=24,
        max_width=4,
        max_len=40,
        dropout=0.0,
    )
    return model.save_pretrained(tmp_path_factory.mktemp("tiny_bi"))


@pytest.fixture(scope="module")
def uni(tiny_uni_dir) -> NERModel:
    return NERModel.from_pretrained(tiny_uni_dir)


@pytest.fixture(scope="module")
def bi(tiny_bi_dir) -> NERModel:
    return NERModel.from_pretrained(tiny_bi_dir)


@pytest.fixture(scope="module")
def uni_left_padded(uni) -> NERModel:
    """The uni model with a tokenizer that pads on the left."""
    tokenizer = copy.deepcopy(uni.tokenizer)
    tokenizer.padding_side = "left"
    return NERModel(uni.module, uni.config, tokenizer)
