"""Quick parity check: biomedner and gliner predictions on the same checkpoint and texts.

    python benchmarks/parity_check.py [--n 50]

Spans must be identical, except where a score lies within 1e-4 of the threshold (counted).
Exit status 1 on any other difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import build_checkpoints, make_labels, make_texts


def main() -> int:
    import torch
    from gliner import GLiNER

    from biomedner.model import NERModel

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    torch.set_num_threads(2)
    paths = build_checkpoints()
    texts = make_texts(args.n - 4, 30, seed=7) + make_texts(4, 200, seed=8)
    bad = 0
    for kind, path in paths.items():
        ours = NERModel.from_pretrained(path)
        ref = GLiNER.from_pretrained(str(path)).eval()
        for num_labels in (3, 20):
            labels = make_labels(num_labels)
            for flat in (True, False):
                got = ours.predict_batch(
                    texts, labels, threshold=args.threshold, mode="flat" if flat else "nested",
                    batch_size=8,
                )  # fmt: skip
                want = ref.inference(
                    texts, labels, threshold=args.threshold, flat_ner=flat, batch_size=8
                )
                same = near = other = 0
                for g, w in zip(got, want):
                    a = {(e.start, e.end, e.label): e.score for e in g}
                    b = {(d["start"], d["end"], d["label"]): d["score"] for d in w}
                    if a.keys() == b.keys():
                        same += 1
                        continue
                    diff = [s for key in a.keys() ^ b.keys() for s in [a.get(key, b.get(key))]]
                    if all(abs(s - args.threshold) < 1e-4 for s in diff):
                        near += 1
                    else:
                        other += 1
                bad += other
                print(
                    f"{kind} labels={num_labels:>2} flat={flat!s:5}: identical {same}, "
                    f"near-threshold only {near}, other differences {other}"
                )
    print("PARITY OK" if bad == 0 else f"PARITY FAILED: {bad} texts differ")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
