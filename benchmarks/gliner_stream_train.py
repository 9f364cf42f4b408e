"""Bisecting the equal-budget gap (docs/training.md, "Equal budget"): biomedner's optimiser step
(``training.step.StepRunner``) trained on gliner's own batch stream, i.e. gliner's collator
chooses every example's label list (in-batch negatives, one per mention for half the examples,
shuffled and cut at max_types) over uniformly shuffled batches of the comparison's windows.

    python benchmarks/gliner_stream_train.py SEED OUT_DIR [--no-fast-path]

SEED picks the data folder written by ``gliner_trainer_comparison.py --out runs/gvb/seedSEED``
(``--data`` to give another); the model is saved to OUT_DIR (gliner layout), to be scored with
``biomedner evaluate --find-threshold --tune-split dev``. Settings are the comparison's recipe
(400 steps of batch 8, AdamW 5e-5 / 5e-4, decay 0.1 / 0.01, cosine, warm-up 5 %, clip 10,
focal alpha 0.75 summed), one thread. ``--no-fast-path`` trains with the HF encoder forward
instead of biomedner's CPU encoder path.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seed", type=int)
    ap.add_argument("out")
    ap.add_argument("--data", help="the comparison's data folder (default runs/gvb/seedSEED/data)")
    ap.add_argument("--no-fast-path", action="store_true")
    ap.add_argument("--steps", type=int, default=400)
    args = ap.parse_args()

    from gliner import GLiNER

    from biomedner.model import NERModel
    from biomedner.training import distributed as du
    from biomedner.training.config import OptimConfig
    from biomedner.training.examples import Example
    from biomedner.training.losses import FocalSpanLoss
    from biomedner.training.optim import build_optimizer, build_scheduler
    from biomedner.training.sampling import TrainBatch, assemble_batch
    from biomedner.training.step import StepRunner

    torch.set_num_threads(1)
    data_dir = args.data or f"runs/gvb/seed{args.seed}/data"
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    with open(f"{data_dir}/gliner_train.json", encoding="utf-8") as f:
        data = json.load(f)
    model = NERModel.from_pretrained(f"{data_dir}/init")
    module = model.module
    if args.no_fast_path:
        module.encoder._fast_path = False
    optim = OptimConfig(
        encoder_lr=5e-5, encoder_weight_decay=0.1, head_lr=5e-4, head_weight_decay=0.01,
        schedule="cosine", warmup_ratio=0.05, batch_size=8, max_grad_norm=10.0,
        focal_alpha=0.75, focal_gamma=0.0, max_types=25,
    )  # fmt: skip
    optimizer = build_optimizer(module, optim)
    runner = StepRunner(
        module=module, optim=optim, loss_fn=FocalSpanLoss(0.75, 0.0, "sum"), optimizer=optimizer,
        scheduler=build_scheduler(optimizer, args.steps, optim), scaler=None, precision="fp32",
        device=torch.device("cpu"), dist=du.DistInfo(), micro_per_step=1,
    )  # fmt: skip
    processor = GLiNER.from_pretrained(f"{data_dir}/init", load_tokenizer=True).data_processor

    def to_batch(raw: list[dict]) -> TrainBatch:
        mappings, _ = processor.batch_generate_class_mappings(raw, None)
        # gliner's empty window gets the label "" (an empty prompt entry); one plain label here
        label_lists = [list(c) if list(c) != [""] else ["entity"] for c in mappings]
        examples = [
            Example(id=str(i), words=tuple(ex["tokenized_text"]), negatives=(), num_tokens=0,
                    spans=tuple((s, last + 1, label) for s, last, label in ex["ner"]))
            for i, ex in enumerate(raw)
        ]  # fmt: skip
        return assemble_batch(examples, label_lists, model.pipeline, Counter())

    order: list[int] = []
    slots = 0
    module.train()
    for step in range(args.steps):
        if len(order) < 8:  # epochs of uniformly shuffled windows, as transformers' sampler
            epoch = list(range(len(data)))
            random.shuffle(epoch)
            order += epoch
        picked, order = order[:8], order[8:]
        batch = to_batch([data[i] for i in picked])
        slots += sum(len(labels) for labels in batch.labels)
        result = runner.train_step(iter([batch]), f"step {step}")
        if step % 20 == 19:
            print(step + 1, round(result.loss, 1), flush=True)
    print("label slots per example", slots / (8 * args.steps))
    module.eval()
    model.save_pretrained(args.out)


if __name__ == "__main__":
    main()
