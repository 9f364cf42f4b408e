"""Limits answer 413 naming the option, bad input 422 with the library's message, internal
errors 500 with a logged request id; the API key guards every route but /health."""

from __future__ import annotations

import json
import logging

import pytest

from tests.serve.conftest import LABELS, TEXTS


def test_each_limit_is_413_naming_its_option(uni, serve):
    with serve(uni, max_texts=3, max_text_chars=40, max_labels=2, max_body_bytes=2000) as client:
        texts = client.post("/v1/entities", json={"texts": ["a"] * 4, "labels": ["x"]})
        chars = client.post("/v1/entities", json={"texts": ["ok", "b" * 41], "labels": ["x"]})
        labels = client.post("/v1/entities", json={"text": "a", "labels": ["x", "y", "z"]})
        body = client.post("/v1/entities", json={"text": "a " * 1000, "labels": ["x"]})
        docs = client.post(
            "/v1/annotate",
            json={"format": "pubtator", "content": "1|t|" + "c" * 50 + "\n1|a|\n", "labels": ["x"]},
        )
        at_limit = client.post("/v1/entities", json={"texts": ["a" * 40] * 3, "labels": ["x", "y"]})
    assert texts.status_code == 413
    assert texts.json()["detail"].startswith("the request has 4 texts, over the limit of 3")
    assert "--max-texts" in texts.json()["detail"]
    assert chars.status_code == 413
    assert (
        "text #1 has 41 characters, over the limit of 40 (--max-text-chars)"
        in chars.json()["detail"]
    )
    assert labels.status_code == 413 and "3 labels, over the limit of 2" in labels.json()["detail"]
    assert "--max-labels" in labels.json()["detail"]
    assert body.status_code == 413 and "(--max-body-bytes)" in body.json()["detail"]
    assert docs.status_code == 413 and "document #0 has 50 characters" in docs.json()["detail"]
    assert at_limit.status_code == 200


def test_body_limit_holds_without_a_content_length(uni, serve):
    def chunks():
        yield b'{"text": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'", "labels": ["x"]}'

    with serve(uni, max_body_bytes=1000) as client:
        r = client.post(
            "/v1/entities", content=chunks(), headers={"content-type": "application/json"}
        )
    assert r.status_code == 413
    assert r.json()["detail"] == (
        "the request body has more than 1000 bytes, over the limit of 1000 bytes "
        "(--max-body-bytes); send fewer or shorter texts per request"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "a", "labels": []}, "labels is empty: give at least one entity type"),
        ({"text": "a", "labels": ["x", "x"]}, "label 'x' is given twice"),
        ({"text": "a", "labels": [" "]}, "label #0 is empty or only whitespace"),
        ({"text": "a", "labels": ["<<ENT>>"]}, "contains the reserved prompt token"),
        ({"text": "a", "labels": ["x"], "mode": "greedy"}, "unknown decoding mode 'greedy'"),
        ({"text": "a", "labels": ["x"], "threshold": 1.0}, "threshold must lie in [0, 1), got 1.0"),
        ({"text": "a", "labels": ["x"], "threshold": -0.1}, "threshold must lie in [0, 1)"),
    ],
)
def test_bad_options_are_422_with_the_librarys_message(uni, serve, body, message):
    with serve(uni) as client:
        r = client.post("/v1/entities", json=body)
    assert r.status_code == 422
    assert message in r.json()["detail"]
    # the library raises the same message
    from biomedner.errors import InputError

    with pytest.raises(InputError, match=None) as info:
        uni.predict_batch(
            ["a"],
            body["labels"],
            threshold=body.get("threshold", 0.5),
            mode=body.get("mode", "flat"),
        )
    assert str(info.value) == r.json()["detail"]


def test_malformed_bodies_are_422_and_never_5xx(uni, serve):
    with serve(uni) as client:
        replies = [
            client.post(
                "/v1/entities", content=b'{"text": ', headers={"content-type": "application/json"}
            ),
            client.post("/v1/entities", json={"labels": ["x"]}),
            client.post("/v1/entities", json={"text": "a", "texts": ["b"], "labels": ["x"]}),
            client.post("/v1/entities", json={"text": 5, "labels": ["x"]}),
            client.post("/v1/entities", json={"text": "a", "labels": "disease"}),
            client.post("/v1/entities", json={"text": "a", "labels": ["x"], "unknown": 1}),
            client.post("/v1/entities", json=[1, 2]),
            client.post("/v1/annotate", json={"format": "xml", "content": "", "labels": ["x"]}),
        ]
    assert [r.status_code for r in replies] == [422] * len(replies)
    assert "the body is not valid JSON" in replies[0].json()["detail"]
    assert "exactly one of 'text'" in replies[1].json()["detail"]
    assert "exactly one of 'text'" in replies[2].json()["detail"]
    assert replies[5].json()["detail"].startswith("body.unknown: Extra inputs are not permitted")
    assert all(r.json()["request_id"] for r in replies)


def test_internal_error_is_500_with_a_logged_request_id(uni, serve, monkeypatch, caplog):
    with serve(uni, raise_server_exceptions=False) as client:

        def broken(*args, **kwargs):
            if args and args[0]:  # the empty validation call still works
                raise RuntimeError("simulated failure in the model")
            return []

        monkeypatch.setattr(uni, "predict_batch", broken)
        with caplog.at_level(logging.ERROR, logger="biomedner"):
            r = client.post("/v1/entities", json={"text": "gene", "labels": ["x"]})
        monkeypatch.undo()
        after = client.post("/v1/entities", json={"text": "gene", "labels": ["x"]})
    assert r.status_code == 500
    request_id = r.json()["request_id"]
    assert request_id and r.headers["x-request-id"] == request_id
    assert "simulated failure" not in r.text  # no internals in the answer
    logged = [rec for rec in caplog.records if request_id in rec.getMessage()]
    assert logged and "simulated failure in the model" in str(logged[0].exc_info[1])
    assert after.status_code == 200  # the worker survived


def test_api_key_guards_everything_but_health(uni, serve, monkeypatch):
    body = {"texts": TEXTS[:2], "labels": LABELS}
    with serve(uni, api_key="s3cret") as client:
        assert client.get("/health").status_code == 200
        for method, path, payload in [
            ("get", "/ready", None),
            ("get", "/v1/model", None),
            ("get", "/v1/stats", None),
            ("post", "/v1/entities", body),
            ("post", "/v1/annotate", {"format": "pubtator", "content": "", "labels": ["x"]}),
        ]:
            send = getattr(client, method)
            kwargs = {"json": payload} if payload else {}
            missing = send(path, **kwargs)
            wrong = send(path, headers={"X-API-Key": "nope"}, **kwargs)
            assert (missing.status_code, wrong.status_code) == (401, 401), path
            assert "X-API-Key" in missing.json()["detail"]
        ok = client.post("/v1/entities", json=body, headers={"X-API-Key": "s3cret"})
        bearer = client.post("/v1/entities", json=body, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and bearer.json() == ok.json()


def test_cli_rejects_bad_options_before_loading_the_model(tmp_path):
    from typer.testing import CliRunner

    from biomedner.cli.main import app

    missing = str(tmp_path / "no-such-model")  # never reached: options fail first
    runner = CliRunner()
    cases = [
        (["--max-batch-texts", "0"], "error: --max-batch-texts: Input should be greater than 0"),
        (
            ["--max-wait-ms", "-1"],
            "error: --max-wait-ms: Input should be greater than or equal to 0",
        ),
        (["--precision", "int4"], "error: --precision: Input should be 'fp32', 'bf16' or 'fp16'"),
        (["--precision", "bf16"], "error: --precision bf16 needs a GPU --device"),
        (["--port", "70000"], "error: --port must lie in 1..65535, got 70000"),
        ([], f"error: --model {missing}: "),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["serve", "--model", missing, *extra])
        assert result.exit_code == 2, (extra, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), (extra, result.stderr)


def test_cli_reports_a_port_in_use(tmp_path):
    import socket

    from typer.testing import CliRunner

    from biomedner.cli.main import app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --port {port} on 127.0.0.1 is in use; choose another --port"
    )


def test_importing_biomedner_does_not_import_fastapi():
    import subprocess
    import sys

    code = "import sys, biomedner, biomedner.cli.main, biomedner.serve; print(json.dumps(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []
