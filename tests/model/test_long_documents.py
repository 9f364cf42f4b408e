"""Long documents: windowed, merged, nothing truncated. A rule-based span scorer (no learning)
stands in for the network so the expected entities are known exactly."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from biomedner import NERModel
from biomedner.modeling.batch import EncodedBatch


class RuleScorer(nn.Module):
    """Scores 'alpha beta gamma' (3 words) for the label 'gene' and 'insulin' for 'drug', wherever
    those labels sit in the prompt (the label is read from the token after its <<ENT>>)."""

    def __init__(self, tokenizer, max_width: int):
        super().__init__()
        self.k = max_width
        words = ("alpha", "gamma", "insulin", "gene", "drug")
        self.ids = {w: tokenizer.convert_tokens_to_ids(w) for w in words}

    def forward(self, batch: EncodedBatch) -> torch.Tensor:
        first = batch.input_ids.gather(1, batch.word_index)  # [B, W] first sub-token id per word
        first = first.masked_fill(~batch.word_mask, -1)
        bsz, w = first.shape
        c = batch.label_mask.shape[1]
        label_word = batch.input_ids.gather(1, batch.label_index + 1)  # [B, C]
        is_gene = (label_word == self.ids["gene"]) & batch.label_mask
        is_drug = (label_word == self.ids["drug"]) & batch.label_mask
        shifted = torch.full_like(first, -1)
        shifted[:, : w - 2] = first[:, 2:]
        three = (first == self.ids["alpha"]) & (shifted == self.ids["gamma"])  # [B, W]
        one = first == self.ids["insulin"]
        logits = torch.full((bsz, w, self.k, c), -10.0)
        logits[:, :, 2, :] = torch.where(three[:, :, None] & is_gene[:, None, :], 10.0, -10.0)
        logits[:, :, 0, :] = torch.where(one[:, :, None] & is_drug[:, None, :], 8.0, -10.0)
        return logits


@pytest.fixture(scope="module")
def rule_model(tiny_uni_dir) -> NERModel:
    real = NERModel.from_pretrained(tiny_uni_dir)  # max_len 40 words, 128-token encoder
    return NERModel(RuleScorer(real.tokenizer, real.config.max_width), real.config, real.tokenizer)


def make_document(n_words: int, seed: int) -> tuple[str, list[tuple[int, int, str]]]:
    rng = random.Random(seed)
    filler = [
        "the",
        "of",
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
    ]
    parts: list[str] = []
    gold: list[tuple[int, int, str]] = []
    pos = 0
    i = 0
    while i < n_words:
        if rng.random() < 0.04:
            piece, label = (
                ("alpha beta gamma", "gene") if rng.random() < 0.6 else ("insulin", "drug")
            )
            i += len(piece.split())
        else:
            piece, label = rng.choice(filler) + rng.choice(["", ",", "", "."]), None
            i += 1 + (piece[-1] in ",.")
        sep = rng.choice([" ", " ", "  ", "\n", "\t"]) if parts else ""
        pos += len(sep)
        if label:
            gold.append((pos, pos + len(piece), label))
        parts.append(sep + piece)
        pos += len(piece)
    return "".join(parts), gold


def test_five_thousand_word_document_finds_every_entity(rule_model):
    text, gold = make_document(5000, seed=1)
    words = rule_model.pipeline.splitter(text)
    assert len(words) >= 5000 and len(gold) > 100
    ents = rule_model.predict(text, ["gene", "drug"], threshold=0.5)
    assert [(e.start, e.end, e.label) for e in ents] == gold
    assert all(text[e.start : e.end] == e.text for e in ents)


def test_entities_across_every_window_boundary(rule_model):
    # place the 3-word entity at every offset around the first window edges
    from biomedner.text.chunk import plan_windows

    base = ["the"] * 200
    windows = plan_windows(
        [1] * 200, rule_model.config.max_len, None, 2 * rule_model.config.max_width
    )
    edges = sorted({hi for _, hi in windows[:-1]} | {lo for lo, _ in windows[1:]})
    for edge in edges:
        for start in range(edge - 3, edge + 1):
            words = list(base)
            words[start : start + 3] = ["alpha", "beta", "gamma"]
            text = " ".join(words)
            ents = rule_model.predict(text, ["gene", "drug"])
            char_start = len(" ".join(words[:start])) + 1
            assert [(e.start, e.end) for e in ents] == [(char_start, char_start + 16)], (
                edge,
                start,
            )


def test_token_limit_forces_windows_even_below_max_len(rule_model):
    # 35 words that each need many sub-tokens: under max_len (40) but over 128 tokens
    text = " ".join(["zzzzqqqq"] * 30 + ["alpha", "beta", "gamma", "insulin", "x"])
    ents = rule_model.predict(text, ["gene", "drug"])
    assert [(e.text, e.label) for e in ents] == [("alpha beta gamma", "gene"), ("insulin", "drug")]


def test_many_labels_run_in_groups(rule_model):
    labels = ["gene", "drug"] + [f"made up label number {i} with several words" for i in range(30)]
    ents = rule_model.predict("the alpha beta gamma and insulin", labels)
    assert [(e.text, e.label) for e in ents] == [("alpha beta gamma", "gene"), ("insulin", "drug")]


def test_real_tiny_model_handles_a_long_document(tiny_uni_dir):
    model = NERModel.from_pretrained(tiny_uni_dir)
    text, _ = make_document(1500, seed=2)
    ents = model.predict(text, ["gene", "drug"], threshold=0.0)
    assert ents and ents[-1].end > len(text) - 200  # the end of the document was read
    assert all(text[e.start : e.end] == e.text for e in ents)
