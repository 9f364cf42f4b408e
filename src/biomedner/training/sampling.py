"""Label sampling and batch construction: examples -> (EncodedBatch, multi-hot targets).

Per example the label list is its positive labels, its explicit negatives, and about
``neg_type_ratio`` times as many negatives drawn from the stage's label pool; the list is
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

from biomedner.inference.collate import TokenizerInfo, collate, word_token_counts
from biomedner.modeling.batch import EncodedBatch
from biomedner.text.prompt import prompt_words
from biomedner.training.examples import Example


@dataclass
class BatchContext:
    tokenizer: object
    info: TokenizerInfo
    is_bi_encoder: bool
    ent_token: str
    sep_token: str
    max_width: int
    max_types: int
    neg_type_ratio: float
    shuffle_labels: bool
    label_pool: list[str]
    max_tokens: int | None  # encoder limit incl. special tokens
    num_special_tokens: int
    labels_tokenizer: object | None = None
    _cost: dict[str, int] | None = None

    def label_cost(self, labels: Sequence[str]) -> list[int]:
        """Sub-tokens of each label in a prompt (the label plus its <<ENT>> marker)."""
        if self._cost is None:
            self._cost = {}
        missing = [l for l in dict.fromkeys(labels) if l not in self._cost]
        if missing:
            for label, n in zip(missing, word_token_counts(self.tokenizer, [missing])[0].tolist()):
                self._cost[label] = int(n) + 1
        return [self._cost[l] for l in labels]


@dataclass
class TrainBatch:
    encoded: EncodedBatch
    targets: torch.Tensor  # [B, W, K, C] float, multi-hot
    valid: torch.Tensor  # [B, W, K, C] bool: real span inside the text and real label
    labels: list[list[str]]  # per example (bi-encoder: all the same list)
    label_input_ids: torch.Tensor | None = None  # bi-encoder: [C, L]
    label_attention_mask: torch.Tensor | None = None
    num_tokens: int = 0


def _shuffled(rng: np.random.Generator, items: list[str]) -> list[str]:
    return [items[i] for i in rng.permutation(len(items))] if len(items) > 1 else list(items)


def example_labels(
    ex: Example, rng: np.random.Generator, ctx: BatchContext, counts: Counter[str]
) -> list[str]:
    positives = ex.positives
    if len(positives) > ctx.max_types:
        keep = sorted(rng.choice(len(positives), ctx.max_types, replace=False).tolist())
        dropped = {positives[i] for i in range(len(positives))} - {positives[i] for i in keep}
        counts["positive_labels_cut_by_max_types"] += len(dropped)
        counts["entities_unlabelled_by_max_types"] += sum(1 for s in ex.spans if s[2] in dropped)
        positives = [positives[i] for i in keep]
    pos_set = set(positives)
    explicit = [n for n in ex.negatives if n not in pos_set]
    n_sampled = round(rng.uniform(0.0, ctx.neg_type_ratio) * max(len(positives), 1))
    sampled: list[str] = []
    if n_sampled > 0 and ctx.label_pool:
        taken = set(explicit) | pos_set
        draw = rng.choice(
            len(ctx.label_pool), min(len(ctx.label_pool), n_sampled + len(taken)), replace=False
        )
        for i in draw.tolist():
            label = ctx.label_pool[i]
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
    if ctx.max_tokens is None:
        return labels
    room = ctx.max_tokens - ctx.num_special_tokens - ex.num_tokens - 1  # <<SEP>>
    costs = dict(zip(labels, ctx.label_cost(labels)))
    total = sum(costs.values())
    if total <= room:
        return labels
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


def build_batch(
    examples: Sequence[Example], rng: np.random.Generator, ctx: BatchContext, counts: Counter[str]
) -> TrainBatch:
    per_example = [example_labels(ex, rng, ctx, counts) for ex in examples]
    if ctx.is_bi_encoder:
        shared = list(dict.fromkeys(l for ls in per_example for l in ls))
        shared = _shuffled(rng, shared) if ctx.shuffle_labels else sorted(shared)
        if not shared:
            shared = [ctx.label_pool[0]]
        label_lists = [shared] * len(examples)
        sequences = [list(ex.words) for ex in examples]
        prompt_lengths = [0] * len(examples)
    else:
        label_lists = [_fit_prompt(ex, ls, ctx, counts) for ex, ls in zip(examples, per_example)]
        label_lists = [ls if ls else [ctx.label_pool[0]] for ls in label_lists]
        sequences = []
        prompt_lengths = []
        for ex, ls in zip(examples, label_lists):
            prompt = prompt_words(ls, ctx.ent_token, ctx.sep_token)
            sequences.append(prompt + list(ex.words))
            prompt_lengths.append(len(prompt))
    encoded = collate(
        ctx.tokenizer, sequences, prompt_lengths, [len(ls) for ls in label_lists], ctx.info
    )
    b = len(examples)
    w = max(len(ex.words) for ex in examples)
    c = max(len(ls) for ls in label_lists)
    k = ctx.max_width
    targets = torch.zeros((b, w, k, c), dtype=torch.float32)
    num_words = torch.tensor([len(ex.words) for ex in examples])
    num_labels = torch.tensor([len(ls) for ls in label_lists])
    for i, (ex, ls) in enumerate(zip(examples, label_lists)):
        index = {l: j for j, l in enumerate(ls)}
        for s, e, lab in ex.spans:
            j = index.get(lab)
            if j is not None:
                targets[i, s, e - s - 1, j] = 1.0
    starts = torch.arange(w).view(1, w, 1)
    widths = torch.arange(k).view(1, 1, k)
    span_ok = (starts + widths) < num_words.view(b, 1, 1)  # [B, W, K]
    label_ok = torch.arange(c).view(1, c) < num_labels.view(b, 1)  # [B, C]
    valid = span_ok.unsqueeze(-1) & label_ok.view(b, 1, 1, c)
    batch = TrainBatch(
        encoded=encoded,
        targets=targets,
        valid=valid,
        labels=label_lists,
        num_tokens=int(encoded.attention_mask.sum()),
    )
    if ctx.is_bi_encoder:
        enc = ctx.labels_tokenizer(
            label_lists[0], padding="longest", truncation=True, return_tensors="pt"
        )
        batch.label_input_ids = enc["input_ids"]
        batch.label_attention_mask = enc["attention_mask"]
    counts["label_slots"] += int(num_labels.sum())
    return batch
