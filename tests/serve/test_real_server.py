"""One real ``biomedner serve`` process (uvicorn) on 127.0.0.1: its answers equal predict's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from biomedner.model import NERModel
from tests.serve.conftest import LABELS, TEXTS, assert_same_entities, expected

httpx = pytest.importorskip("httpx")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_real_server_answers_like_predict(tiny_bi_dir, tmp_path):
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "biomedner",
            "serve",
            "--model",
            str(tiny_bi_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            "k",
            "--no-access-log",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": "k"}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{base}/ready", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready in 120 s"
            time.sleep(0.2)
        reply = httpx.post(
            f"{base}/v1/entities",
            json={"texts": TEXTS, "labels": LABELS, "threshold": 0.5, "mode": "multi_label"},
            headers=headers,
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        assert httpx.get(f"{base}/health", timeout=5).json() == {"status": "ok"}
        assert httpx.get(f"{base}/v1/model", timeout=5).status_code == 401
    finally:
        process.terminate()
        code = process.wait(timeout=30)
        log.close()
    server_log = (tmp_path / "server.log").read_text()
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status reports it
    assert code in (0, -15) and "Application shutdown complete" in server_log, server_log
    assert "Traceback" not in server_log
    model = NERModel.from_pretrained(tiny_bi_dir)
    results = reply.json()["results"]
    assert len(results) == len(TEXTS) and any(r["entities"] for r in results)
    for text, res in zip(TEXTS, results):
        assert_same_entities(res["entities"], expected(model, text, LABELS, mode="multi_label"))
