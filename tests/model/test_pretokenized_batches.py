"""Inference tokenizes each text once and pads pre-tokenized rows itself; every batch must equal
what the tokenizer's own padded call gives for the window's words (prompt + text words)."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
import torch

from biomedner import NERModel
from biomedner.inference.predictor import length_batches
from biomedner.text.encoding import EncodedRow, collate_rows, encode_row
from biomedner.text.pipeline import Window
from biomedner.text.words import Words

SENTENCES = [
    "BRCA1 mutations raise the risk of breast cancer.",
    "IL-2-dependent   growth of CD4+ cells\twas blocked by aspirin (5 mg/kg).",
    "Gene.",
    "TNF-α and µ-opioid receptors ± insulin in HeLa cells.",
    "",
]
LABELS = ["gene", "disease", "drug dose"]
# U+200B alone between spaces is a word of the splitter that the tokenizer turns into nothing
ZERO_WIDTH = "insulin \u200b gene of the \u200b tumor receptor \u200b"


def long_text(n_words: int) -> str:
    rng = random.Random(n_words)
    vocab = ["the", "gene", "protein", "alpha", "beta", "insulin", "cd4", "hela", "xyz", "12,5"]
    return " ".join(rng.choice(vocab) for _ in range(n_words))


def expected_batch(model: NERModel, sequences: list[list[str]], prompt_lengths: list[int]):
    """The tokenizer's padded call and the index maps read off it, position by position."""
    enc = model.tokenizer(
        sequences, is_split_into_words=True, padding="longest", return_tensors="pt"
    )
    info = model.pipeline.info
    word_index, label_index = [], []
    for b, prompt_len in enumerate(prompt_lengths):
        word_ids = enc.word_ids(b)
        word_index.append(
            [
                pos
                for pos, w in enumerate(word_ids)
                if w is not None and w >= prompt_len and (pos == 0 or word_ids[pos - 1] != w)
            ]
        )
        ids = enc["input_ids"][b].tolist()
        label_index.append(
            [pos + info.label_offset for pos, t in enumerate(ids) if t == info.class_token_id]
        )
    return enc["input_ids"], enc["attention_mask"], _padded(word_index), _padded(label_index)


def _padded(rows: list[list[int]]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [0] * (width - len(r)) for r in rows], dtype=torch.long)


def check_batches(
    model: NERModel, texts: list[str], labels: list[str], batch_size: int = 4
) -> tuple[list[Words], list[Window]]:
    pipeline = model.pipeline
    prepared = pipeline.prepare(texts, [labels] * len(texts))
    words, windows, rows = prepared.words, prepared.windows, prepared.rows
    batches = length_batches(windows, batch_size)
    assert sorted(i for b in batches for i in b) == list(range(len(windows)))
    for ids in batches:
        chunk = [windows[i] for i in ids]
        got = pipeline.collate_rows([rows[i] for i in ids])
        sequences = [w.prompt.words + words[w.text].tokens[w.lo : w.hi] for w in chunk]
        input_ids, attention_mask, word_index, label_index = expected_batch(
            model, sequences, [len(w.prompt.words) for w in chunk]
        )
        assert torch.equal(got.input_ids, input_ids)
        assert torch.equal(got.attention_mask, attention_mask)
        assert torch.equal(got.word_index, word_index)
        assert torch.equal(got.label_index, label_index)
        assert got.num_words == [w.hi - w.lo for w in chunk]
        assert got.label_mask.sum(-1).tolist() == (
            [0] * len(chunk)
            if not pipeline.labels_in_prompt
            else [len(w.group.labels) for w in chunk]
        )
    return words, windows


@pytest.mark.parametrize("name", ["uni", "bi", "uni_left_padded"])
def test_sentences(name, request):
    model = request.getfixturevalue(name)
    _, windows = check_batches(model, SENTENCES, LABELS)
    assert len(windows) == len(SENTENCES) - 1  # the empty text has none


@pytest.mark.parametrize("name", ["uni", "bi"])
def test_word_without_sub_tokens(name, request):
    model = request.getfixturevalue(name)
    texts = [ZERO_WIDTH, SENTENCES[0], "\u200b"]
    words, windows = check_batches(model, texts, LABELS)
    assert words[0].tokens == ["insulin", "gene", "of", "the", "tumor", "receptor"]
    assert len(words[2]) == 0 and {w.text for w in windows} == {0, 1}


@pytest.mark.parametrize("name", ["uni", "bi", "uni_left_padded"])
def test_long_text_in_several_windows(name, request):
    model = request.getfixturevalue(name)
    texts = [long_text(150), SENTENCES[1], long_text(90) + " \u200b " + long_text(30)]
    _, windows = check_batches(model, texts, LABELS)
    assert sum(w.text == 0 for w in windows) > 1 and sum(w.text == 2 for w in windows) > 1


def test_label_groups(uni):
    # ~4 sub-tokens per label with its marker: 30 labels overflow half the 128-token encoder
    labels = [f"gene {i}" for i in range(30)]
    texts = [SENTENCES[0], long_text(100), ZERO_WIDTH]
    _, windows = check_batches(uni, texts, labels, batch_size=3)
    assert len({w.group.offset for w in windows}) > 1


def test_encode_row(uni):
    """Word starts skip the prompt and words without sub-tokens; label positions are the
    markers moved by ``label_offset``; a prompt whose marker count is off is refused."""
    info = dataclasses.replace(uni.pipeline.info, label_offset=1)
    ent = info.class_token_id
    # [CLS] <<ENT>> label <<ENT>> label <<SEP>> w0 w0 w2 [SEP]: word 1 has no sub-token
    ids = np.array([2, ent, 40, ent, 41, 42, 50, 51, 52, 3])
    word_ids = np.array([-1, 0, 1, 2, 3, 4, 5, 5, 7, -1])
    row = encode_row(ids, word_ids, 5, 2, info)
    assert row.word_starts.tolist() == [6, 8]
    assert row.label_starts.tolist() == [2, 4]
    with pytest.raises(RuntimeError, match="2 label markers for 3 labels"):
        encode_row(ids, word_ids, 5, 3, info)


def test_rows_of_different_lengths_pad_right(uni):
    info = uni.pipeline.info
    rows = [
        EncodedRow(np.array([5, 6, 7]), np.array([1, 2]), np.zeros(0, dtype=np.int64)),
        EncodedRow(np.array([5, 8]), np.array([1]), np.zeros(0, dtype=np.int64)),
    ]
    batch = collate_rows(rows, info)
    pad = info.pad_token_id
    assert batch.input_ids.tolist() == [[5, 6, 7], [5, 8, pad]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch.word_index.tolist() == [[1, 2], [1, 0]]
    assert batch.word_mask.tolist() == [[True, True], [True, False]]
    assert batch.label_index.shape == (2, 0)
