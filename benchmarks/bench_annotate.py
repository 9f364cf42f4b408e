"""Corpus annotation throughput and memory: ``biomedner annotate`` against plain
``NERModel.predict_batch`` on the same abstracts and checkpoint.

    python benchmarks/bench_annotate.py [--docs 2000] [--words 250] [--json out.json]

Every configuration runs in its own fresh process, timed inside it from before the model loads
to the last result (so model loading, worker start-up and Ray start-up are counted alike):
  - ``predict_batch``: load the model, predict every text in one call;
  - ``annotate`` local engine, 1 and 2 workers (worker processes, one model each);
  - ``annotate`` Ray engine, 1 and 2 actors on a local Ray instance.
Then peak RSS of ``annotate`` (local engine, 1 worker) for ``--rss-docs`` documents (the texts
repeated under new ids), with a tiny in-code model so 50,000 documents finish in minutes; the
point is that memory stays flat in corpus size, which does not depend on the model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
REPO = Path(__file__).parents[1]

from common import build_checkpoints, machine_info, make_labels, make_texts  # noqa: E402


def _write_corpus(path: Path, texts: list[str], n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"pmid{i}", "text": texts[i % len(texts)]}) + "\n")
    return path


# ---------------------------------------------------------------------------- children
def _warm_imports(model: str) -> None:
    """Loads the model once, untimed, in every child: transformers imports its tokenizer and
    model modules lazily (15-20 s on the loaded benchmark machine), and that cost must not land
    inside one configuration's timing and outside another's."""
    from biomedner.model import NERModel

    NERModel.from_pretrained(model)


def _child_predict(args: argparse.Namespace) -> dict:
    from biomedner.model import NERModel

    _warm_imports(args.model)
    with open(args.corpus, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    t0 = time.perf_counter()
    model = NERModel.from_pretrained(args.model)
    results = model.predict_batch(
        texts, args.label_list, threshold=args.threshold, batch_size=args.batch_size
    )
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "documents": len(texts), "entities": sum(map(len, results))}


def _child_annotate(args: argparse.Namespace) -> dict:
    from biomedner.annotate import AnnotateOptions, run_annotate

    _warm_imports(args.model)
    options = AnnotateOptions(
        inputs=[args.corpus],
        out=Path(args.out_dir),
        model=args.model,
        labels=args.label_list,
        threshold=args.threshold,
        batch_size=args.batch_size,
        shard_size=args.shard_size,
        engine=args.engine,
        workers=args.workers if args.engine == "local" else 1,
        actors=args.workers if args.engine == "ray" else 1,
        cpus_per_actor=max(1.0, (os.cpu_count() or 1) / args.workers),
        overwrite=True,
        progress=False,
    )
    t0 = time.perf_counter()
    summary = run_annotate(options)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "documents": summary["documents"], "entities": summary["entities"]}


def _run_child(argv: list[str]) -> dict:
    """Runs this script as a child; returns its JSON and its peak RSS (MiB)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [sys.executable, __file__, *argv], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f"child {argv} failed with {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    return result


def _tiny_model(cache: Path) -> Path:
    out = cache / "annotate-tiny-uni"
    if (out / "model.safetensors").is_file():
        return out
    sys.path.insert(0, str(REPO))
    from tests.model.conftest import build_tiny_backbone

    from biomedner import NERModel

    backbone = build_tiny_backbone(cache / "annotate-tiny-backbone")
    NERModel.from_backbone(
        str(backbone), hidden_size=24, max_width=4, max_len=64, dropout=0.0
    ).save_pretrained(out)
    return out


# ---------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--words", type=int, default=250, help="about this many words per abstract")
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--hidden-size", type=int, default=384)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--shard-size", type=int, default=200)
    ap.add_argument("--configs", default="predict,local1,local2,ray1,ray2")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--rss-docs", default="1000,50000")
    ap.add_argument("--rss-words", type=int, default=10)
    ap.add_argument("--json", type=Path)
    # child mode
    ap.add_argument("--child", choices=["predict", "annotate"])
    ap.add_argument("--corpus")
    ap.add_argument("--model")
    ap.add_argument("--out-dir")
    ap.add_argument("--engine", default="local")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--label-list", type=lambda s: s.split("|"))
    args = ap.parse_args()

    if args.child:
        run = _child_predict if args.child == "predict" else _child_annotate
        print(json.dumps(run(args)))
        return

    from common import DEFAULT_CACHE

    labels = make_labels(args.labels)
    model = build_checkpoints(hidden_size=args.hidden_size)["uni"]
    results: dict = {"machine": machine_info(), "args": vars(args) | {"json": str(args.json)}}
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    corpus = _write_corpus(work / "abstracts.jsonl", make_texts(args.docs, args.words), args.docs)
    common = ["--corpus", str(corpus), "--label-list", "|".join(labels),
              "--threshold", str(args.threshold), "--batch-size", str(args.batch_size),
              "--shard-size", str(args.shard_size)]  # fmt: skip
    configs = [c for c in args.configs.split(",") if c]
    runs: dict[str, list[dict]] = {c: [] for c in configs}
    # repeats rotate the order, so load drift on a shared machine hits every configuration alike
    for rep in range(args.repeats if configs else 0):
        for config in configs[rep % len(configs) :] + configs[: rep % len(configs)]:
            if config == "predict":
                argv = ["--child", "predict", "--model", str(model), *common]
            else:
                engine, workers = config.rstrip("12"), config[-1]
                argv = ["--child", "annotate", "--model", str(model), "--engine", engine,
                        "--workers", workers, "--out-dir", str(work / config), *common]  # fmt: skip
            r = _run_child(argv)
            r["documents_per_s"] = round(r["documents"] / r["seconds"], 2)
            runs[config].append(r)
            print(f"{config:8s} {r['documents_per_s']:8.2f} docs/s  ({r['seconds']:.1f} s, "
                  f"{r['entities']} entities, peak RSS {r['peak_rss_mib']} MiB)", flush=True)  # fmt: skip
    throughput = {}
    for config, rs in runs.items():
        median = sorted(rs, key=lambda r: r["seconds"])[len(rs) // 2]
        throughput[config] = {**median, "runs_s": [round(r["seconds"], 1) for r in rs]}
    if "predict" in throughput:
        base = throughput["predict"]["documents_per_s"]
        for r in throughput.values():
            r["vs_predict_batch"] = round(r["documents_per_s"] / base, 3)
        # per-repeat ratios: each pairs runs close in time
        for config, rs in runs.items():
            throughput[config]["ratio_per_repeat"] = [
                round(r["documents_per_s"] / b["documents_per_s"], 3)
                for r, b in zip(rs, runs["predict"])
            ]
    results["throughput"] = throughput

    tiny = _tiny_model(DEFAULT_CACHE)
    # short texts and a high threshold keep 50,000 documents within minutes on two CPU cores
    short = make_texts(500, args.rss_words, seed=1)
    memory = {}
    for n in [int(x) for x in args.rss_docs.split(",") if x]:
        path = _write_corpus(work / f"rss-{n}.jsonl", short, n)
        argv = ["--child", "annotate", "--model", str(tiny), "--corpus", str(path),
                "--label-list", "|".join(labels), "--threshold", "0.9",
                "--batch-size", "64", "--shard-size", "1000", "--out-dir", str(work / f"rss-{n}")]  # fmt: skip
        r = _run_child(argv)
        memory[n] = r
        print(f"RSS {n:6d} docs: peak {r['peak_rss_mib']} MiB ({r['seconds']:.1f} s)", flush=True)
    results["peak_rss"] = memory
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
