"""Peak memory and time of one ``NERModel.predict`` call on one long text.

    python benchmarks/long_text_memory.py --words 40000 --model CKPT
    ONEDNN_PRIMITIVE_CACHE_CAPACITY=1024 python benchmarks/long_text_memory.py ...  # oneDNN default

Prints words, windows, entities, seconds, and peak RSS before and after the call (MiB).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time

VOCAB = ["the", "gene", "protein", "alpha", "beta", "insulin", "cd4", "hela", "xyz", "12,5"]
VOCAB += ["cancer", "was", "of", "in"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="checkpoint directory")
    parser.add_argument("--words", type=int, default=40000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from biomedner import NERModel

    torch.set_num_threads(args.threads)
    model = NERModel.from_pretrained(args.model)
    rng = random.Random(0)
    text = " ".join(rng.choice(VOCAB) for _ in range(args.words))
    labels = ["gene", "disease", "chemical"]
    windows = len(model.pipeline.prepare([text], [labels]).windows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    t0 = time.perf_counter()
    entities = model.predict(text, labels, threshold=0.5)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"words={args.words} windows={windows} entities={len(entities)} seconds={seconds:.1f} "
        f"peak_rss_before_mib={before} peak_rss_mib={peak} "
        f"onednn_cache={os.environ.get('ONEDNN_PRIMITIVE_CACHE_CAPACITY')}"
    )


if __name__ == "__main__":
    main()
