"""The outermost layer of every HTTP request: a request id, the body-size limit, and the last
word on unexpected errors (logged with the id, answered 500 with it, never a traceback)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from biomedner.logging import get_logger

logger = get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


class RequestGuard:
    """Pure ASGI middleware (no BaseHTTPMiddleware, so streaming and exceptions stay simple).

    The body is read here, up to ``max_body_bytes``, before any route parses it: a body over the
    limit is refused with 413 whether or not the client announced its length."""

    def __init__(self, app: Any, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        body, problem = await self._read_body(scope, receive)
        if problem is not None:
            status, detail = problem
            await _send_json(send_with_id, status, error_body(detail, request_id))
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # later calls wait for the disconnect, as the server's would

        try:
            await self.app(scope, replay, send_with_id)
        except Exception:
            logger.exception(
                "internal error, request id %s: %s %s", request_id, scope["method"], scope["path"]
            )
            if not started:
                detail = (
                    "internal server error; the server log has the details under this request id"
                )
                await _send_json(send_with_id, 500, error_body(detail, request_id))

    async def _read_body(
        self, scope: dict[str, Any], receive: Any
    ) -> tuple[bytes, tuple[int, str] | None]:
        limit = self.max_body_bytes
        announced = dict(scope.get("headers", [])).get(b"content-length")
        if announced is not None:
            try:
                length = int(announced)
            except ValueError:
                return b"", (400, "the Content-Length header is not an integer")
            if length > limit:
                return b"", (413, _too_large(length, limit))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", (413, _too_large(size, limit, at_least=True))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None


def error_body(detail: str, request_id: str | None) -> dict[str, Any]:
    """Every error reply's JSON body (``schemas.ErrorBody``): the reason, and the request id the
    server log files it under."""
    return {"detail": detail, "request_id": request_id}


def _too_large(size: int, limit: int, *, at_least: bool = False) -> str:
    amount = f"more than {limit}" if at_least else str(size)
    return (
        f"the request body has {amount} bytes, over the limit of {limit} bytes "
        "(--max-body-bytes); send fewer or shorter texts per request"
    )


async def _send_json(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
