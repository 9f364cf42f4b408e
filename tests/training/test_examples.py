"""Records -> word examples: boundaries, counts, windows; batches -> targets; the loss."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from biomedner.config import ModelConfig
from biomedner.data.records import TrainingRecord
from biomedner.errors import FormatError
from biomedner.text.pipeline import TextPipeline
from biomedner.training.examples import ExampleSettings, build_examples
from biomedner.training.losses import FocalSpanLoss


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from tests.training.conftest import minilm_dir

    return AutoTokenizer.from_pretrained(str(minilm_dir()))


def pipeline(tokenizer, *, max_width=4, max_words=50, splitter="whitespace") -> TextPipeline:
    """No encoder config: no token limit, so windows are cut by words only."""
    config = ModelConfig(
        architecture="bi_encoder",
        model_name="test",
        labels_encoder="test",
        hidden_size=8,
        max_width=max_width,
        max_len=max_words,
        words_splitter_type=splitter,
    )
    return TextPipeline(config, tokenizer, tokenizer)


def _record(text, spans, rid="r1"):
    ents = []
    for mention, label in spans:
        start = text.index(mention)
        ents.append({"start": start, "end": start + len(mention), "label": label})
    return TrainingRecord(id=rid, text=text, entities=ents)


@pytest.mark.minilm
def test_unaligned_entities_counted_per_policy(tokenizer):
    # "IL" inside "IL-2-dependent" is not a word of the default splitter
    rec = _record("IL-2-dependent growth of T cells", [("IL", "protein"), ("T cells", "cell type")])
    settings = ExampleSettings(unaligned="skip")
    counts: Counter[str] = Counter()
    [ex] = build_examples([rec], pipeline(tokenizer), settings, counts)
    assert ex.spans == ((3, 5, "cell type"),)
    assert counts["entities_unaligned_skipped"] == 1 and counts["entities_used"] == 1

    counts = Counter()
    expand = ExampleSettings(unaligned="expand")
    [ex] = build_examples([rec], pipeline(tokenizer), expand, counts)
    assert (0, 1, "protein") in ex.spans  # widened to the word "IL-2-dependent"
    assert counts["entities_unaligned_expanded"] == 1

    counts = Counter()
    [ex] = build_examples([rec], pipeline(tokenizer, splitter="biomedical"), settings, counts)
    assert (0, 1, "protein") in ex.spans and ex.words[0] == "IL"
    assert counts["entities_unaligned_skipped"] == 0

    with pytest.raises(FormatError, match=r"record 'r1': entity 'IL' .*biomedical"):
        build_examples([rec], pipeline(tokenizer), ExampleSettings(unaligned="error"), Counter())


@pytest.mark.minilm
def test_too_wide_counted_and_long_texts_windowed(tokenizer):
    text = " ".join(f"w{i}" for i in range(60)) + " acute lymphoblastic leukemia ."
    rec = _record(
        text, [("w3", "thing"), ("w58", "thing"), ("acute lymphoblastic leukemia", "disease")]
    )
    counts: Counter[str] = Counter()
    examples = build_examples(
        [rec], pipeline(tokenizer, max_width=2, max_words=20), ExampleSettings(), counts
    )
    assert len(examples) > 3 and all(len(ex.words) <= 20 for ex in examples)
    assert counts["entities_wider_than_max_width_skipped"] == 1
    assert counts["entities_used"] == 2 and counts.get("entities_lost_in_windowing", 0) == 0
    assert [ex.id for ex in examples][:2] == ["r1@0", "r1@1"]
    found = {(ex.words[s:e], lab) for ex in examples for s, e, lab in ex.spans}
    assert found == {(("w3",), "thing"), (("w58",), "thing")}


def test_focal_loss_masks_and_matches_bce():
    logits = torch.tensor([[[[2.0, -1.0]], [[0.5, 3.0]]]])  # [1, 2, 1, 2]
    targets = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])
    valid = torch.tensor([[[[True, True]], [[True, False]]]])
    plain = FocalSpanLoss(alpha=-1, gamma=0)(logits, targets, valid)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[valid], targets[valid], reduction="sum"
    )
    assert torch.allclose(plain, expected)
    focal = FocalSpanLoss(alpha=0.75, gamma=2)(logits, targets, valid)
    assert focal < plain
    assert FocalSpanLoss(reduction="mean")(logits, targets, valid) > 0
    with pytest.raises(ValueError):
        FocalSpanLoss(reduction="none")


def test_bucketed_stream_is_deterministic_and_resumable():
    from biomedner.training.batching import StageStream
    from biomedner.training.examples import Example

    def ex(i, n):
        return Example(id=f"e{i}", words=("w",) * n, spans=(), negatives=(), num_tokens=n)

    sources = [[ex(i, (i * 7) % 23 + 1) for i in range(40)], [ex(100 + i, 3) for i in range(5)]]
    a = StageStream(sources, [3.0, 1.0], batch_size=4, bucket_batches=2, seed=1, stage=0)
    first = [a.next() for _ in range(30)]
    b = StageStream(sources, [3.0, 1.0], batch_size=4, bucket_batches=2, seed=1, stage=0)
    for _ in range(12):
        b.next()
    c = StageStream(sources, [3.0, 1.0], batch_size=4, bucket_batches=2, seed=1, stage=0)
    c.load_state_dict(b.state_dict())
    rest = [c.next() for _ in range(18)]
    assert [(s, [e.id for e in exs]) for s, exs in first[12:]] == [
        (s, [e.id for e in exs]) for s, exs in rest
    ]
    # length bucketing: within a batch lengths are close (sorted pools of 8)
    spreads = [
        max(e.num_tokens for e in exs) - min(e.num_tokens for e in exs)
        for s, exs in first
        if s == 0
    ]
    assert np.mean(spreads) < 8
    assert {s for s, _ in first} == {0, 1}
