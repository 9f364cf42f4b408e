"""Data parallel training with torchrun on two CPU processes (gloo): both ranks take part and
end with identical parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.training.conftest import REPO, tiny_config

pytestmark = [pytest.mark.minilm, pytest.mark.slow]


def test_two_cpu_processes_stay_in_sync(tiny_backbone, records_file, tmp_path):
    cfg = tiny_config(
        tiny_backbone,
        records_file,
        tmp_path / "run",
        optim={"batch_size": 1, "shuffle_labels": True, "neg_type_ratio": 1.0},
        stages=[
            {
                "name": "main",
                "steps": 3,
                "sources": [{"kind": "records", "path": str(records_file)}],
            }
        ],
    )
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(Path(__file__).with_name("_dist_worker.py")),
        str(cfg_path),
        str(tmp_path),
    ]
    # about 10 s normally; a hang (e.g. a collective one rank never reaches) must fail, not skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads((tmp_path / f"result_rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r == {"world_size": 2, "global_step": 3} for r in results)
    p0 = torch.load(tmp_path / "params_rank0.pt", weights_only=True)
    p1 = torch.load(tmp_path / "params_rank1.pt", weights_only=True)
    assert all(torch.equal(p0[k], p1[k]) for k in p0)
    # rank 0 wrote the model and the run report
    assert (tmp_path / "run" / "model" / "gliner_config.json").is_file()
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["world_size"] == 2
