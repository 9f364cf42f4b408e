"""Side by side on the published GLiNER-BioMed backbone shapes: random DeBERTa-v3-shaped
checkpoints written by gliner, every speed option of biomedner, gliner and fast-gliner
interleaved in one run.

    python benchmarks/bench_published.py --texts 64 --repeats 3 --out /tmp/published.json
    python benchmarks/bench_published.py --shape base --kinds bi --labels 3,20 --cached-labels 1000

Shapes: ``small`` is DeBERTa-v3-small (6 layers of 768, 12 heads, feed-forward 3072, relative
attention with 256 position buckets, no absolute positions), ``base`` the same with 12 layers.
The DeBERTa-v3 tokenizer is not available offline: the texts are tokenized by the small Unigram
tokenizer of the test fixtures ([PAD]/[CLS]/[SEP] at ids 0/1/2, as in DeBERTa-v3), so token
counts per word differ from the real model's. The bi-encoder's label encoder is MiniLM-L6 (the
one encoder available offline) for both shapes. Weights are random: entities per text, and the
agreement with gliner torch's entities, show whether two runners do the same work, not accuracy.

Sections: one per kind and label count (``--labels``, default 3 and 20); for the bi-encoder
also ``--cached-labels`` (default 1,000), where the runners get their label vectors computed
once, outside the timing (biomedner: ``encode_labels`` -> ``LabelSet``; gliner torch and int8:
their label encoder's vectors + ``batch_predict_with_embeds``; gliner ONNX: gliner torch's
vectors into a graph exported with a label-embedding input), so the target "bi-encoder with
1,000 cached labels >= 0.6x its 3-label speed" is printed at the end. The cached sections run
the references and ``--cached-runners`` (default: biomedner's runners; gliner's int8 and ONNX
runners take minutes a call there on 2 cores, as these random weights put many span scores near
0.5 and gliner decodes every candidate above the threshold in Python). In plain bi sections
``biomedner fp32 cached`` is biomedner fp32 with a LabelSet of that section's labels.

Runners (``--runners``): the three references always run; gliner's ONNX runners use gliner
0.2.29's own export (``export_to_onnx(quantize=True)``, see ``gliner_onnx_export.py``, which
also says how the bi-encoder's label-embedding graph is exported around a gliner bug) and its
own loader (``GLiNER.from_pretrained(dir, load_onnx_model=True, onnx_model_file=...)``, with
``--threads`` intra-op threads). biomedner's ONNX sessions use onnxruntime's default thread
count (the machine's cores).

fast-gliner (``fast-gliner``, ``fast-gliner int8``: gliner's ``model.onnx`` /
``model_quantized.onnx`` of the same checkpoint) needs huggingface-hub<1.0 and so its own venv;
it runs there in a persistent child process (``fastgliner_child.py``), started once, that answers
"run" requests over stdin/stdout; the parent times each request in the same interleaved rounds
(``child_compute_s`` in the JSON is the child's own time inside fast-gliner). Create the venv
once with:

    python3 -m venv /work/venvs/fastgliner
    /work/venvs/fastgliner/bin/pip install "fast-gliner==0.3.*"

(or point ``--fast-gliner-python`` at another venv's python). Without it the script says so in
one line and skips these runners. fast-gliner's Python API has no threshold (it is 0.5) and no
thread setting (onnxruntime's default, the machine's cores); its decoding keeps one span per
chain of overlapping candidates (a left-to-right scan), not gliner's greedy choice by score, so
on these random weights it finds fewer entities than gliner from the same scores. It runs only
uni-encoder graphs: on gliner's bi-encoder export it fails (the error is printed and kept in
the JSON under "skipped").

Memory: every runner of a kind is loaded at once (process peak 8.5 GB in a smoke run of the
small shape with every runner, 6.9 GB for the base shape with four; fast-gliner's children
come on top, 0.7-1.3 GB each).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
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
SHAPES = {"small": PUBLISHED_SMALL, "base": {**PUBLISHED_SMALL, "num_hidden_layers": 12}}
DEFAULT_FAST_GLINER_PYTHON = Path("/work/venvs/fastgliner/bin/python")


def _hwm_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_backbone(cache: Path, shape: str = "small") -> Path:
    import torch
    from tests.fixtures.checkpoints import build_tiny_deberta_backbone
    from transformers import DebertaV2Config, DebertaV2Model

    out = cache / f"deberta-v3-{shape}-shape"
    if (out / "config.json").is_file():
        return out
    build_tiny_deberta_backbone(out)  # its tokenizer; the model is replaced below
    torch.manual_seed(0)
    config = DebertaV2Config(pad_token_id=0, **SHAPES[shape])
    DebertaV2Model(config).save_pretrained(out)
    return out


def build_gliner(cache: Path, backbone: Path, kind: str, shape: str = "small") -> Path:
    import torch
    from gliner import GLiNER, GLiNERConfig

    out = cache / f"published-{shape}-{kind}"
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
    "biomedner fp32 cached",
    "biomedner int8",
    "biomedner bf16",
    "biomedner onnx",
    "biomedner onnx-int8",
    "gliner int8",
    "gliner onnx",
    "gliner onnx-int8",
    "fast-gliner",
    "fast-gliner int8",
)
CACHED_DEFAULT = ("biomedner int8", "biomedner bf16", "biomedner onnx", "biomedner onnx-int8")
FAST_GLINER = {"fast-gliner": "model.onnx", "fast-gliner int8": "model_quantized.onnx"}


class Models:
    """Every model one kind's runners need, loaded once and shared by its label sections."""

    def __init__(self, ckpt: Path, kind: str, work: Path, wanted: set[str], args) -> None:
        from gliner import GLiNER

        from biomedner.model import NERModel

        self.kind = kind
        self.skipped: dict[str, str] = {}
        self.fp32 = NERModel.from_pretrained(ckpt)
        self.plain = self.int8 = self.onnx = self.onnx_int8 = None
        if "biomedner fp32 ref-enc" in wanted:  # CPU encoder shortcut off: its gain alone
            self.plain = NERModel.from_pretrained(ckpt)
            self.plain.module.encoder._fast_path = False
        if "biomedner int8" in wanted:
            self.int8 = NERModel.from_pretrained(ckpt, quantize="int8")
        if wanted & {"biomedner onnx", "biomedner onnx-int8"}:
            onnx_dir, onnx_int8_dir = _biomedner_onnx_exports(self.fp32, work, ckpt.name)
            if "biomedner onnx" in wanted:
                self.onnx = NERModel.from_pretrained(onnx_dir, backend="onnx")
            if "biomedner onnx-int8" in wanted:
                self.onnx_int8 = NERModel.from_pretrained(onnx_int8_dir, backend="onnx")
        self.g = GLiNER.from_pretrained(str(ckpt), load_tokenizer=True)
        self.gq = None
        if "gliner int8" in wanted:
            self.gq = GLiNER.from_pretrained(str(ckpt), load_tokenizer=True, quantize="int8")
        self.g_onnx: dict[str, object] = {}  # runner name -> (full graph, label-embedding graph)
        fast = [n for n in FAST_GLINER if n in wanted]
        if wanted & {"gliner onnx", "gliner onnx-int8"} or fast:
            from benchmarks.gliner_onnx_export import EMBEDS, FULL, export_gliner_onnx

            cached = (
                kind == "bi"
                and bool(args.cached_labels)
                and bool(wanted & set(args.cached_runners) & {"gliner onnx", "gliner onnx-int8"})
            )
            g_dir = export_gliner_onnx(
                self.g, work / f"gliner-onnx-{ckpt.name}", with_embeds=cached
            )
            for name, full, embeds in (
                ("gliner onnx", FULL[0], EMBEDS[0]),
                ("gliner onnx-int8", FULL[1], EMBEDS[1]),
            ):
                if name in wanted:
                    self.g_onnx[name] = (
                        _gliner_onnx(g_dir, full, args.threads),
                        _gliner_onnx(g_dir, embeds, args.threads) if cached else None,
                    )
        self.children: dict[str, object] = {}
        if fast:
            self._start_fast_gliner(fast, g_dir, args)

    def _start_fast_gliner(self, names: list[str], g_dir: Path, args) -> None:
        from benchmarks.fastgliner_client import ChildError, FastGlinerChild

        for name in names:
            try:
                child = FastGlinerChild.start(args.fast_gliner_python, g_dir, FAST_GLINER[name])
            except ChildError as exc:
                self.skipped[name] = str(exc)
                continue
            print(
                f"  {name}: fast-gliner {child.version} loaded {FAST_GLINER[name]} in "
                f"{child.load_s:.1f} s (pid {child.proc.pid})",
                file=sys.stderr,
            )
            self.children[name] = child

    def close(self) -> None:
        for child in self.children.values():
            child.close()


def _gliner_onnx(g_dir: Path, file: str, threads: int):
    import onnxruntime as ort
    from gliner import GLiNER

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return GLiNER.from_pretrained(
        str(g_dir),
        load_onnx_model=True,
        onnx_model_file=file,
        load_tokenizer=True,
        session_options=options,
    )


def _gliner_label_vectors(g, labels: list[str]):
    """What gliner's ``encode_labels`` computes, with the label tokens padded to the longest
    label instead of to 512 tokens (its ``padding="max_length"`` costs minutes for 1,000 labels
    on 2 cores; the padding is masked out: 6e-7 apart on 30 labels, vectors of mean size 0.16)."""
    import torch

    tokenizer = g.data_processor.labels_tokenizer
    out = []
    with torch.inference_mode():
        for i in range(0, len(labels), 64):
            tokens = tokenizer(labels[i : i + 64], return_tensors="pt", padding=True)
            out.append(g.model.token_rep_layer.encode_labels(**tokens))
    return torch.cat(out)


Runner = Callable[[list[str]], list]


def runners(m: Models, labels: list[str], cached: bool, wanted: set[str], args, log) -> dict:
    """name -> function of the texts, for one section. ``cached``: label vectors computed here,
    once, outside the timing, and only the ``--cached-runners`` besides the references.
    ``log[name]`` collects a child's own compute seconds per call."""
    import torch

    use = (wanted & set(args.cached_runners)) if cached else wanted

    kw = {"threshold": args.threshold, "batch_size": args.batch}
    gkw = {"threshold": args.threshold, "batch_size": args.batch}
    bi = m.kind == "bi"

    def bm(model, **extra) -> Runner:
        target = model.encode_labels(labels) if cached else labels
        return lambda t: model.predict_batch(t, target, **kw, **extra)

    out: dict[str, Runner] = {"biomedner fp32": bm(m.fp32)}
    if m.plain is not None and "biomedner fp32 ref-enc" in use:
        out["biomedner fp32 ref-enc"] = bm(m.plain)
    if bi and not cached and "biomedner fp32 cached" in use:
        label_set = m.fp32.encode_labels(labels)
        out["biomedner fp32 cached"] = lambda t: m.fp32.predict_batch(t, label_set, **kw)
    if m.int8 is not None and "biomedner int8" in use:
        out["biomedner int8"] = bm(m.int8)
    if "biomedner bf16" in use:
        out["biomedner bf16"] = bm(m.fp32, autocast_dtype=torch.bfloat16)
    if m.onnx is not None and "biomedner onnx" in use:
        out["biomedner onnx"] = bm(m.onnx)
    if m.onnx_int8 is not None and "biomedner onnx-int8" in use:
        out["biomedner onnx-int8"] = bm(m.onnx_int8)

    def gl(model, vectors=None) -> Runner:
        if vectors is None:
            return lambda t: model.inference(t, labels, **gkw)
        return lambda t: model.batch_predict_with_embeds(t, vectors, labels, **gkw)

    vectors = _gliner_label_vectors(m.g, labels) if cached else None
    out["gliner torch"] = gl(m.g, vectors)
    if m.gq is not None and "gliner int8" in use:
        out["gliner int8"] = gl(m.gq, _gliner_label_vectors(m.gq, labels) if cached else None)
    for name, (full, embeds) in m.g_onnx.items():
        if name in use:
            out[name] = gl(embeds, vectors) if cached else gl(full)
    for name, child in m.children.items():
        if name in use:  # fast-gliner runs uni-encoders only, so never cached
            out[name] = _child_runner(child, labels, args.batch, log.setdefault(name, []))

    backbone = m.fp32.module.encoder.backbone
    pipeline = m.fp32.pipeline

    def encoder_only(texts):
        # the encoder over exactly the token rows biomedner feeds it, nothing else
        prepared = pipeline.prepare(texts, [labels] * len(texts))
        with torch.inference_mode():
            for i in range(0, len(prepared.rows), args.batch):
                b = pipeline.collate_rows(prepared.rows[i : i + args.batch])
                backbone(input_ids=b.input_ids, attention_mask=b.attention_mask)
        return None

    out["HF encoder forward"] = encoder_only
    return out


def _child_runner(child, labels: list[str], batch: int, log: list[float]) -> Runner:
    def run(texts):
        entities, compute_s = child.run(texts, labels, batch)
        log.append(compute_s)
        return entities

    return run


def _biomedner_onnx_exports(model, work: Path, name: str) -> tuple[Path, Path]:
    from biomedner.onnx.export import SPAN_GRAPH, _quantize_int8, export_onnx

    onnx_dir = work / f"onnx-{name}"
    if not (onnx_dir / "onnx_export.json").is_file():
        export_onnx(model, onnx_dir)
    onnx_int8_dir = work / f"onnx-int8-{name}"
    if not (onnx_int8_dir / "onnx_export.json").is_file():
        shutil.copytree(onnx_dir, onnx_int8_dir, dirs_exist_ok=True)
        _quantize_int8([onnx_int8_dir / SPAN_GRAPH])
        manifest = json.loads((onnx_int8_dir / "onnx_export.json").read_text())
        manifest["quantize"] = "int8"
        (onnx_int8_dir / "onnx_export.json").write_text(json.dumps(manifest))
    return onnx_dir, onnx_int8_dir


def entity_keys(result) -> list[set[tuple[int, int, str]]]:
    """(start, end, label) per text, from biomedner's Entity objects or gliner's dicts."""
    keys = []
    for entities in result:
        keys.append(
            {
                (e["start"], e["end"], e["label"])
                if isinstance(e, dict)
                else (e.start, e.end, e.label)
                for e in entities
            }
        )
    return keys


def agreement(a: list[set], b: list[set]) -> float:
    """2|A ∩ B| / (|A| + |B|) over all texts: 1.0 for the same entities."""
    shared = sum(len(x & y) for x, y in zip(a, b, strict=True))
    total = sum(len(x) + len(y) for x, y in zip(a, b, strict=True))
    return 2 * shared / total if total else 1.0


def run_section(run: dict, texts: list[str], repeats: int, log: dict, m: Models) -> dict:
    """Warm-up (entities, memory rise), then ``repeats`` interleaved rounds; the statistics of
    every runner that did not fail its warm-up (a fast-gliner child that fails is skipped)."""
    from benchmarks.fastgliner_client import ChildError

    stats: dict[str, dict] = {}
    keys: dict[str, list[set]] = {}
    for name, fn in list(run.items()):
        before = _hwm_mib()
        t0 = time.perf_counter()
        try:
            result = fn(texts)
        except ChildError as exc:
            print(f"  {name}: skipped: {exc}", file=sys.stderr)
            m.skipped[name] = str(exc)
            del run[name]
            m.children.pop(name).close()  # and in the later sections
            continue
        print(f"  warm-up {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        stats[name] = {"peak_rss_rise_mib": round(_hwm_mib() - before, 1), "times": []}
        if result is not None:
            keys[name] = entity_keys(result)
            stats[name]["entities_per_text"] = statistics.mean(len(k) for k in keys[name])
    for calls in log.values():  # the warm-up's compute time is not a round's
        calls.clear()
    for _ in range(repeats):  # interleaved: every runner once per round
        for name, fn in run.items():
            gc.collect()
            t0 = time.perf_counter()
            fn(texts)
            stats[name]["times"].append(time.perf_counter() - t0)
    for name, s in stats.items():
        s["texts_per_s"] = round(len(texts) / statistics.median(s["times"]), 2)
        for ref in REFERENCES:
            ratios = [a / b for a, b in zip(stats[ref]["times"], s["times"], strict=True)]
            s[f"speed_vs_{ref.replace(' ', '_')}"] = round(statistics.median(ratios), 3)
        if name in keys:
            s["agreement_with_gliner_torch"] = round(agreement(keys[name], keys["gliner torch"]), 3)
        if log.get(name):
            s["child_compute_s"] = log[name]
            s["child_texts_per_s"] = round(len(texts) / statistics.median(log[name]), 2)
            s["child_peak_rss_mib"] = round(_hwm_mib(m.children[name].proc.pid), 1)
    return stats


def print_section(title: str, stats: dict) -> None:
    print(f"\n{title}")
    print(
        f"{'runner':24s} {'texts/s':>8s} {'x fp32':>7s} {'x gliner':>8s} {'x enc':>6s} "
        f"{'ent/text':>8s} {'agree':>6s} {'rss+MiB':>8s}"
    )
    for name, s in stats.items():
        ent = f"{s['entities_per_text']:8.2f}" if "entities_per_text" in s else f"{'-':>8s}"
        agree = f"{s['agreement_with_gliner_torch']:6.2f}" if "entities_per_text" in s else "     -"
        print(
            f"{name:24s} {s['texts_per_s']:8.1f} {s['speed_vs_biomedner_fp32']:7.2f} "
            f"{s['speed_vs_gliner_torch']:8.2f} {s['speed_vs_HF_encoder_forward']:6.2f} "
            f"{ent} {agree} {s['peak_rss_rise_mib']:8.1f}"
        )
    for name, s in stats.items():
        if "child_compute_s" in s:
            print(
                f"  {name}: {s['child_texts_per_s']:.1f} texts/s inside the child "
                f"(the rest is the request's round trip); child peak RSS "
                f"{s['child_peak_rss_mib']:.0f} MiB"
            )


def _counts(value: str, flag: str, ap) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        ap.error(f"{flag}: expected comma-separated label counts such as 3,20, got {value!r}")
    if any(c < 1 for c in counts):
        ap.error(f"{flag}: label counts must be at least 1, got {value!r}")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="small")
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--words", type=int, default=30)
    ap.add_argument("--labels", default="3,20", help="label counts, one section each")
    ap.add_argument(
        "--cached-labels",
        default="1000",
        help="bi-encoder only: label counts run with label vectors computed once, outside the "
        "timing ('' for none)",
    )
    ap.add_argument(
        "--cached-runners",
        default=",".join(CACHED_DEFAULT),
        help="those of --runners that also run in the cached-label sections (besides the three "
        "references; default: biomedner's; gliner's int8 and ONNX runners take minutes per "
        "call at 1,000 labels on 2 cores with these random weights, so they are opt-in)",
    )
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kinds", default="uni,bi")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE / "published")
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--fast-gliner-python",
        type=Path,
        default=Path(os.environ.get("FAST_GLINER_PYTHON", DEFAULT_FAST_GLINER_PYTHON)),
        help="python of the venv with fast-gliner (default $FAST_GLINER_PYTHON or "
        f"{DEFAULT_FAST_GLINER_PYTHON})",
    )
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
    args.cached_runners = [n.strip() for n in args.cached_runners.split(",") if n.strip()]
    unknown = sorted(set(args.cached_runners) - set(OPTIONAL) - set(REFERENCES))
    if unknown:
        ap.error(
            f"--cached-runners: unknown runner(s) {', '.join(unknown)}; choose from {OPTIONAL}"
        )
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or set(kinds) - {"uni", "bi"}:
        ap.error(f"--kinds: expected uni, bi or uni,bi, got {args.kinds!r}")
    label_counts = _counts(args.labels, "--labels", ap)
    args.cached_labels = _counts(args.cached_labels, "--cached-labels", ap)
    for flag, value in (("--texts", args.texts), ("--batch", args.batch)):
        if value < 1:
            ap.error(f"{flag} must be at least 1, got {value}")
    if args.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {args.repeats}")
    if FAST_GLINER.keys() & wanted:
        if not args.fast_gliner_python.is_file():
            why = f"no fast-gliner venv at {args.fast_gliner_python} (the docstring says how)"
        elif not math.isclose(args.threshold, 0.5):
            why = f"its threshold is fixed at 0.5, this run uses {args.threshold}"
        else:
            why = None
        if why is not None:
            print(f"fast-gliner: skipped, {why}", file=sys.stderr)
            wanted -= FAST_GLINER.keys()

    import torch

    torch.set_num_threads(args.threads)
    args.cache.mkdir(parents=True, exist_ok=True)
    backbone = build_backbone(args.cache, args.shape)
    texts = make_texts(args.texts, args.words)
    report: dict = {
        "machine": machine_info(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "sections": {},
    }
    for kind in kinds:
        ckpt = build_gliner(args.cache, backbone, kind, args.shape)
        models = Models(ckpt, kind, args.cache, wanted, args)
        sections = [(n, False) for n in label_counts]
        if kind == "bi":
            sections += [(n, True) for n in args.cached_labels]
        try:
            for count, cached in sections:
                labels = make_labels(count)
                log: dict[str, list[float]] = {}
                run = runners(models, labels, cached, wanted, args, log)
                stats = run_section(run, texts, args.repeats, log, models)
                title = f"{args.shape} {kind}, {count} labels" + (" (cached)" if cached else "")
                report["sections"][title] = stats
                print_section(f"{title}: {args.texts} texts x ~{args.words} words", stats)
                del run
                gc.collect()
        finally:
            models.close()
        for name, why in models.skipped.items():
            print(f"  {kind}: {name} not run: {why}")
        report.setdefault("skipped", {})[kind] = models.skipped
        del models
        gc.collect()
    report["targets"] = cached_label_target(report["sections"], args.shape)
    for line in report["targets"].get("lines", []):
        print(line)
    report["hwm_mib"] = _hwm_mib()
    if args.out:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2))
        tmp.replace(args.out)


def cached_label_target(sections: dict, shape: str) -> dict:
    """biomedner fp32 with cached labels at each cached count against its 3-label speed (ratio
    of medians from two sections of the same run, not paired)."""
    three = sections.get(f"{shape} bi, 3 labels")
    out: dict = {"lines": []}
    if three is None:
        return out
    for title, stats in sections.items():
        if not title.startswith(f"{shape} bi,") or not title.endswith("(cached)"):
            continue
        many = stats["biomedner fp32"]["texts_per_s"]
        ratio = many / three["biomedner fp32"]["texts_per_s"]
        out[title] = {"vs_3_labels": round(ratio, 3)}
        line = (
            f"target bi-encoder, {title.split(', ')[1]}: biomedner fp32 {many:.1f} texts/s = "
            f"{ratio:.2f} x its 3-label speed (target >= 0.6)"
        )
        if "biomedner fp32 cached" in three:
            ratio_cached = many / three["biomedner fp32 cached"]["texts_per_s"]
            out[title]["vs_3_labels_cached"] = round(ratio_cached, 3)
            line += f", {ratio_cached:.2f} x its 3-label speed with a cached LabelSet"
        out["lines"].append(line)
    return out


if __name__ == "__main__":
    main()
