"""End-to-end paths beyond the uni-encoder: a bi-encoder run, a CoNLL corpus source with label
normalisation, and the ``biomedner train`` command on the shipped tiny recipe."""

from __future__ import annotations

import json

import pytest

from biomedner.training import config_from_dict, train
from tests.training.conftest import CONFIGS, tiny_config

pytestmark = pytest.mark.minilm

CONLL = (
    "Aspirin\tB-chemical_drug\nrelieves\tO\nmigraine\tB-disease\n.\tO\n\n"
    "The\tO\nTP53\tB-GENE\ngene\tO\nis\tO\nmutated\tO\n.\tO\n"
)


def test_bi_encoder_with_a_conll_source(tiny_backbone, tmp_path):
    from biomedner.model import NERModel

    path = tmp_path / "toy.tsv"
    path.write_text(CONLL, encoding="utf-8")
    cfg = config_from_dict(
        tiny_config(
            tiny_backbone,
            path,
            tmp_path / "run",
            model={"architecture": "bi", "labels_encoder": str(tiny_backbone)},
            stages=[
                {
                    "name": "general",
                    "steps": 3,
                    "sources": [{"kind": "corpus", "path": str(path), "format": "conll"}],
                }
            ],
            data={"label_map": {"chemical drug": "drug"}},
        )
    )
    result = train(cfg)
    src = result.report["stages"][0]["sources"][0]
    assert src["counts"]["records"] == 2 and src["counts"]["entities"] == 3
    assert src["labels"] == 3
    model = NERModel.from_pretrained(result.model_dir)
    assert model.config.is_bi_encoder
    assert isinstance(model.predict("Aspirin relieves migraine.", ["drug", "gene"]), list)


def test_train_command_on_the_tiny_recipe(tiny_backbone, tmp_path):
    from typer.testing import CliRunner

    from biomedner.cli.main import app

    out = tmp_path / "cli_run"
    args = [
        "train",
        str(CONFIGS / "tiny_debug.toml"),
        "--set",
        f"model.backbone={json.dumps(str(tiny_backbone))}",
        "--set",
        "model.hidden_size=32",
        "--set",
        "stages.0.steps=2",
        "--set",
        "stages.1.steps=2",
        "--set",
        "eval.interval_steps=2",
        "--set",
        "num_threads=1",
        "--set",
        f"output_dir={json.dumps(str(out))}",
        "--quiet",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "last eval" in result.output
    assert (out / "stages" / "1_warmup" / "gliner_config.json").is_file()
    assert (out / "stages" / "2_main" / "model.safetensors").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["finished"] and report["global_step"] == 4

    bad = CliRunner().invoke(
        app, ["train", str(CONFIGS / "tiny_debug.toml"), "--set", "optim.lr=1"]
    )
    assert bad.exit_code == 2
    assert "optim.lr: unknown key" in bad.output


def test_out_of_memory_fails_clearly_or_is_skipped_and_counted(
    tiny_backbone, records_file, tmp_path, monkeypatch
):
    import torch

    from biomedner.training.step import StepRunner, TrainingOOMError

    real = StepRunner._backward
    calls = {"n": 0}

    def flaky(self, batch):
        calls["n"] += 1
        if calls["n"] == 2:  # the second micro-batch does not fit
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(self, batch)

    monkeypatch.setattr(StepRunner, "_backward", flaky)
    cfg = config_from_dict(tiny_config(tiny_backbone, records_file, tmp_path / "a"))
    with pytest.raises(TrainingOOMError, match=r"out of memory at stage 'main' step 1.*skip_oom"):
        train(cfg)

    calls["n"] = 0
    cfg = config_from_dict(
        tiny_config(tiny_backbone, records_file, tmp_path / "b", optim={"skip_oom": True})
    )
    result = train(cfg)
    assert result.finished and result.global_step == 10
    assert result.report["oom_skipped_steps"] == 1
    assert len(result.report["oom_skipped_example_ids"]) == 2  # the skipped step's batch


def test_non_finite_gradients_stop_the_run_naming_the_step_and_group(
    tiny_backbone, records_file, tmp_path, monkeypatch
):
    from biomedner.training.step import NonFiniteGradientError, StepRunner

    real = StepRunner._backward
    calls = {"n": 0}

    def poisoned(self, batch):
        calls["n"] += 1
        loss = real(self, batch)
        if calls["n"] == 3:  # step 2's micro-batch: a finite loss, a NaN gradient
            head = [
                p
                for n, p in self.module.named_parameters()
                if n.startswith("span_head.project_start")
            ]
            head[0].grad[..., 0] = float("nan")
        return loss

    monkeypatch.setattr(StepRunner, "_backward", poisoned)
    cfg = config_from_dict(tiny_config(tiny_backbone, records_file, tmp_path / "a"))
    with pytest.raises(
        NonFiniteGradientError,
        match=r"non-finite gradients at stage 'main' step 2 .* in span_head\.project_start;",
    ):
        train(cfg)
