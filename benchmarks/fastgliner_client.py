"""The parent side of a persistent fast-gliner child (``fastgliner_child.py``): start it once,
send it "run" requests, read its entities and its own compute time. Standard library only, so
it can be tested against a fake child without the fast-gliner venv."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

CHILD_SCRIPT = Path(__file__).resolve().parent / "fastgliner_child.py"


class ChildError(RuntimeError):
    """The child answered with an error, or died."""


class FastGlinerChild:
    """One child process; ``argv`` starts it (by default: ``python CHILD_SCRIPT model_dir
    onnx_file``). The constructor returns once the child said it is ready."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None):
        # stderr goes to a file: a pipe nobody reads would block a chatty child
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by close()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        hello = self._read()
        if not hello.get("ready"):
            self.close()
            raise ChildError(f"fast-gliner child did not start: {hello.get('error', hello)}")
        self.load_s: float = hello.get("load_s", float("nan"))
        self.version: str = hello.get("version", "?")

    @classmethod
    def start(cls, python: str | Path, model_dir: Path, onnx_file: str) -> FastGlinerChild:
        return cls([str(python), str(CHILD_SCRIPT), str(model_dir), onnx_file])

    def run(
        self, texts: list[str], labels: list[str], batch: int
    ) -> tuple[list[list[dict]], float]:
        """Entities per text (dicts with start, end, label, score) and the child's own compute
        seconds."""
        reply = self._request({"op": "run", "texts": texts, "labels": labels, "batch": batch})
        entities = reply["entities"]
        if len(entities) != len(texts):
            raise ChildError(f"fast-gliner child answered {len(entities)} texts for {len(texts)}")
        return entities, reply["compute_s"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()

    def _request(self, message: dict) -> dict:
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ChildError(self._death()) from None
        reply = self._read()
        if "error" in reply:
            raise ChildError(f"fast-gliner child: {reply['error']}")
        return reply

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise ChildError(self._death())
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise ChildError(f"fast-gliner child wrote a non-JSON line: {line[:200]!r}") from None

    def _death(self) -> str:
        status = self.proc.wait(timeout=10)
        self._stderr.seek(0)
        tail = self._stderr.read()[-1000:].strip()
        return f"fast-gliner child exited with status {status}" + (f": {tail}" if tail else "")
