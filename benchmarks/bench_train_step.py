"""Training step (forward + backward) of biomedner vs gliner's model on the same batch.

    python benchmarks/bench_train_step.py [--quick] [--json results.json]

Batches: 8 texts of 64 words with 3-25 labels each, 8 texts of 64 words with 25 labels, and
8 texts of 128 words with 25 labels. Both models start from the same checkpoint, in train mode
(dropout 0 in these checkpoints). Each repeat runs every batch with both libraries (alternating
which goes first); speed-ups and the 128-word/64-word growth are medians of per-repeat ratios. Collation is done before timing for both libraries (a data
loader's job); the timed step is zero_grad + forward + loss + backward. biomedner's loss is
BCE-with-logits summed over valid cells (gliner's default focal loss with alpha=-1, gamma=0 is
the same BCE sum); if ``biomedner.training.losses`` exists its ``span_loss`` is used instead.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import build_checkpoints, machine_info, make_labels, make_texts


def make_items(n: int, words: int, min_labels: int, max_labels: int, seed: int):
    rng = random.Random(seed)
    pool = make_labels(40)
    items = []
    for text in make_texts(n, words, seed=seed):
        toks = text.split()[:words]
        labels = rng.sample(pool, rng.randint(min_labels, max_labels))
        ents, used = [], set()
        for _ in range(rng.randint(2, 6)):
            s = rng.randrange(len(toks))
            e = min(len(toks) - 1, s + rng.randrange(3))
            if used.isdisjoint(range(s, e + 1)):
                used.update(range(s, e + 1))
                ents.append([s, e, rng.choice(labels)])  # gliner: end inclusive
        items.append({"tokenized_text": toks, "ner": ents, "labels": labels})
    return items


# ---------------------------------------------------------------------------- biomedner
def biomedner_batch(model, items):
    import torch

    from biomedner.text.encoding import collate
    from biomedner.text.prompt import prompt_words

    cfg, info = model.config, model.pipeline.info
    if cfg.is_bi_encoder:
        seqs = [it["tokenized_text"] for it in items]
        prompt_lens = [0] * len(items)
    else:
        prompts = [prompt_words(it["labels"], cfg.ent_token, cfg.sep_token) for it in items]
        seqs = [p + it["tokenized_text"] for p, it in zip(prompts, items)]
        prompt_lens = [len(p) for p in prompts]
    num_labels = [len(it["labels"]) for it in items]
    enc = collate(model.tokenizer, seqs, prompt_lens, num_labels, info)
    b, w, k, c = len(items), enc.word_index.size(1), cfg.max_width, max(num_labels)
    targets = torch.zeros(b, w, k, c)
    for i, it in enumerate(items):
        for s, e, lab in it["ner"]:
            if e - s < k:
                targets[i, s, e - s, it["labels"].index(lab)] = 1.0
    n_words = enc.word_mask.sum(-1)
    stop = torch.arange(w)[:, None] + torch.arange(k)  # [W, K]
    span_ok = stop[None] < n_words[:, None, None]  # [B, W, K]
    label_ok = torch.arange(c)[None] < torch.tensor(num_labels)[:, None]  # [B, C]
    mask = span_ok[..., None] & label_ok[:, None, None, :]
    extra = None
    if cfg.is_bi_encoder:
        union = list(dict.fromkeys(lab for it in items for lab in it["labels"]))
        lt = model.labels_tokenizer(union, padding="longest", return_tensors="pt")
        index = torch.zeros(b, c, dtype=torch.long)
        for i, it in enumerate(items):
            index[i, : len(it["labels"])] = torch.tensor([union.index(x) for x in it["labels"]])
        extra = (lt["input_ids"], lt["attention_mask"], index)
    return enc, targets, mask, extra


def biomedner_step(model, batch):
    import torch.nn.functional as F

    enc, targets, mask, extra = batch
    module = model.module
    if extra is None:
        logits = module(enc)
    else:
        ids, att, index = extra
        enc.label_vectors = module.encode_labels(ids, att)[
            index
        ]  # [B, C, D], grads reach the tower
        logits = module(enc)
    loss = F.binary_cross_entropy_with_logits(logits[mask], targets[mask], reduction="sum")
    loss.backward()
    return loss


# ---------------------------------------------------------------------------- gliner
def gliner_batch(ref, items):
    collator = ref._create_data_collator()
    raw = [{"tokenized_text": it["tokenized_text"], "ner": it["ner"]} for it in items]
    return collator(raw, entity_types=[it["labels"] for it in items])


def gliner_step(ref, batch):
    import inspect

    params = inspect.signature(ref.model.forward).parameters
    out = ref.model(**{k: v for k, v in batch.items() if k in params})
    out.loss.backward()
    return out.loss


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--kinds", nargs="+", default=["uni", "bi"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden-size", type=int, default=768)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 7

    import torch
    from gliner import GLiNER

    from biomedner.model import NERModel

    torch.set_num_threads(args.threads)
    paths = build_checkpoints(hidden_size=args.hidden_size)
    shapes = [("64w/3-25l", 64, 3, 25), ("64w/25l", 64, 25, 25), ("128w/25l", 128, 25, 25)]
    results = []
    for kind in args.kinds:
        ours = NERModel.from_pretrained(paths[kind])
        ref = GLiNER.from_pretrained(str(paths[kind]))
        ours.module.train()
        ref.model.train()
        batches = {}
        for name, words, lo, hi in shapes:
            items = make_items(8, words, lo, hi, seed=words + lo)
            batches[name] = (biomedner_batch(ours, items), gliner_batch(ref, items))
        times = {(name, lib): [] for name in batches for lib in ("biomedner", "gliner")}
        losses = {}
        # every shape and library inside each repeat, so each ratio below compares runs taken
        # seconds apart and the machine's drift cancels out of it
        for rep in range(repeats + 1):  # round 0 is the warm-up
            for name, (ob, gb) in batches.items():
                steps = [
                    ("biomedner", ours.module, lambda ob=ob, m=ours: biomedner_step(m, ob)),
                    ("gliner", ref.model, lambda gb=gb, g=ref: gliner_step(g, gb)),
                ]
                for lib, module, fn in steps[rep % 2 :] + steps[: rep % 2]:
                    module.zero_grad(set_to_none=True)
                    t0 = time.perf_counter()
                    losses[name, lib] = float(fn())
                    if rep:
                        times[name, lib].append(time.perf_counter() - t0)

        def ratio(num: tuple[str, str], den: tuple[str, str], times=times) -> float:
            return round(statistics.median(a / b for a, b in zip(times[num], times[den])), 2)

        per_kind = {}
        for name in batches:
            r = {"kind": kind, "batch": name}
            for lib in ("biomedner", "gliner"):
                r[lib] = {
                    "median_s": round(statistics.median(times[name, lib]), 3),
                    "loss": losses[name, lib],
                }
            r["speedup_vs_gliner"] = ratio((name, "gliner"), (name, "biomedner"))
            per_kind[name] = r
            results.append(r)
            print(
                f"{kind:3} {name:10} biomedner {r['biomedner']['median_s']:.3f}s  "
                f"gliner {r['gliner']['median_s']:.3f}s  speed-up {r['speedup_vs_gliner']:.2f}  "
                f"loss {r['biomedner']['loss']:.2f} / {r['gliner']['loss']:.2f}",
                flush=True,
            )
        long = per_kind["128w/25l"]
        for lib in ("biomedner", "gliner"):
            long[f"{lib}_128_vs_64"] = ratio(("128w/25l", lib), ("64w/3-25l", lib))
            long[f"{lib}_128_vs_64_25l"] = ratio(("128w/25l", lib), ("64w/25l", lib))
        print(
            f"{kind:3} 128w/25l step vs 64w step: biomedner "
            f"{long['biomedner_128_vs_64']:.2f}x, gliner {long['gliner_128_vs_64']:.2f}x",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": machine_info(), "results": results}, indent=1))
    return results


if __name__ == "__main__":
    main()
