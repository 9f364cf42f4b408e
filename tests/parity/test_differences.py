"""One test per row of the README's "Differences from gliner" table, run against the installed
gliner 0.2.29 on the fixture checkpoints, so the table stays true. Each test shows gliner's
behaviour and biomedner's answer to the same input. (The row on words without sub-tokens is
``test_parity_gliner.py::test_words_without_sub_tokens``.)"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.biomedical_texts import LABELS_3, LONG_DOCUMENTS, SENTENCES
from tests.parity.conftest import biomedner_model, gliner_model

pytestmark = pytest.mark.parity

WORD_RE = re.compile(r"\w+(?:[-_]\w+)*|\S")  # gliner's default word splitter


def _caught(call: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


def test_row_long_texts_cut_at_max_len_words(minilm_uni_ckpt: Path) -> None:
    """gliner: a text over ``max_len`` (384) words is cut there, with a warning only."""
    text = " ".join(LONG_DOCUMENTS[:2])
    words = list(WORD_RE.finditer(text))
    assert len(words) > 500
    cut = words[383].end()  # end of word 384
    found, messages = _caught(lambda: gliner_model(minilm_uni_ckpt).inference([text], LABELS_3)[0])
    assert any(f"truncated to {384}" in m for m in messages), messages
    assert found and max(e["end"] for e in found) <= cut
    ours = biomedner_model(minilm_uni_ckpt).predict(text, LABELS_3)
    assert sum(e.start >= cut for e in ours) > 20
    assert max(e.end for e in ours) > len(text) - 100


def test_row_words_past_the_token_limit_are_not_read(minilm_uni_ckpt: Path) -> None:
    """gliner: under 384 words but over MiniLM's 512 sub-tokens, the tokenizer cuts the input
    without a word; the words past the cut still get entities, the same whatever they say."""
    head = "dapagliflozin lowers glucose in kidney disease patients " * 45
    tail_a = "insulin resistance causes diabetes " * 5
    tail_b = "aspirin resistance lowers migraine " * 5  # same word lengths, other words
    texts = [head + tail_a, head + tail_b]
    assert len(WORD_RE.findall(texts[0])) < 384
    tokenizer = gliner_model(minilm_uni_ckpt).data_processor.transformer_tokenizer
    assert len(tokenizer(head.split(), is_split_into_words=True)["input_ids"]) > 512
    (found_a, found_b), messages = _caught(
        lambda: gliner_model(minilm_uni_ckpt).inference(texts, LABELS_3, batch_size=1)
    )
    assert not [m for m in messages if "trunc" in m.lower()]

    def tail(entities: list[dict]) -> list[tuple]:
        return [
            (e["start"], e["end"], e["label"], e["score"]) for e in entities if e["end"] > len(head)
        ]

    assert tail(found_a) and tail(found_a) == tail(found_b)
    model = biomedner_model(minilm_uni_ckpt)
    ours_a, ours_b = (model.predict(t, LABELS_3) for t in texts)
    assert [e.text for e in ours_a if e.end > len(head)] != [
        e.text for e in ours_b if e.end > len(head)
    ]


def test_row_loading_is_not_strict(minilm_uni_ckpt: Path, tmp_path: Path) -> None:
    """gliner: a missing tensor keeps its random initial value and an unexpected one is
    ignored, with no message naming either."""
    from safetensors.torch import load_file

    from biomedner.errors import CheckpointError
    from tests.fixtures.checkpoints import load_gliner
    from tests.fixtures.corrupt import add_state_dict_key, drop_state_dict_key

    key = "span_rep_layer.span_rep_layer.out_project.0.weight"
    original = load_file(minilm_uni_ckpt / "model.safetensors")[key]
    missing = drop_state_dict_key(minilm_uni_ckpt, tmp_path / "missing", key)
    extra = add_state_dict_key(minilm_uni_ckpt, tmp_path / "extra", "extra.weight")
    for path, name in ((missing, key), (extra, "extra.weight")):
        loaded, messages = _caught(lambda path=path: load_gliner(path))
        assert not [m for m in messages if name in m or "missing" in m or "unexpected" in m]
        with pytest.raises(CheckpointError, match=re.escape(name)):
            biomedner_model.__wrapped__(path)
        if path is missing:
            assert not loaded.model.state_dict()[key].equal(original)  # random, not the weights


def test_row_label_vectors_are_not_tied_to_their_labels(
    minilm_bi_ckpt: Path, minilm_uni_ckpt: Path
) -> None:
    """gliner 0.2.29 does use precomputed bi-encoder label embeddings (an earlier version of
    this table said it recomputed them), but as a bare tensor: vectors in another order than
    the label list silently swap the labels. biomedner's LabelSet holds labels and vectors
    together and another model refuses it."""
    from biomedner.errors import InputError

    gliner = gliner_model(minilm_bi_ckpt)
    texts = SENTENCES[:4]
    vectors, _ = _caught(lambda: gliner.encode_labels(LABELS_3))
    plain = gliner.inference(texts, LABELS_3)
    with_vectors = gliner.batch_predict_with_embeds(texts, vectors, LABELS_3)
    swapped = gliner.batch_predict_with_embeds(texts, vectors.flip(0), LABELS_3)

    def key(rows: list[list[dict]], rename: dict[str, str] | None = None) -> list[list[tuple]]:
        rename = rename or {}
        return [
            [
                (e["start"], e["end"], rename.get(e["label"], e["label"]), round(e["score"], 4))
                for e in row
            ]
            for row in rows
        ]

    assert key(with_vectors) == key(plain) and any(plain)
    flip = dict(zip(LABELS_3, reversed(LABELS_3)))
    assert key(swapped, flip) == key(plain)  # same spans, labels silently exchanged
    ours = biomedner_model(minilm_bi_ckpt)
    label_set = ours.encode_labels(LABELS_3)
    assert ours.predict_batch(texts, label_set) == ours.predict_batch(texts, LABELS_3)
    other = biomedner_model.__wrapped__(minilm_bi_ckpt)
    with pytest.raises(InputError, match="another model"):
        other.predict(texts[0], label_set)


def test_row_duplicate_labels(minilm_uni_ckpt: Path) -> None:
    """gliner drops a repeated label without a word; biomedner refuses the list."""
    from biomedner.errors import InputError

    texts = SENTENCES[:6]
    repeated = ["disease", "chemical", "disease"]
    (with_repeat, messages) = _caught(
        lambda: gliner_model(minilm_uni_ckpt).inference(texts, repeated)
    )
    assert with_repeat == gliner_model(minilm_uni_ckpt).inference(texts, ["disease", "chemical"])
    assert not [m for m in messages if "duplicate" in m.lower() or "disease" in m]
    with pytest.raises(InputError, match="'disease' is given twice"):
        biomedner_model(minilm_uni_ckpt).predict_batch(texts, repeated)


def test_row_training_loss_clamps_probabilities() -> None:
    """gliner's focal loss clamps probabilities at 1e-6 inside the logarithms: a gold span scored
    below that (or a negative above 1 - 1e-6) adds a constant and no gradient. biomedner's loss
    is the exact cross-entropy unless ``optim.prob_floor`` is set."""
    import torch
    from gliner.modeling.loss_functions import focal_loss_with_logits

    from biomedner.training.losses import FocalSpanLoss

    logits = torch.tensor([-20.0, 20.0], requires_grad=True)
    targets = torch.tensor([1.0, 0.0])
    (theirs,) = torch.autograd.grad(
        focal_loss_with_logits(logits, targets, alpha=0.75, gamma=0.0, reduction="sum"), logits
    )
    assert theirs.tolist() == [0.0, 0.0]
    cells = (logits.view(1, 1, 1, 2), targets.view(1, 1, 1, 2), torch.ones(1, 1, 1, 2).bool())
    (ours,) = torch.autograd.grad(FocalSpanLoss(0.75, 0.0, "sum")(*cells), logits)
    assert ours.tolist() == pytest.approx([-0.75, 0.25], abs=1e-6)
    (floored,) = torch.autograd.grad(
        FocalSpanLoss(0.75, 0.0, "sum", prob_floor=1e-6)(*cells), logits
    )
    assert floored.tolist() == [0.0, 0.0]
