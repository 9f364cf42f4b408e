"""Inference throughput of biomedner vs gliner on the same checkpoint and inputs, in one run.

    python benchmarks/bench_inference.py [--quick] [--json results.json]

For each encoder kind (uni, bi), text set (short ~30-word sentences, ~250-word abstracts),
batch size (1, 32) and label count (3, 20, 100, 1000; the uni-encoder only while its prompt
fits one window), it times, interleaved repeat by repeat so load drift hits all alike:
  - biomedner end to end (``NERModel.predict_batch``, labels given as a list);
  - bi only: biomedner with a cached ``LabelSet`` (``encode_labels`` once, outside the timing);
  - gliner end to end (``GLiNER.inference``);
  - the HF backbone alone on biomedner's padded batches (tokenized beforehand, untimed): the
    reference forward, which the issue takes as the architecture's speed limit (for the
    bi-encoder the text tower only);
  - biomedner's own encoder path on the same batches (``TextEncoder.at_positions``: on CPU with
    a BERT-style backbone it skips padding and the last layer's unread positions), so the
    cost of everything after the encoder shows apart from the encoder's own saving.
The runners take turns in a rotating order within each repeat. It reports medians, texts/s,
words/s, peak memory, and for each pair the median of the per-repeat time ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import (
    build_checkpoints,
    machine_info,
    make_labels,
    make_texts,
)


# ---------------------------------------------------------------------------- memory
class PeakMemory:
    """Peak extra memory while the block runs: CUDA's allocator peak on GPU, else the process
    RSS sampled every 2 ms by a thread (torch's CPU allocations are invisible to tracemalloc)."""

    def __init__(self, device: str):
        self.device = device
        self.peak_mib = 0.0

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    def __enter__(self) -> PeakMemory:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return self
        self._base = self._rss()
        self._max = self._base
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.is_set():
                self._max = max(self._max, self._rss())
                time.sleep(0.002)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            self.peak_mib = (torch.cuda.max_memory_allocated() - self._base) / 2**20
            return
        self._stop.set()
        self._thread.join()
        self._max = max(self._max, self._rss())
        self.peak_mib = (self._max - self._base) / 2**20


# ---------------------------------------------------------------------------- runners
def encoder_batches(model, texts, labels, batch_size):
    """biomedner's own padded batches for these texts (length-sorted, dynamic padding)."""
    from biomedner.inference.predictor import length_batches

    prepared = model.pipeline.prepare(texts, [labels] * len(texts))
    return [
        model.pipeline.collate_rows([prepared.rows[i] for i in ids]).to(model.device)
        for ids in length_batches(prepared.windows, batch_size)
    ]


def uni_fits(model, labels) -> bool:
    return len(model.pipeline.label_groups(labels)) == 1


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def run_config(cfg, ours, ref, texts, labels, args, autocast):
    import torch

    bs, device = cfg["batch_size"], args.device
    backbone = ours.module.encoder.backbone
    batches = encoder_batches(ours, texts, labels, bs)
    label_set = ours.encode_labels(labels) if ours.config.is_bi_encoder else None

    def ac():
        if autocast is None:
            return torch.autocast(device_type=device, enabled=False)
        return torch.autocast(device_type=device, dtype=autocast)

    def run_ours():
        ours.predict_batch(
            texts, labels, threshold=args.threshold, batch_size=bs, autocast_dtype=autocast
        )
        sync(device)

    def run_cached():
        ours.predict_batch(
            texts, label_set, threshold=args.threshold, batch_size=bs, autocast_dtype=autocast
        )
        sync(device)

    def run_ref():
        with ac():
            ref.inference(texts, labels, threshold=args.threshold, batch_size=bs)
        sync(device)

    @torch.inference_mode()
    def run_encoder():
        with ac():
            for b in batches:
                backbone(input_ids=b.input_ids, attention_mask=b.attention_mask)
        sync(device)

    @torch.inference_mode()
    def run_own_encoder():
        with ac():
            for b in batches:
                encoder.at_positions(b.input_ids, b.attention_mask, *b.read_positions())
        sync(device)

    encoder = ours.module.encoder
    runners = {
        "biomedner": run_ours,
        "gliner": run_ref,
        "encoder": run_encoder,
        "own_encoder": run_own_encoder,
    }
    if label_set is not None:
        runners["biomedner_cached"] = run_cached
    times: dict[str, list[float]] = {k: [] for k in runners}
    memory: dict[str, float] = {}
    for name, fn in runners.items():  # warm-up, doubling as the memory measurement
        with PeakMemory(device) as pm:
            fn()
        memory[name] = round(pm.peak_mib, 1)
    names = list(runners)
    for rep in range(cfg["repeats"]):
        # a rotating order, so no runner always follows the same one
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            t0 = time.perf_counter()
            runners[name]()
            times[name].append(time.perf_counter() - t0)
    n_words = sum(len(t.split()) for t in texts)
    result = dict(cfg)
    result.update(
        texts=len(texts),
        words=n_words,
        padded_tokens=sum(int(b.input_ids.numel()) for b in batches),
        real_tokens=sum(int(b.attention_mask.sum()) for b in batches),
    )
    for name, runs in times.items():
        med = statistics.median(runs)
        result[name] = {
            "median_s": round(med, 4),
            "texts_per_s": round(len(texts) / med, 2),
            "words_per_s": round(n_words / med, 1),
            "peak_mem_mib": memory[name],
        }

    def ratio(fast: str, slow: str) -> float:
        # median of per-repeat ratios: the runs of one repeat are adjacent in time, so the
        # machine's drift (±10 % and more on a shared VM) cancels out of each ratio
        return round(statistics.median(s / f for f, s in zip(times[fast], times[slow])), 2)

    result["ratio_vs_gliner"] = ratio("biomedner", "gliner")
    result["ratio_vs_encoder"] = ratio("biomedner", "encoder")
    result["ratio_vs_own_encoder"] = ratio("biomedner", "own_encoder")
    result["own_encoder_vs_encoder"] = ratio("own_encoder", "encoder")
    result["gliner_vs_encoder"] = ratio("gliner", "encoder")
    if "biomedner_cached" in times:
        result["cached_vs_gliner"] = ratio("biomedner_cached", "gliner")
        result["cached_vs_encoder"] = ratio("biomedner_cached", "encoder")
    return result


def plan_configs(args):
    sets = {"short": (30, args.n_short), "abstract": (200, args.n_abstract)}
    for kind in args.kinds:
        for set_name, (words, n) in sets.items():
            for bs in args.batch_sizes:
                for num_labels in args.labels:
                    # batch size 1 runs fewer texts: its cost per text is what matters
                    count = max(4, n // 4) if bs == 1 else n
                    yield {
                        "kind": kind,
                        "texts_set": set_name,
                        "words_per_text": words,
                        "batch_size": bs,
                        "labels": num_labels,
                        "count": count,
                        "repeats": args.repeats,
                    }


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer texts and repeats (a few minutes)")
    ap.add_argument("--kinds", nargs="+", default=["uni", "bi"])
    ap.add_argument("--labels", nargs="+", type=int, default=[3, 20, 100, 1000])
    ap.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 1])
    ap.add_argument("--sets", nargs="+", default=["short", "abstract"])
    ap.add_argument("--hidden-size", type=int, default=768)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--autocast", choices=["bf16", "fp16"], default=None)
    ap.add_argument("--checkpoints", type=Path, default=None, help="cache dir for checkpoints")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (5; 3 with --quick)")
    args = ap.parse_args(argv)
    args.n_short, args.n_abstract, repeats = (32, 8, 3) if args.quick else (128, 32, 5)
    args.repeats = args.repeats or repeats

    import torch
    from gliner import GLiNER

    from biomedner.model import NERModel

    torch.set_num_threads(args.threads)
    autocast = {"bf16": torch.bfloat16, "fp16": torch.float16, None: None}[args.autocast]
    paths = build_checkpoints(**({"cache": args.checkpoints} if args.checkpoints else {}),
                              hidden_size=args.hidden_size)  # fmt: skip
    results = []
    configs = [c for c in plan_configs(args) if c["texts_set"] in args.sets]
    loaded: dict[str, tuple] = {}
    for cfg in configs:
        kind = cfg["kind"]
        if kind not in loaded:
            loaded.clear()
            ours = NERModel.from_pretrained(paths[kind], device=args.device)
            ref = GLiNER.from_pretrained(str(paths[kind]), map_location=args.device).eval()
            ref.to(args.device)
            loaded[kind] = (ours, ref)
        ours, ref = loaded[kind]
        labels = make_labels(cfg["labels"])
        if kind == "uni" and not uni_fits(ours, labels):
            continue
        texts = make_texts(cfg["count"], cfg["words_per_text"], seed=cfg["words_per_text"])
        r = run_config(cfg, ours, ref, texts, labels, args, autocast)
        results.append(r)
        line = (
            f"{kind:3} {cfg['texts_set']:8} bs={cfg['batch_size']:<2} labels={cfg['labels']:<4} "
            f"biomedner {r['biomedner']['texts_per_s']:7.2f}/s  gliner {r['gliner']['texts_per_s']:7.2f}/s  "
            f"encoder {r['encoder']['texts_per_s']:7.2f}/s  x gliner {r['ratio_vs_gliner']:.2f}  "
            f"x encoder {r['ratio_vs_encoder']:.2f}  x own encoder {r['ratio_vs_own_encoder']:.2f}"
        )
        if "biomedner_cached" in r:
            line += f"  cached {r['biomedner_cached']['texts_per_s']:.2f}/s (x gliner {r['cached_vs_gliner']:.2f})"
        print(line, flush=True)
    meta = {
        "machine": machine_info(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "hidden_size": args.hidden_size,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return results


if __name__ == "__main__":
    main()
