"""The two promises of the trainer: it can fit data (overfit two sentences to F1 = 1, then save,
reload and predict identically), and a stopped-and-resumed run ends bit-identical to an
uninterrupted one."""

from __future__ import annotations

import json

import pytest
import torch

from biomedner.training import config_from_dict, train
from biomedner.training.evaluate import eval_set_from_records, evaluate_set
from biomedner.training.state import list_checkpoints
from tests.training.conftest import tiny_config

pytestmark = pytest.mark.minilm  # the tiny backbone borrows MiniLM's tokenizer


def test_overfit_two_sentences_then_save_reload_predict_identically(
    tiny_backbone, records_file, tmp_path
):
    from biomedner.model import NERModel

    cfg = config_from_dict(
        tiny_config(
            tiny_backbone,
            records_file,
            tmp_path / "run",
            stages=[
                {
                    "name": "fit",
                    "steps": 150,
                    "sources": [{"kind": "records", "path": str(records_file)}],
                }
            ],
            eval={"records": str(records_file), "interval_steps": 150},
        )
    )
    result = train(cfg)
    assert result.finished and result.global_step == 150
    final_eval = result.report["evals"][-1]
    assert final_eval["strict_f1"] == 1.0, final_eval

    model_dir = result.model_dir
    assert (model_dir / "gliner_config.json").is_file()
    assert (model_dir / "model.safetensors").is_file()
    assert (tmp_path / "run" / "stages" / "1_fit" / "gliner_config.json").is_file()

    reloaded = NERModel.from_pretrained(model_dir)
    data = eval_set_from_records(str(records_file))
    assert data.labels == ["chemical", "disease", "gene"]
    scores = evaluate_set(reloaded, data)
    assert scores["strict_f1"] == 1.0
    first = reloaded.predict_batch(data.texts, data.labels)
    again = NERModel.from_pretrained(model_dir).predict_batch(data.texts, data.labels)
    assert first == again
    spans = [[(e.start, e.end, e.label) for e in doc] for doc in first]
    assert spans == [
        [(13, 18, "gene"), (37, 50, "disease")],
        [(0, 9, "chemical"), (47, 61, "disease")],
    ]
    assert reloaded.predict("", data.labels) == []

    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["stages"][0]["examples"]["entities_used"] == 4
    log = [json.loads(l) for l in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    train_lines = [e for e in log if e["event"] == "train"]
    assert train_lines
    # the gradient norm before clipping: a user reads it to see whether clipping is active
    assert all(e["grad_norm"] > 0 for e in train_lines)


def _two_stage(backbone, records, out):
    src = [{"kind": "records", "path": str(records)}]
    return config_from_dict(
        tiny_config(
            backbone,
            records,
            out,
            model={"dropout": 0.3},  # dropout draws from torch's RNG: it must be restored too
            optim={
                "shuffle_labels": True,
                "neg_type_ratio": 1.0,
                "batch_size": 1,
                "grad_accum_steps": 2,
                "schedule": "cosine",
                "warmup_ratio": 0.2,
            },
            stages=[
                {"name": "one", "steps": 4, "sources": src},
                {"name": "two", "steps": 4, "sources": src, "optim": {"head_lr": 5e-4}},
            ],
            checkpoint={"every_steps": 3, "keep_last": 5},
        )
    )


def test_resume_is_bit_identical(tiny_backbone, records_file, tmp_path):
    from biomedner.model import NERModel

    full = train(_two_stage(tiny_backbone, records_file, tmp_path / "full"))
    assert full.finished and full.global_step == 8

    cut = tmp_path / "cut"
    first = train(_two_stage(tiny_backbone, records_file, cut), stop_after_steps=6)
    assert not first.finished and first.global_step == 6
    assert [p.name for p in list_checkpoints(cut / "checkpoints")][-1] == "step_00000006"
    second = train(_two_stage(tiny_backbone, records_file, cut), resume="auto")
    assert second.finished and second.global_step == 8

    a = NERModel.from_pretrained(full.model_dir).module.state_dict()
    b = NERModel.from_pretrained(second.model_dir).module.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # the stage-1 checkpoints of both runs agree as well
    s1a = NERModel.from_pretrained(full.stage_dirs[0]).module.state_dict()
    s1b = NERModel.from_pretrained(second.stage_dirs[0]).module.state_dict()
    assert all(torch.equal(s1a[k], s1b[k]) for k in s1a)
