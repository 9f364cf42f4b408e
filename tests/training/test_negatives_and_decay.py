"""In-batch negative labels (stages.negatives_from = "batch") and which parameters weight decay
leaves alone."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from biomedner.training.config import OptimConfig, config_from_dict
from biomedner.training.examples import Example
from biomedner.training.optim import build_optimizer, parameter_groups
from biomedner.training.sampling import BatchContext, build_batch
from tests.training.conftest import tiny_config


def _example(i: int, labels: list[str]) -> Example:
    words = tuple(f"w{i}_{k}" for k in range(6))
    return Example(
        id=str(i), words=words, spans=tuple((k, k + 1, lab) for k, lab in enumerate(labels)),
        negatives=(), num_tokens=6,
    )  # fmt: skip


@pytest.fixture(scope="module")
def model(tiny_backbone, tmp_path_factory):
    from biomedner.training.setup import build_model

    tmp = tmp_path_factory.mktemp("negatives")
    records = tmp / "r.jsonl"
    records.write_text('{"id": "a", "text": "x", "entities": []}\n', encoding="utf-8")
    config = config_from_dict(tiny_config(tiny_backbone, records, tmp / "run"))
    return build_model(config, torch.device("cpu"))


BATCH = [["gene", "disease"], ["chemical"], ["cell line", "gene"]]
POOL = ["gene", "disease", "chemical", "cell line", "river", "city", "mountain", "actor"]


def _labels(model, in_batch: bool, ratio: float, seed: int, per: str = "type") -> list[list[str]]:
    ctx = BatchContext(model.pipeline, max_types=25, neg_type_ratio=ratio, shuffle_labels=True,
                       label_pool=POOL, negatives_in_batch=in_batch, negatives_per=per)  # fmt: skip
    examples = [_example(i, labels) for i, labels in enumerate(BATCH)]
    return build_batch(examples, np.random.default_rng(seed), ctx, Counter()).labels


def test_in_batch_negatives_come_only_from_the_other_examples(model):
    for seed in range(20):
        for own, got in zip(BATCH, _labels(model, True, 1.0, seed)):
            others = {lab for labels in BATCH if labels is not own for lab in labels}
            assert set(own) <= set(got)
            assert set(got) - set(own) <= others - set(own)
    # a large ratio asks for more than the batch holds: every other example's label, no more
    assert [sorted(ls) for ls in _labels(model, True, 50.0, 0)] == [
        ["cell line", "chemical", "disease", "gene"],
        ["cell line", "chemical", "disease", "gene"],
        ["cell line", "chemical", "disease", "gene"],
    ]


def test_gliners_count_gives_none_or_one_per_mention(model):
    counts: Counter[bool] = Counter()
    for seed in range(40):
        for own, got in zip(BATCH, _labels(model, False, 1.0, seed, per="mention")):
            extra = len(got) - len(set(own))
            assert extra in (0, len(own))  # each example's mentions have distinct labels
            counts[extra == 0] += 1
    assert 0.3 < counts[True] / sum(counts.values()) < 0.7  # randint(0, 1): half have none


def test_pool_negatives_reach_labels_no_example_of_the_batch_has(model):
    drawn = {lab for seed in range(20) for ls in _labels(model, False, 3.0, seed) for lab in ls}
    assert drawn & {"river", "city", "mountain", "actor"}


def test_an_empty_pool_still_means_no_sampled_negatives_in_batch_mode(model):
    ctx = BatchContext(model.pipeline, max_types=25, neg_type_ratio=50.0, shuffle_labels=False,
                       label_pool=[], negatives_in_batch=True)  # fmt: skip
    examples = [_example(i, labels) for i, labels in enumerate(BATCH)]
    got = build_batch(examples, np.random.default_rng(0), ctx, Counter()).labels
    assert got == [sorted(set(labels)) for labels in BATCH]


def test_biases_and_layer_norms_are_not_decayed(model):
    optim = OptimConfig(encoder_lr=1e-5, encoder_weight_decay=0.1, head_lr=1e-4,
                        head_weight_decay=0.01)  # fmt: skip
    module = model.module
    names = {id(p): n for n, p in module.named_parameters()}
    groups = parameter_groups(module, optim)
    seen = set()
    for group in groups:
        for p in group["params"]:
            name = names[id(p)]
            seen.add(name)
            is_encoder = name.startswith(("encoder.", "label_encoder."))
            assert group["lr"] == (1e-5 if is_encoder else 1e-4), name
            exempt = "bias" in name.split(".")[-1] or "LayerNorm" in name or "norm" in name
            expected = 0.0 if exempt else (0.1 if is_encoder else 0.01)
            assert group["weight_decay"] == expected, name
    assert seen == {n for n, p in module.named_parameters() if p.requires_grad}
    assert groups[0]["lr"] == 1e-5 and groups[-1]["lr"] == 1e-4  # what the training log reads
    decayed = {names[id(p)] for g in groups if g["weight_decay"] > 0 for p in g["params"]}
    assert any(n.endswith("query.weight") for n in decayed)
    assert not any(n.endswith("LayerNorm.weight") or n.endswith(".bias") for n in decayed)
    assert isinstance(build_optimizer(module, optim), torch.optim.AdamW)


def test_prob_floor_stops_the_pull_of_a_label_the_model_is_sure_is_wrong():
    from biomedner.training.losses import FocalSpanLoss

    logits = torch.tensor([-20.0, -5.0, 20.0, 5.0], requires_grad=True).view(1, 1, 1, 4)
    targets = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 1, 4)
    valid = torch.ones_like(targets, dtype=torch.bool)
    exact = FocalSpanLoss(0.75, 0.0, "sum")(logits, targets, valid)
    (g_exact,) = torch.autograd.grad(exact, logits)
    floored = FocalSpanLoss(0.75, 0.0, "sum", prob_floor=1e-6)(logits, targets, valid)
    (g_floor,) = torch.autograd.grad(floored, logits)
    cap = -np.log(1e-6)
    assert float(exact.detach()) == pytest.approx(0.75 * 20 + 0.75 * 5.0067 + 0.25 * 20 + 0.25 * 5.0067,
                                         rel=1e-4)  # fmt: skip
    assert float(floored.detach()) == pytest.approx(0.75 * cap + 0.75 * 5.0067 + 0.25 * cap + 0.25 * 5.0067,
                                           rel=1e-4)  # fmt: skip
    # the sure-wrong cells (p < 1e-6 for a positive, p > 1 - 1e-6 for a negative) stop pulling
    assert g_floor.flatten()[[0, 2]].tolist() == [0.0, 0.0]
    assert g_exact.flatten()[0] == pytest.approx(-0.75, abs=1e-6)
    assert g_exact.flatten()[2] == pytest.approx(0.25, abs=1e-6)
    # the others are untouched
    assert torch.equal(g_floor.flatten()[[1, 3]], g_exact.flatten()[[1, 3]])


def test_gliners_count_needs_a_whole_ratio():
    with pytest.raises(ValueError, match="whole number with negatives_per = 'mention'"):
        OptimConfig(negatives_per="mention", neg_type_ratio=0.5)
    assert OptimConfig(negatives_per="mention", neg_type_ratio=2.0).neg_type_ratio == 2.0
