"""Side by side on the published GLiNER-BioMed backbone shape: a random DeBERTa-v3-small-shaped
checkpoint written by gliner, every speed option of biomedner and gliner interleaved in one run.

    python benchmarks/bench_published.py --texts 64 --repeats 3 --out /tmp/published.json

The DeBERTa-v3 tokenizer is not available offline: the texts are tokenized by the small
Unigram tokenizer of the test fixtures ([PAD]/[CLS]/[SEP] at ids 0/1/2, as in DeBERTa-v3), so
token counts per word differ from the real model's. The bi-encoder's label encoder is MiniLM-L6
(the one encoder available offline). Weights are random: entities per text show whether two
runners do the same work, not accuracy.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DEFAULT_CACHE, machine_info, make_labels, make_texts, minilm_dir

# DeBERTa-v3-small: 6 layers of 768, 12 heads, 3072 feed-forward, relative attention only
PUBLISHED_SMALL = {
    "hidden_size": 768,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "relative_attention": True,
    "position_buckets": 256,
    "norm_rel_ebd": "layer_norm",
    "share_att_key": True,
    "pos_att_type": ["p2c", "c2p"],
    "position_biased_input": False,
    "max_relative_positions": -1,
    "type_vocab_size": 0,
    "vocab_size": 128100,
}


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_backbone(cache: Path) -> Path:
    import torch
    from tests.fixtures.checkpoints import build_tiny_deberta_backbone
    from transformers import DebertaV2Config, DebertaV2Model

    out = cache / "deberta-v3-small-shape"
    if (out / "config.json").is_file():
        return out
    build_tiny_deberta_backbone(out)  # its tokenizer; the model is replaced below
    torch.manual_seed(0)
    config = DebertaV2Config(pad_token_id=0, **PUBLISHED_SMALL)
    DebertaV2Model(config).save_pretrained(out)
    return out


def build_gliner(cache: Path, backbone: Path, kind: str) -> Path:
    import torch
    from gliner import GLiNER, GLiNERConfig

    out = cache / f"published-small-{kind}"
    if (out / "model.safetensors").is_file():
        return out
    torch.manual_seed(0)
    extra = {"labels_encoder": minilm_dir()} if kind == "bi" else {}
    model = GLiNER.from_config(
        GLiNERConfig(model_name=str(backbone), max_width=12, hidden_size=768, dropout=0.0, **extra)
    )
    model.float()
    model.save_pretrained(str(out), safe_serialization=True)
    return out


# the ratios are taken against these, so they always run
REFERENCES = ("biomedner fp32", "gliner torch", "HF encoder forward")
OPTIONAL = (
    "biomedner fp32 ref-enc",
    "biomedner int8",
    "biomedner bf16",
    "biomedner onnx",
    "biomedner onnx-int8",
    "gliner int8",
)


def runners(
    ckpt: Path,
    kind: str,
    work: Path,
    labels: list[str],
    batch: int,
    threshold: float,
    wanted: set[str],
) -> dict:
    import torch
    from gliner import GLiNER

    from biomedner.model import NERModel

    out: dict = {}
    kw = {"threshold": threshold, "batch_size": batch}
    fp32 = NERModel.from_pretrained(ckpt)
    out["biomedner fp32"] = lambda t: fp32.predict_batch(t, labels, **kw)
    if "biomedner fp32 ref-enc" in wanted:  # CPU encoder shortcut off: its gain alone
        plain = NERModel.from_pretrained(ckpt)
        plain.module.encoder._fast_path = False
        out["biomedner fp32 ref-enc"] = lambda t: plain.predict_batch(t, labels, **kw)
    if "biomedner int8" in wanted:
        int8 = NERModel.from_pretrained(ckpt, quantize="int8")
        out["biomedner int8"] = lambda t: int8.predict_batch(t, labels, **kw)
    if "biomedner bf16" in wanted:
        out["biomedner bf16"] = lambda t: fp32.predict_batch(
            t, labels, autocast_dtype=torch.bfloat16, **kw
        )
    if "biomedner onnx" in wanted or "biomedner onnx-int8" in wanted:
        onnx_dir, onnx_int8_dir = _onnx_exports(fp32, work, kind)
        if "biomedner onnx" in wanted:
            onnx = NERModel.from_pretrained(onnx_dir, backend="onnx")
            out["biomedner onnx"] = lambda t: onnx.predict_batch(t, labels, **kw)
        if "biomedner onnx-int8" in wanted:
            onnx_int8 = NERModel.from_pretrained(onnx_int8_dir, backend="onnx")
            out["biomedner onnx-int8"] = lambda t: onnx_int8.predict_batch(t, labels, **kw)
    g = GLiNER.from_pretrained(str(ckpt), load_tokenizer=True)
    out["gliner torch"] = lambda t: g.inference(t, labels, threshold=threshold, batch_size=batch)
    if "gliner int8" in wanted:
        gq = GLiNER.from_pretrained(str(ckpt), load_tokenizer=True, quantize="int8")
        out["gliner int8"] = lambda t: gq.inference(
            t, labels, threshold=threshold, batch_size=batch
        )
    backbone = fp32.module.encoder.backbone
    pipeline = fp32.pipeline

    def encoder_only(texts):
        # the encoder over exactly the token rows biomedner feeds it, nothing else
        prepared = pipeline.prepare(texts, [labels] * len(texts))
        with torch.inference_mode():
            for i in range(0, len(prepared.rows), batch):
                b = pipeline.collate_rows(prepared.rows[i : i + batch])
                backbone(input_ids=b.input_ids, attention_mask=b.attention_mask)
        return [[] for _ in texts]

    out["HF encoder forward"] = encoder_only
    return out


def _onnx_exports(model, work: Path, kind: str) -> tuple[Path, Path]:
    from biomedner.onnx.export import SPAN_GRAPH, _quantize_int8, export_onnx

    onnx_dir = work / f"onnx-{kind}"
    if not (onnx_dir / "onnx_export.json").is_file():
        export_onnx(model, onnx_dir)
    onnx_int8_dir = work / f"onnx-int8-{kind}"
    if not (onnx_int8_dir / "onnx_export.json").is_file():
        shutil.copytree(onnx_dir, onnx_int8_dir, dirs_exist_ok=True)
        _quantize_int8([onnx_int8_dir / SPAN_GRAPH])
        manifest = json.loads((onnx_int8_dir / "onnx_export.json").read_text())
        manifest["quantize"] = "int8"
        (onnx_int8_dir / "onnx_export.json").write_text(json.dumps(manifest))
    return onnx_dir, onnx_int8_dir


def count_entities(result) -> float:
    return statistics.mean(len(r) for r in result) if result else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--words", type=int, default=30)
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kinds", default="uni,bi")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE / "published")
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--runners",
        default=",".join(r for r in OPTIONAL if r != "biomedner fp32 ref-enc"),
        help="comma-separated runners besides the three references "
        f"({', '.join(REFERENCES)}), from: {', '.join(OPTIONAL)}; 'biomedner fp32 ref-enc' "
        "is biomedner fp32 with its CPU encoder shortcut (fast_bert.py / fast_deberta.py) off",
    )
    args = ap.parse_args()
    wanted = {name.strip() for name in args.runners.split(",") if name.strip()}
    unknown = sorted(wanted - set(OPTIONAL) - set(REFERENCES))
    if unknown:
        ap.error(f"--runners: unknown runner(s) {', '.join(unknown)}; choose from {OPTIONAL}")

    import torch

    torch.set_num_threads(args.threads)
    args.cache.mkdir(parents=True, exist_ok=True)
    backbone = build_backbone(args.cache)
    texts = make_texts(args.texts, args.words)
    labels = make_labels(args.labels)
    report = {"machine": machine_info(), "args": {k: str(v) for k, v in vars(args).items()}}
    for kind in args.kinds.split(","):
        ckpt = build_gliner(args.cache, backbone, kind)
        run = runners(ckpt, kind, args.cache, labels, args.batch, args.threshold, wanted)
        stats: dict[str, dict] = {}
        for name, fn in run.items():  # warm-up: first call, entities, memory rise
            before = _hwm_mib()
            t0 = time.perf_counter()
            result = fn(texts)
            print(
                f"  warm-up {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True
            )
            stats[name] = {
                "entities_per_text": count_entities(result),
                "peak_rss_rise_mib": round(_hwm_mib() - before, 1),
                "times": [],
            }
        for _ in range(args.repeats):  # interleaved: every runner once per round
            for name, fn in run.items():
                gc.collect()
                t0 = time.perf_counter()
                fn(texts)
                stats[name]["times"].append(time.perf_counter() - t0)
        rounds = range(args.repeats)
        for s in stats.values():
            s["texts_per_s"] = round(len(texts) / statistics.median(s["times"]), 2)
            for ref in REFERENCES:
                ratios = [stats[ref]["times"][r] / s["times"][r] for r in rounds]
                s[f"speed_vs_{ref.replace(' ', '_')}"] = round(statistics.median(ratios), 3)
        report[kind] = stats
        print(f"\n{kind}: {args.texts} texts x ~{args.words} words, {args.labels} labels")
        print(
            f"{'runner':26s} {'texts/s':>8s} {'x fp32':>7s} {'x gliner':>8s} {'x enc':>6s} {'ent/text':>8s} {'rss+MiB':>8s}"
        )
        for name, s in stats.items():
            print(
                f"{name:26s} {s['texts_per_s']:8.1f} {s['speed_vs_biomedner_fp32']:7.2f} "
                f"{s['speed_vs_gliner_torch']:8.2f} {s['speed_vs_HF_encoder_forward']:6.2f} "
                f"{s['entities_per_text']:8.2f} {s['peak_rss_rise_mib']:8.1f}"
            )
        del run
        gc.collect()
    report["hwm_mib"] = _hwm_mib()
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
