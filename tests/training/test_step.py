"""The optimiser step on a hand-built module: gradients are clipped to ``optim.max_grad_norm``
(biomedner once passed the gradients instead of the parameters to torch's clipping, which then
clipped nothing; its runs trained unclipped and ended far behind gliner's trainer)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import torch

from biomedner.training import distributed as dist_utils
from biomedner.training.config import OptimConfig
from biomedner.training.step import StepRunner


class TwoWeights(torch.nn.Module):
    """logits = encoded * w1 + w2: the gradient of a summed loss is known in closed form."""

    def __init__(self):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.zeros(2))
        self.w2 = torch.nn.Parameter(torch.zeros(2))

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        return encoded * self.w1 + self.w2


@dataclass
class Batch:
    encoded: torch.Tensor
    targets: torch.Tensor = field(default_factory=lambda: torch.zeros(2))
    valid: torch.Tensor = field(default_factory=lambda: torch.ones(2, dtype=torch.bool))
    example_ids: list[str] = field(default_factory=lambda: ["a"])
    num_tokens: int = 2


def summed(logits, targets, valid):
    return logits.sum()


def one_step(max_grad_norm: float | None) -> tuple[torch.Tensor, float | None]:
    module = TwoWeights()
    optimizer = torch.optim.SGD(module.parameters(), lr=1.0)
    runner = StepRunner(
        module=module,
        optim=OptimConfig(max_grad_norm=max_grad_norm),
        loss_fn=summed,  # type: ignore[arg-type]
        optimizer=optimizer,
        scheduler=torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0),
        scaler=None,
        precision="fp32",
        device=torch.device("cpu"),
        dist=dist_utils.DistInfo(),
        micro_per_step=1,
    )
    # d loss / d w1 = encoded = (30, 40), d loss / d w2 = (1, 1): norm sqrt(2500 + 2) ~ 50.02
    result = runner.train_step(iter([Batch(encoded=torch.tensor([30.0, 40.0]))]), "step 0")
    update = -torch.cat([module.w1.detach(), module.w2.detach()])  # SGD, lr 1: minus the grad
    return update, result.grad_norm


def test_the_update_is_clipped_to_max_grad_norm():
    update, norm = one_step(max_grad_norm=5.0)
    full = torch.tensor([30.0, 40.0, 1.0, 1.0])
    assert norm == pytest.approx(float(full.norm()), rel=1e-6)
    assert float(update.norm()) == pytest.approx(5.0, rel=1e-4)
    assert torch.allclose(update, full * 5.0 / full.norm(), rtol=1e-4)


def test_without_max_grad_norm_the_update_is_the_whole_gradient():
    update, norm = one_step(max_grad_norm=None)
    assert torch.allclose(update, torch.tensor([30.0, 40.0, 1.0, 1.0]))
    assert norm == pytest.approx(50.02, abs=0.01)


def test_a_gradient_under_the_limit_is_left_alone():
    update, _ = one_step(max_grad_norm=100.0)
    assert torch.allclose(update, torch.tensor([30.0, 40.0, 1.0, 1.0]))
