"""Label sampling and batch construction: examples -> (EncodedBatch, multi-hot targets).

Per example the label list is its positive labels, its explicit negatives, and about
``neg_type_ratio`` times as many negatives drawn from the stage's label pool, or, with
``negatives_in_batch``, from the labels of the batch's other examples; the list is
shuffled (``shuffle_labels``) so the model cannot learn label positions (unshuffled lists are
sorted), and capped at ``max_types``. Caps never drop silently: positive labels cut by ``max_types`` or by the
encoder's token limit are counted. Bi-encoder batches share one label list (the union), encoded
once by the label tower.

All randomness comes from the ``numpy.random.Generator`` passed in, which the trainer seeds from
(seed, stage, micro-batch index): a resumed run draws exactly the same labels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from biomedner.decoding import label_mask, span_mask
from biomedner.modeling.batch import EncodedBatch
from biomedner.text.pipeline import TextPipeline
from biomedner.training.examples import Example


@dataclass
class BatchContext:
    pipeline: TextPipeline
    max_types: int
    neg_type_ratio: float
    shuffle_labels: bool
    label_pool: list[str]  # empty: this source gets no sampled negatives
    negatives_in_batch: bool = False  # draw from the other examples' labels instead of the pool
    negatives_per: str = "type"  # "mention": gliner's count, randint(0, ratio) x mentions


@dataclass
class TrainBatch:
    encoded: EncodedBatch  # bi-encoder: carries the shared label list's tokens
    targets: torch.Tensor  # [B, W, K, C] float, multi-hot
    valid: torch.Tensor  # [B, W, K, C] bool: real span inside the text and real label
    labels: list[list[str]]  # per example (bi-encoder: all the same list)
    example_ids: list[str]
    num_tokens: int = 0


def _shuffled(rng: np.random.Generator, items: list[str]) -> list[str]:
    return [items[i] for i in rng.permutation(len(items))] if len(items) > 1 else list(items)


def example_labels(
    ex: Example,
    rng: np.random.Generator,
    ctx: BatchContext,
    counts: Counter[str],
    pool: list[str] | None = None,
) -> list[str]:
    """``pool``: where negatives are drawn from, the context's label pool by default."""
    pool = ctx.label_pool if pool is None else pool
    positives = ex.positives
    if len(positives) > ctx.max_types:
        keep = sorted(rng.choice(len(positives), ctx.max_types, replace=False).tolist())
        dropped = {positives[i] for i in range(len(positives))} - {positives[i] for i in keep}
        counts["positive_labels_cut_by_max_types"] += len(dropped)
        counts["entities_unlabelled_by_max_types"] += sum(1 for s in ex.spans if s[2] in dropped)
        positives = [positives[i] for i in keep]
    pos_set = set(positives)
    explicit = [n for n in ex.negatives if n not in pos_set]
    if ctx.negatives_per == "mention":
        n_sampled = int(rng.integers(0, int(ctx.neg_type_ratio) + 1)) * len(ex.spans)
    else:
        n_sampled = round(rng.uniform(0.0, ctx.neg_type_ratio) * max(len(positives), 1))
    sampled: list[str] = []
    if n_sampled > 0 and pool:
        taken = set(explicit) | pos_set
        draw = rng.choice(len(pool), min(len(pool), n_sampled + len(taken)), replace=False)
        for i in draw.tolist():
            label = pool[i]
            if label not in taken:
                sampled.append(label)
                taken.add(label)
            if len(sampled) >= n_sampled:
                break
    negatives = _shuffled(rng, explicit) + sampled
    negatives = negatives[: max(0, ctx.max_types - len(positives))]
    labels = positives + negatives
    # unshuffled lists are sorted, the order evaluation uses (benchmark labels are sorted)
    labels = _shuffled(rng, labels) if ctx.shuffle_labels else sorted(labels)
    if not labels:  # a text with no entities and nothing to sample: one negative keeps it useful
        labels = [ctx.label_pool[int(rng.integers(len(ctx.label_pool)))]] if ctx.label_pool else []
    return labels


def _fit_prompt(
    ex: Example, labels: list[str], ctx: BatchContext, counts: Counter[str]
) -> list[str]:
    """Uni-encoder with an absolute-position encoder: drop negatives, then positives, until the
    prompt and the window fit the encoder (windows were planned with a prompt reserve, so this
    only triggers for very long label lists)."""
    pipeline = ctx.pipeline
    budget = pipeline.token_budget(0)
    if budget is None:
        return labels
    room = budget - ex.num_tokens
    total = pipeline.prompt_tokens(labels)
    if total <= room:
        return labels
    costs = dict(zip(labels, pipeline.label_costs(labels)))
    positives = {s[2] for s in ex.spans}
    kept = list(labels)
    for group in (False, True):  # negatives first
        for label in [l for l in reversed(kept) if (l in positives) == group]:
            if total <= room:
                break
            kept.remove(label)
            total -= costs[label]
            key = "positive" if group else "negative"
            counts[f"{key}_labels_cut_by_token_limit"] += 1
            if group:
                counts["entities_unlabelled_by_token_limit"] += sum(
                    1 for s in ex.spans if s[2] == label
                )
    return kept


def _batch_pools(examples: Sequence[Example], ctx: BatchContext) -> list[list[str] | None]:
    """Per example, the labels its negatives come from (None: the context's pool)."""
    if not ctx.negatives_in_batch or not ctx.label_pool:
        return [None] * len(examples)
    own = [set(ex.positives) for ex in examples]
    return [sorted(set().union(*own[:i], *own[i + 1 :])) for i in range(len(examples))]


def build_batch(
    examples: Sequence[Example], rng: np.random.Generator, ctx: BatchContext, counts: Counter[str]
) -> TrainBatch:
    pools = _batch_pools(examples, ctx)
    per_example = [example_labels(ex, rng, ctx, counts, pool) for ex, pool in zip(examples, pools)]
    if ctx.pipeline.labels_in_prompt:
        label_lists = [_fit_prompt(ex, ls, ctx, counts) for ex, ls in zip(examples, per_example)]
        label_lists = [ls if ls else [ctx.label_pool[0]] for ls in label_lists]
    else:  # the label encoder runs once per batch, over the union of the examples' labels
        shared = list(dict.fromkeys(l for ls in per_example for l in ls))
        shared = _shuffled(rng, shared) if ctx.shuffle_labels else sorted(shared)
        label_lists = [shared or [ctx.label_pool[0]]] * len(examples)
    return assemble_batch(examples, label_lists, ctx.pipeline, counts)


def assemble_batch(
    examples: Sequence[Example],
    label_lists: list[list[str]],
    pipeline: TextPipeline,
    counts: Counter[str],
) -> TrainBatch:
    """The batch for examples whose label lists are chosen: prompt tokens, multi-hot targets of
    every gold span whose label is listed, and the mask of real spans and labels."""
    encoded = pipeline.collate_windows([ex.words for ex in examples], label_lists)
    b = len(examples)
    w = max(len(ex.words) for ex in examples)
    c = max(len(ls) for ls in label_lists)
    k = pipeline.max_width
    targets = torch.zeros((b, w, k, c), dtype=torch.float32)
    for i, (ex, ls) in enumerate(zip(examples, label_lists)):
        index = {l: j for j, l in enumerate(ls)}
        for s, e, lab in ex.spans:
            j = index.get(lab)
            if j is not None:
                targets[i, s, e - s - 1, j] = 1.0
    num_labels = [len(ls) for ls in label_lists]
    spans_ok = span_mask([len(ex.words) for ex in examples], w, k)  # [B, W, K]
    valid = spans_ok.unsqueeze(-1) & label_mask(num_labels, c).view(b, 1, 1, c)
    counts["label_slots"] += sum(num_labels)
    return TrainBatch(
        encoded=encoded,
        targets=targets,
        valid=valid,
        labels=label_lists,
        example_ids=[ex.id for ex in examples],
        num_tokens=int(encoded.attention_mask.sum()),
    )
