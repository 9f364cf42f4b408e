"""The fast-gliner side of bench_published.py's ``fast-gliner`` runners: a persistent process
that runs in its own venv (fast-gliner 0.3 needs huggingface-hub<1.0, the project's venv has
1.x), so it imports nothing but the standard library and ``fast_gliner``.

    FASTGLINER_PYTHON benchmarks/fastgliner_child.py MODEL_DIR ONNX_FILE

MODEL_DIR is a directory written by gliner's ``export_to_onnx`` (gliner_config.json,
tokenizer.json, ONNX_FILE). The protocol is one JSON object per line each way:

- after loading, the child writes ``{"ready": true, "load_s": s, "version": v}`` (or
  ``{"error": message}`` and exits 1);
- ``{"op": "run", "texts": [...], "labels": [...], "batch": n}`` is answered by
  ``{"entities": [[{"start", "end", "label", "score"}, ...] per text], "compute_s": s}``,
  the texts sent to fast-gliner ``batch`` at a time (it runs one call as one batch);
  ``compute_s`` is the time inside ``predict_entities``, the parent times the whole request;
- ``{"op": "quit"}`` ends the child (so does the end of its input).

A request that fails is answered by ``{"error": message}`` and the child goes on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import IO, Any


def run_batches(model: Any, texts: list[str], labels: list[str], batch: int) -> list[list[dict]]:
    """Entities per text, the texts given to ``model.predict_entities`` ``batch`` at a time."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    found: list[list[dict]] = []
    for i in range(0, len(texts), batch):
        chunk = texts[i : i + batch]
        result = model.predict_entities(chunk, labels)
        if len(result) != len(chunk):
            raise RuntimeError(f"fast-gliner answered {len(result)} texts for {len(chunk)}")
        found.extend(
            [
                {"start": e["start"], "end": e["end"], "label": e["label"], "score": e["score"]}
                for e in entities
            ]
            for entities in result
        )
    return found


def serve(model: Any, requests: IO[str], replies: IO[str]) -> None:
    """Answer requests until ``quit`` or the end of ``requests``."""
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "quit":
                return
            if op != "run":
                raise ValueError(f"unknown op {op!r}")
            t0 = time.perf_counter()
            entities = run_batches(model, request["texts"], request["labels"], request["batch"])
            reply: dict = {"entities": entities, "compute_s": time.perf_counter() - t0}
        except Exception as exc:  # reported to the parent, which decides what to do
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    # the protocol owns the real stdout; anything a library prints goes to stderr instead
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    if len(sys.argv) != 3:
        replies.write(json.dumps({"error": "usage: fastgliner_child.py MODEL_DIR ONNX_FILE"}))
        replies.write("\n")
        replies.flush()
        sys.exit(1)
    model_dir, onnx_file = sys.argv[1:]
    try:
        import fast_gliner

        t0 = time.perf_counter()
        model = fast_gliner.FastGLiNER.from_pretrained(
            model_dir, onnx_path=onnx_file, execution_provider="cpu"
        )
        load_s = time.perf_counter() - t0
    except Exception as exc:
        replies.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        replies.flush()
        sys.exit(1)
    hello = {"ready": True, "load_s": load_s, "version": fast_gliner.__version__}
    replies.write(json.dumps(hello) + "\n")
    replies.flush()
    serve(model, sys.stdin, replies)


if __name__ == "__main__":
    main()
