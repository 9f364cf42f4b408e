"""bench_published.py's fast-gliner runner: the child's request loop (with a fake model) and the
parent's client (against fake child processes); neither needs the fast-gliner venv."""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import sys
import textwrap
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


child_module = _load("fastgliner_child")
client_module = _load("fastgliner_client")
run_batches, serve = child_module.run_batches, child_module.serve
ChildError, FastGlinerChild = client_module.ChildError, client_module.FastGlinerChild


class FakeModel:
    """A stand-in for fast_gliner.FastGLiNER: the first word of each text is an entity of the
    first label. Its source is also written into the fake child processes below."""

    def __init__(self):
        self.calls = []

    def predict_entities(self, texts, labels):
        self.calls.append((list(texts), list(labels)))
        out = []
        for text in texts:
            word = text.split()[0]
            entity = {"text": word, "label": labels[0], "score": 0.75, "start": 0, "end": len(word)}
            out.append([entity])
        return out


def test_run_batches_sends_the_texts_batch_at_a_time_and_keeps_their_order() -> None:
    model = FakeModel()
    texts = [f"word{i} rest" for i in range(5)]
    found = run_batches(model, texts, ["gene", "drug"], batch=2)
    assert [chunk for chunk, _ in model.calls] == [texts[0:2], texts[2:4], texts[4:5]]
    assert found == [[{"start": 0, "end": 5, "label": "gene", "score": 0.75}] for _ in texts]


def test_run_batches_rejects_a_wrong_answer_count_and_a_zero_batch() -> None:
    class Short(FakeModel):
        def predict_entities(self, texts, labels):
            return super().predict_entities(texts, labels)[:-1]

    with pytest.raises(RuntimeError, match="answered 1 texts for 2"):
        run_batches(Short(), ["a b", "c d"], ["gene"], batch=2)
    with pytest.raises(ValueError, match="batch must be at least 1"):
        run_batches(FakeModel(), ["a"], ["gene"], batch=0)


def test_serve_answers_each_request_reports_errors_and_stops_at_quit() -> None:
    requests = io.StringIO(
        "\n".join(
            [
                json.dumps(
                    {"op": "run", "texts": ["BRCA1 is", "TP53 too"], "labels": ["gene"], "batch": 8}
                ),
                json.dumps({"op": "fly"}),
                json.dumps({"op": "run", "texts": ["x"], "labels": ["gene"]}),
                json.dumps({"op": "quit"}),
                json.dumps({"op": "run", "texts": ["never"], "labels": ["gene"], "batch": 1}),
            ]
        )
    )
    replies = io.StringIO()
    serve(FakeModel(), requests, replies)
    answers = [json.loads(line) for line in replies.getvalue().splitlines()]
    assert len(answers) == 3  # nothing after quit
    assert answers[0]["entities"] == [
        [{"start": 0, "end": 5, "label": "gene", "score": 0.75}],
        [{"start": 0, "end": 4, "label": "gene", "score": 0.75}],
    ]
    assert answers[0]["compute_s"] >= 0
    assert answers[1] == {"error": "ValueError: unknown op 'fly'"}
    assert answers[2] == {"error": "KeyError: 'batch'"}


def _fake_child(tmp_path: Path, *parts: str) -> list[str]:
    """argv of a fake child: the real ``serve`` loop and the fake model, then ``parts``."""
    script = tmp_path / "child.py"
    script.write_text(
        "import json, sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "from fastgliner_child import serve\n"
        + inspect.getsource(FakeModel)
        + "".join(textwrap.dedent(part) for part in parts)
    )
    return [sys.executable, str(script)]


READY = """
print(json.dumps({"ready": True, "load_s": 0.5, "version": "9.9"}), flush=True)
"""


def test_client_gets_entities_and_the_childs_compute_time(tmp_path: Path) -> None:
    child = FastGlinerChild(
        _fake_child(tmp_path, READY, "serve(FakeModel(), sys.stdin, sys.stdout)\n")
    )
    try:
        assert (child.load_s, child.version) == (0.5, "9.9")
        entities, compute_s = child.run(["IL-6 rises", "MYC"], ["gene"], 1)
        assert entities == [
            [{"start": 0, "end": 4, "label": "gene", "score": 0.75}],
            [{"start": 0, "end": 3, "label": "gene", "score": 0.75}],
        ]
        assert compute_s >= 0
        # the child goes on after a request that failed
        with pytest.raises(ChildError, match="batch must be at least 1"):
            child.run(["a"], ["gene"], 0)
        assert child.run(["EGFR"], ["gene"], 4)[0] == [
            [{"start": 0, "end": 4, "label": "gene", "score": 0.75}]
        ]
    finally:
        child.close()
    assert child.proc.returncode == 0


def test_client_reports_a_child_that_cannot_load_its_model(tmp_path: Path) -> None:
    body = """
    print(json.dumps({"error": "RuntimeError: UnexpectedModelSchemaError"}), flush=True)
    sys.exit(1)
    """
    with pytest.raises(ChildError, match="did not start: RuntimeError: UnexpectedModelSchemaError"):
        FastGlinerChild(_fake_child(tmp_path, body))


def test_client_reports_a_child_that_dies_with_its_status_and_stderr(tmp_path: Path) -> None:
    body = """
    sys.stdin.readline()
    print("onnxruntime: out of memory", file=sys.stderr, flush=True)
    sys.exit(3)
    """
    child = FastGlinerChild(_fake_child(tmp_path, READY, body))
    try:
        with pytest.raises(ChildError, match="exited with status 3: onnxruntime: out of memory"):
            child.run(["BRCA1"], ["gene"], 1)
    finally:
        child.close()


def test_client_rejects_a_reply_with_the_wrong_number_of_texts(tmp_path: Path) -> None:
    body = """
    for line in sys.stdin:
        print(json.dumps({"entities": [], "compute_s": 0.0}), flush=True)
    """
    child = FastGlinerChild(_fake_child(tmp_path, READY, body))
    try:
        with pytest.raises(ChildError, match="answered 0 texts for 1"):
            child.run(["BRCA1"], ["gene"], 1)
    finally:
        child.close()
