"""Item 5: ``synth annotate`` against a server that is not there stops at once, exit status 2,
with an error naming the host and the connection error; it does not retry for minutes and then
report success with nothing annotated."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.reliability.contract import assert_user_error, invoke

pytest.importorskip("httpx")


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _texts(tmp_path, n=5):
    path = tmp_path / "texts.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"t{i}", "text": f"Aspirin {i} was given."}) + "\n" for i in range(n)
        ),
        encoding="utf-8",
    )
    return path


def test_a_server_that_is_down_fails_fast_naming_host_and_error(tmp_path):
    port = _closed_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    started = time.monotonic()
    result = invoke(
        [
            "synth",
            "annotate",
            _texts(tmp_path),
            "-o",
            tmp_path / "ann.jsonl",
            "--base-url",
            base_url,
            "--model",
            "teacher",
        ]
    )
    elapsed = time.monotonic() - started
    line = assert_user_error(result, f"127.0.0.1:{port}", "ConnectError")
    assert "Errno" in line
    assert elapsed < 10, f"took {elapsed:.1f} s: connection refused must not be retried"
    assert not (tmp_path / "ann.jsonl").exists()


def test_every_text_failing_is_not_a_success(tmp_path):
    from tests.synth.fake_llm import FakeLLM

    texts = _texts(tmp_path, n=2)
    # the server answers, but only with errors: nothing is annotated
    with FakeLLM(scripts={"Aspirin": ["500"] * 10}) as server:
        result = invoke(
            [
                "synth",
                "annotate",
                texts,
                "-o",
                tmp_path / "ann.jsonl",
                "--base-url",
                server.base_url,
                "--model",
                "teacher",
                "--max-retries",
                "0",
            ]
        )
    # the counts line comes first, then the error; exit status 2
    assert result.exit_code == 2 and "Traceback" not in result.output
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "no text was annotated" in errors[0]
    assert "ann.failed.jsonl" in errors[0]
