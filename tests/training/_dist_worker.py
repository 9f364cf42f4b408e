"""Run by torchrun from test_distributed.py: train a tiny config on this rank, then save this
rank's parameters so the test can check that all ranks ended identical."""

from __future__ import annotations

import json
import os
import sys

import torch

from biomedner.training import config_from_dict
from biomedner.training import distributed as dist_utils
from biomedner.training.trainer import Trainer


def main() -> None:
    cfg_path, out_dir = sys.argv[1], sys.argv[2]
    with open(cfg_path, encoding="utf-8") as fh:
        cfg = config_from_dict(json.load(fh))
    trainer = Trainer(cfg)
    result = trainer.train()
    params = {k: v.detach().clone() for k, v in trainer.model.module.state_dict().items()}
    torch.save(params, os.path.join(out_dir, f"params_rank{trainer.dist.rank}.pt"))
    with open(os.path.join(out_dir, f"result_rank{trainer.dist.rank}.json"), "w") as fh:
        json.dump({"world_size": trainer.dist.world_size, "global_step": result.global_step}, fh)
    dist_utils.shutdown(trainer.dist)


if __name__ == "__main__":
    main()
