"""What the spaCy component adds to ``predict_batch``: the same texts through
``NERModel.predict_batch`` and through ``nlp.pipe`` on ``spacy.blank("en")`` (spaCy's tokenizer,
alignment, doc.ents / doc.spans), each repeat running both, in alternating order.

    python benchmarks/spacy_component.py [--kind uni|bi] [--texts 64] [--words 30] [--mode flat]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import build_checkpoints, machine_info, make_labels, make_texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["uni", "bi"], default="uni")
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--words", type=int, default=30)
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--mode", default="flat", choices=["flat", "nested", "multi_label"])
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--hidden-size", type=int, default=384)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import spacy
    import torch

    import biomedner.integrations.spacy  # noqa: F401  (registers the factory without pip install)

    torch.set_num_threads(args.threads)
    path = build_checkpoints(hidden_size=args.hidden_size)[args.kind]
    texts = make_texts(args.texts, args.words)
    labels = make_labels(args.labels)
    nlp = spacy.blank("en")
    config = {
        "model": str(path),
        "labels": labels,
        "threshold": args.threshold,
        "mode": args.mode,
        "batch_size": args.batch_size,
    }
    component = nlp.add_pipe("biomedner", config=config)
    model = component.model
    # the component encodes a bi-encoder's labels once; the direct call gets the same LabelSet
    direct_labels = component._labels

    def direct() -> int:
        rows = model.predict_batch(
            texts,
            direct_labels,
            threshold=args.threshold,
            mode=args.mode,
            batch_size=args.batch_size,
        )
        return sum(map(len, rows))

    def through_spacy() -> int:
        return sum(d._.biomedner_stats["entities"] for d in nlp.pipe(texts, batch_size=len(texts)))

    direct(), through_spacy()  # warm-up
    ratios, times = [], {"predict_batch": [], "nlp.pipe": []}
    for r in range(args.repeats):
        order = [("predict_batch", direct), ("nlp.pipe", through_spacy)]
        if r % 2:
            order.reverse()
        spent = {}
        for name, fn in order:
            t0 = time.perf_counter()
            fn()
            spent[name] = time.perf_counter() - t0
            times[name].append(spent[name])
        ratios.append(spent["nlp.pipe"] / spent["predict_batch"])
    stats = component.stats
    print(f"machine: {machine_info()}")
    print(
        f"{args.kind}, {args.texts} texts of ~{args.words} words, {args.labels} labels, "
        f"{args.mode}, threshold {args.threshold}, batch {args.batch_size}, "
        f"{args.threads} threads, {args.repeats} repeats"
    )
    for name, runs in times.items():
        print(
            f"{name}: median {statistics.median(runs):.3f} s ({args.texts / statistics.median(runs):.1f} texts/s)"
        )
    print(f"nlp.pipe / predict_batch: median of per-repeat ratios {statistics.median(ratios):.3f}")
    print(f"component counts over all runs: {stats}")


if __name__ == "__main__":
    main()
