"""Where ``predict_batch`` spends its time: Python functions (cProfile) and operators
(torch.profiler), on the benchmark checkpoints and texts. For finding the next thing to fix;
the throughput figures come from ``bench_inference.py``.

    python benchmarks/profile_predict.py --kind bi --labels 20 [--device cuda --autocast bf16]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import add_workload_options, build_checkpoints, make_labels, make_texts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_workload_options(ap, hidden_size=768, threshold=0.5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--autocast", choices=["bf16", "fp16"], default=None)
    ap.add_argument("--rows", type=int, default=30, help="rows of each table")
    args = ap.parse_args(argv)

    import torch
    from torch.profiler import ProfilerActivity, profile

    from biomedner.model import NERModel

    torch.set_num_threads(args.threads)
    autocast = {"bf16": torch.bfloat16, "fp16": torch.float16, None: None}[args.autocast]
    path = build_checkpoints(hidden_size=args.hidden_size)[args.kind]
    model = NERModel.from_pretrained(path, device=args.device)
    texts = make_texts(args.texts, args.words, seed=args.words)
    labels = make_labels(args.labels)

    def run() -> None:
        model.predict_batch(
            texts,
            labels,
            threshold=args.threshold,
            batch_size=args.batch_size,
            autocast_dtype=autocast,
        )
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    run()  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"{args.kind} {args.labels} labels: {len(texts) / best:.1f} texts/s (best of 3)")
    prof = cProfile.Profile()
    prof.enable()
    run()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.rows)
    activities = [ProfilerActivity.CPU]
    if args.device.startswith("cuda"):
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as p:
        run()
    sort = "self_cuda_time_total" if args.device.startswith("cuda") else "self_cpu_time_total"
    print(p.key_averages().table(sort_by=sort, row_limit=args.rows))


if __name__ == "__main__":
    main()
