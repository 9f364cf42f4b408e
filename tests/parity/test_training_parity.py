"""Training against the reference: from the same weights, on the same windows with the same label
lists, biomedner's training loss and every parameter's gradient equal those of gliner's model and
loss (focal, alpha 0.75, summed, as gliner's Trainer computes it, with gliner's clamp of the
probabilities at 1e-6: ``optim.prob_floor``). Dropout is off (eval mode) so
both forward passes are deterministic; any remaining difference between the two trainers then
lies in the data (which labels, which batches) and the optimiser, not in the model or the loss."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tests.fixtures.checkpoints import load_gliner

pytestmark = pytest.mark.parity


# word windows with inclusive gliner spans (first word, last word, label)
def _words(text: str) -> list[str]:
    return text.split(" ")


WINDOWS = [
    (_words("Mutations in BRCA1 raise the risk of breast cancer in carriers ."),
     [(2, 2, "gene"), (7, 8, "disease")]),
    (_words("Tamoxifen reduced tumour growth in MCF-7 cells treated for two weeks"),
     [(0, 0, "chemical"), (5, 6, "cell line")]),
    (_words("No entity is named in this short window"), []),
    (_words("The TP53 protein binds DNA"), [(1, 2, "protein"), (1, 1, "gene")]),
]  # fmt: skip
# sorted, the order biomedner gives unshuffled lists (gliner keeps the order it is given)
LABELS = [
    ["chemical", "disease", "gene"],
    ["cell line", "chemical", "organism"],
    ["disease", "gene"],
    ["cell line", "disease", "gene", "protein"],
]


def _gliner_loss(path):
    import torch
    from gliner.data_processing.collator import SpanDataCollator

    model = load_gliner(path)
    collate = SpanDataCollator(model.config, data_processor=model.data_processor,
                               prepare_labels=True)  # fmt: skip
    raw = [{"tokenized_text": words, "ner": spans} for words, spans in WINDOWS]
    batch = collate(raw, entity_types=LABELS)
    inputs = {k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}
    loss = model.model(alpha=0.75, gamma=0.0, reduction="sum", **inputs).loss
    loss.backward()
    return model.model, float(loss.detach())


def _biomedner_loss(path):
    from biomedner import NERModel
    from biomedner.training.examples import Example
    from biomedner.training.losses import FocalSpanLoss
    from biomedner.training.sampling import BatchContext, build_batch

    model = NERModel.from_pretrained(path, device="cpu")
    module = model.module.eval()
    examples = [
        Example(id=str(i), words=tuple(words),
                spans=tuple(sorted((s, e + 1, lab) for s, e, lab in spans)),
                negatives=tuple(lab for lab in labels if lab not in {x[2] for x in spans}),
                num_tokens=len(words))
        for i, ((words, spans), labels) in enumerate(zip(WINDOWS, LABELS))
    ]  # fmt: skip
    # no sampled negatives and sorted lists: the label lists are exactly LABELS, sorted
    ctx = BatchContext(model.pipeline, max_types=25, neg_type_ratio=0.0, shuffle_labels=False,
                       label_pool=["disease"])  # fmt: skip
    batch = build_batch(examples, np.random.default_rng(0), ctx, Counter())
    assert batch.labels == LABELS
    loss = FocalSpanLoss(alpha=0.75, gamma=0.0, reduction="sum", prob_floor=1e-6)(
        module(batch.encoded), batch.targets, batch.valid
    )
    loss.backward()
    return module, float(loss.detach()), batch


# relative tolerance of the loss and of each gradient; the tiny DeBERTa's calibrated head
# amplifies the encoder's float rounding (see test_parity_gliner.TOL_BY_CHECKPOINT)
TOL = {"minilm_uni_ckpt": 1e-5, "deberta_uni_ckpt": 5e-4}


@pytest.mark.parametrize("ckpt", ["minilm_uni_ckpt", "deberta_uni_ckpt"])
def test_loss_and_gradients_equal_gliners(ckpt, request):
    import torch

    path = request.getfixturevalue(ckpt)
    reference, ref_loss = _gliner_loss(path)
    ours, loss, batch = _biomedner_loss(path)
    assert float(batch.targets.sum()) == 6  # every gold span whose label is asked
    assert loss == pytest.approx(ref_loss, rel=TOL[ckpt])
    ref = [p for p in reference.parameters() if p.grad is not None]
    mine = [p for p in ours.parameters() if p.grad is not None]
    assert len(mine) == len(ref)
    scale = max(float(p.grad.norm()) for p in ref)
    unmatched = list(ref)
    for p in mine:  # parameters are matched by their (identical) initial values
        match = next(r for r in unmatched if r.shape == p.shape and torch.equal(r.data, p.data))
        unmatched.remove(match)
        # attention key biases get gradients that are zero up to rounding; compare to the scale
        bound = 10 * TOL[ckpt] * max(float(match.grad.norm()), 1e-3 * scale)
        assert float((p.grad - match.grad).norm()) <= bound


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_prob_floor_is_gliners_clamped_focal_loss(smoothing):
    import torch
    from gliner.modeling.loss_functions import focal_loss_with_logits

    from biomedner.training.losses import FocalSpanLoss

    gen = torch.Generator().manual_seed(0)
    logits = (torch.randn(2, 5, 3, 4, generator=gen) * 12).requires_grad_()  # many past +-13.8
    targets = (torch.rand(2, 5, 3, 4, generator=gen) < 0.3).float()
    valid = torch.ones_like(targets, dtype=torch.bool)
    ours = FocalSpanLoss(0.75, 2.0, "sum", smoothing, prob_floor=1e-6)(logits, targets, valid)
    (ours_grad,) = torch.autograd.grad(ours, logits)
    # gliner's log(sigmoid) form loses float32 precision next to the cap; float64 is exact
    ref = focal_loss_with_logits(logits.double(), targets.double(), alpha=0.75, gamma=2.0,
                                 label_smoothing=smoothing, reduction="sum")  # fmt: skip
    (ref_grad,) = torch.autograd.grad(ref, logits)
    assert float(ours.detach()) == pytest.approx(float(ref.detach()), rel=1e-5)
    assert torch.allclose(ours_grad, ref_grad, atol=1e-6)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_learning_rate_schedule_is_transformers_at_every_step(schedule):
    import torch
    from transformers import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

    from biomedner.training.optim import lr_factor

    total, warmup = 400, 20
    reference = {"cosine": get_cosine_schedule_with_warmup,
                 "linear": get_linear_schedule_with_warmup}[schedule]  # fmt: skip
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = reference(optimizer, warmup, total)
    for step in range(total):
        assert lr_factor(step, total, warmup, schedule) == pytest.approx(
            optimizer.param_groups[0]["lr"], abs=1e-12
        ), step
        optimizer.step()
        sched.step()


def test_optimiser_steps_follow_gliners_trainer_with_clipping(minilm_uni_ckpt, tmp_path):
    """Five optimiser steps from the same weights on the same batch, dropout off: biomedner's
    StepRunner (AdamW groups, schedule, clipping) against gliner's Trainer's optimiser, scheduler
    and transformers' clipping. The gradient norm is far above ``max_grad_norm`` at every step,
    so the losses only agree if both clip: when biomedner's clipping was a no-op they agreed at
    the first two steps (Adam's first update does not depend on the gradient's scale) and not
    after."""
    import torch
    from gliner.data_processing.collator import SpanDataCollator
    from gliner.training import Trainer, TrainingArguments

    from biomedner.training import distributed as dist_utils
    from biomedner.training.config import OptimConfig
    from biomedner.training.losses import FocalSpanLoss
    from biomedner.training.optim import build_optimizer, build_scheduler
    from biomedner.training.step import StepRunner

    steps, clip = 5, 0.5
    optim = OptimConfig(encoder_lr=1e-6, encoder_weight_decay=0.1, head_lr=1e-5,
                        head_weight_decay=0.01, schedule="linear", warmup_ratio=0.0,
                        max_grad_norm=clip, focal_alpha=0.75, focal_gamma=0.0)  # fmt: skip
    ours, _, batch = _biomedner_loss(minilm_uni_ckpt)
    optimizer = build_optimizer(ours, optim)
    runner = StepRunner(
        module=ours, optim=optim, loss_fn=FocalSpanLoss(0.75, 0.0, "sum", prob_floor=1e-6),
        optimizer=optimizer,
        scheduler=build_scheduler(optimizer, steps, optim), scaler=None, precision="fp32",
        device=torch.device("cpu"), dist=dist_utils.DistInfo(), micro_per_step=1,
    )  # fmt: skip

    reference = load_gliner(minilm_uni_ckpt)
    reference.model.eval()
    collate = SpanDataCollator(reference.config, data_processor=reference.data_processor,
                               prepare_labels=True)  # fmt: skip
    raw = [{"tokenized_text": words, "ner": spans} for words, spans in WINDOWS]
    inputs = {k: v for k, v in collate(raw, entity_types=LABELS).items()
              if isinstance(v, torch.Tensor)}  # fmt: skip
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=steps, learning_rate=1e-6, weight_decay=0.1,
        others_lr=1e-5, others_weight_decay=0.01, lr_scheduler_type="linear", warmup_ratio=0.0,
        max_grad_norm=clip, focal_loss_alpha=0.75, focal_loss_gamma=0.0, loss_reduction="sum",
        use_cpu=True, report_to="none", save_strategy="no",
    )  # fmt: skip
    trainer = Trainer(model=reference, args=args, train_dataset=[0], data_collator=collate)
    trainer.create_optimizer_and_scheduler(num_training_steps=steps)

    ours_losses, ref_losses, norms = [], [], []
    for step in range(steps):
        result = runner.train_step(iter([batch]), f"step {step}")
        ours_losses.append(result.loss)
        norms.append(result.grad_norm)
        trainer.optimizer.zero_grad()
        loss = trainer.compute_loss(reference, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(reference.parameters(), clip)
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
        ref_losses.append(float(loss.detach()))
    assert min(norms) > 10 * clip  # clipping is active at every step
    assert ours_losses == pytest.approx(ref_losses, rel=1e-4)
