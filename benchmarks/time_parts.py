"""Where a forward pass goes, part by part, as shares of the HF encoder's reference forward.

    python benchmarks/time_parts.py [--kind uni|bi] [--labels 3] [--hidden-size 384]

On biomedner's own padded batches (as ``bench_inference.py`` builds them), each repeat runs
the HF backbone forward once and then biomedner's model once with a clock between its parts:
encoder path, word BiLSTM (uni), label MLP or label encoding (bi), the span head's per-word
layers and its span part. ``predict_batch`` runs in the same repeat, so "host" (splitting,
tokenizing, collating, decoding) is its time less the model's. Each share is the median of the
per-repeat ratios to that repeat's HF forward. CPU only: the clock does not wait for a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_inference import encoder_batches
from common import add_workload_options, build_checkpoints, make_labels, make_texts


class Clock:
    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._last = time.perf_counter()

    def start(self) -> None:
        self._last = time.perf_counter()

    def lap(self, part: str) -> None:
        now = time.perf_counter()
        self.spent[part] = self.spent.get(part, 0.0) + now - self._last
        self._last = now


def model_by_parts(model, batches, label_set, clock: Clock) -> None:
    """The model's forward (``modeling/uni_encoder.py``, ``bi_encoder.py``) with a lap after
    each part; the same calls in the same order."""
    import torch

    module = model.module
    head = module.span_head
    with torch.inference_mode():
        if label_set is not None:
            clock.start()
            labels = model.encode_labels(label_set).vectors
            clock.lap("label encoding")
        for batch in batches:
            clock.start()
            if label_set is None:
                positions, read = batch.read_positions()
                states = module.encoder.at_positions(
                    batch.input_ids, batch.attention_mask, positions, read
                )
                clock.lap("encoder path")
                num_words = batch.word_index.size(1)
                words = states[:, :num_words]
                if module.word_lstm is not None:
                    words = module.word_lstm(words, batch.word_mask)
                clock.lap("word BiLSTM")
                batch_labels = module.label_mlp(states[:, num_words:])
                clock.lap("label MLP")
            else:
                words = module.encoder.at_positions(
                    batch.input_ids, batch.attention_mask, batch.word_index, batch.word_mask
                )
                clock.lap("encoder path")
                batch_labels = labels.unsqueeze(0).expand(words.size(0), -1, -1)
            a, b = head._word_terms(words, batch.word_mask)
            clock.lap("span head: per-word layers")
            b_spans = b.unfold(1, head.max_width, 1).transpose(-1, -2)
            fold = head.folds_labels(batch_labels.size(1))
            head._chunked(a, b_spans, batch_labels, batch.word_mask, fold)
            clock.lap("span head: span part")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_workload_options(ap, hidden_size=384, threshold=0.9)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)

    import torch

    from biomedner.model import NERModel

    torch.set_num_threads(args.threads)
    model = NERModel.from_pretrained(build_checkpoints(hidden_size=args.hidden_size)[args.kind])
    texts = make_texts(args.texts, args.words, seed=args.words)
    labels = make_labels(args.labels)
    batches = encoder_batches(model, texts, labels, args.batch_size)
    label_set = labels if args.kind == "bi" else None
    backbone = model.module.encoder.backbone

    @torch.inference_mode()
    def reference() -> None:
        for b in batches:
            backbone(input_ids=b.input_ids, attention_mask=b.attention_mask)

    def end_to_end() -> None:
        model.predict_batch(texts, labels, threshold=args.threshold, batch_size=args.batch_size)

    shares: dict[str, list[float]] = {}
    for rep in range(args.repeats + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        reference()
        hf = time.perf_counter() - t0
        clock = Clock()
        model_by_parts(model, batches, label_set, clock)
        t0 = time.perf_counter()
        end_to_end()
        total = time.perf_counter() - t0
        if rep == 0:
            continue
        parts = dict(clock.spent)
        parts["host (end to end less the parts above)"] = total - sum(parts.values())
        parts["`predict_batch` end to end"] = total
        for name, spent in parts.items():
            shares.setdefault(name, []).append(spent / hf)
    print(
        f"{args.kind}-encoder, hidden {args.hidden_size}, {len(texts)} texts of ~{args.words} "
        f"words, batch {args.batch_size}, {args.labels} labels, {args.repeats} repeats\n"
    )
    print("| part | share of the HF encoder's time |\n|---|---|")
    print("| HF encoder, reference forward (padded batches) | 1.00 |")
    for name, values in shares.items():
        print(f"| {name} | {statistics.median(values):.3f} |")


if __name__ == "__main__":
    main()
