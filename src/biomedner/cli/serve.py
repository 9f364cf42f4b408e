"""``biomedner serve``: the REST service (extra ``biomedner[serve]``). Every option is checked,
and the port tried, before the model loads, so a typo costs no loading time."""

from __future__ import annotations

import errno
import importlib.util
import socket
from typing import Annotated

import typer

from biomedner.cli.app import app
from biomedner.errors import BiomednerError, InputError

_FLAGS = {
    "max_body_bytes": "--max-body-bytes",
    "max_texts": "--max-texts",
    "max_text_chars": "--max-text-chars",
    "max_labels": "--max-labels",
    "max_batch_texts": "--max-batch-texts",
    "max_wait_ms": "--max-wait-ms",
    "label_cache_size": "--label-cache-size",
    "precision": "--precision",
    "api_key": "--api-key",
}


@app.command("serve")
def serve_command(
    model: Annotated[str, typer.Option("--model", "-m", help="checkpoint directory or hub id")],
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0: all)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:1, mps")] = "cpu",
    precision: Annotated[str, typer.Option(help="fp32, or bf16/fp16 autocast (GPU)")] = "fp32",
    max_batch_texts: Annotated[
        int, typer.Option(help="texts run together at most; 1 turns batching off")
    ] = 32,
    max_wait_ms: Annotated[
        float, typer.Option(help="how long a batch waits for more requests, in ms")
    ] = 5.0,
    max_body_bytes: Annotated[int, typer.Option(help="largest request body")] = 2_000_000,
    max_texts: Annotated[int, typer.Option(help="texts or documents per request")] = 64,
    max_text_chars: Annotated[int, typer.Option(help="characters per text or document")] = 100_000,
    max_labels: Annotated[int, typer.Option(help="labels per request")] = 64,
    label_cache_size: Annotated[
        int, typer.Option(help="bi-encoder label sets kept encoded (LRU)")
    ] = 256,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="BIOMEDNER_API_KEY",
            show_envvar=True,
            help="require this key (X-API-Key header) on every route but /health",
        ),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="log one line per request")] = True,
) -> None:
    """Serve a model over HTTP: POST /v1/entities, POST /v1/annotate, GET /v1/model, /ready,
    /health; OpenAPI at /docs."""
    from pydantic import ValidationError

    from biomedner.serve.settings import ServeSettings

    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"biomedner serve needs {' and '.join(missing)}: pip install 'biomedner[serve]'"
        )
    try:
        settings = ServeSettings(
            max_body_bytes=max_body_bytes,
            max_texts=max_texts,
            max_text_chars=max_text_chars,
            max_labels=max_labels,
            max_batch_texts=max_batch_texts,
            max_wait_ms=max_wait_ms,
            label_cache_size=label_cache_size,
            precision=precision,  # type: ignore[arg-type]
            api_key=api_key or None,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        flag = _FLAGS.get(str(err["loc"][0]), str(err["loc"][0]))
        raise InputError(f"{flag}: {err['msg']} (got {err.get('input')!r})") from None
    if not 1 <= port <= 65535:
        raise InputError(f"--port must lie in 1..65535, got {port}")
    if precision != "fp32" and device == "cpu":
        raise InputError(f"--precision {precision} needs a GPU --device; use fp32 on the CPU")
    _check_port(host, port)

    from biomedner.model import NERModel  # caps oneDNN's primitive cache (runtime.py)

    try:
        ner = NERModel.from_pretrained(model, device=device)
    except (BiomednerError, OSError) as exc:
        raise InputError(f"--model {model}: {exc}") from None
    except RuntimeError as exc:  # torch: an unknown or unavailable device
        raise InputError(f"--device {device}: {exc}") from None

    import uvicorn

    from biomedner.serve.app import create_app

    uvicorn.run(
        create_app(ner, settings),
        host=host,
        port=port,
        access_log=access_log,
        log_level="info",
    )


def _check_port(host: str, port: int) -> None:
    """Binds and releases the address, so a port in use is reported before a model loads."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host}: cannot resolve it ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            what = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
            raise InputError(f"--port {port} on {host} {what}; choose another --port") from None
