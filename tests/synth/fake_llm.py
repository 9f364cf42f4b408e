"""A real HTTP server speaking the OpenAI chat-completions protocol, for annotation tests.

It binds 127.0.0.1 on a free port in a background thread. Replies are "realistic": the server
annotates the text in the last user turn with a small lexicon (each known term found in the text
becomes ``{"text", "type"}``), and a per-text *script* decides how each successive request for that
text is answered:

``ok`` plain JSON · ``fence`` JSON in a ```json fence · ``chatty`` JSON between prose ·
``truncated`` JSON cut mid-way with ``finish_reason="length"`` · ``garbage`` prose without JSON ·
``wrong_schema`` a JSON object without ``entities`` · ``slow`` an ``ok`` reply after ``slow_s`` ·
``429`` rate-limited (``Retry-After: 0``) · ``500`` / ``503`` server errors.

The last script step repeats. The server counts requests per text and in total, records arrival
times and the peak number of requests in flight.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LEXICON = {
    "BRCA1": "gene",
    "TP53": "tumor suppressor gene",
    "breast cancer": "disease",
    "tamoxifen": "drug",
    "metformin": "drug",
    "type 2 diabetes": "disease",
    "HeLa cells": "cell line",
    "interleukin-6": "cytokine",
    "sepsis": "disease",
    "mice": "organism",
    "cisplatin": "chemotherapy drug",
    "ovarian carcinoma": "disease",
    "vancomycin": "antibiotic",
    "Staphylococcus aureus": "bacterium",
}

_TEXT = re.compile(r'Text:\n"""\n(.*?)\n"""', re.DOTALL)


def lexicon_entities(text: str) -> list[dict[str, str]]:
    return [{"text": t, "type": ty} for t, ty in LEXICON.items() if t in text]


class FakeLLM:
    def __init__(
        self,
        scripts: dict[str, list[str]] | None = None,
        *,
        delay_s: float = 0.0,
        slow_s: float = 1.0,
        reject_json_schema: bool = False,
        api_key: str | None = None,
    ) -> None:
        # scripts: a word that identifies the text -> the modes of its successive requests
        self.scripts = scripts or {}
        self.delay_s = delay_s
        self.slow_s = slow_s
        self.reject_json_schema = reject_json_schema
        self.api_key = api_key
        self.requests: Counter[str] = Counter()  # text -> requests received
        self.total = 0
        self.arrivals: list[float] = []
        self.response_formats: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.total = 0
            self.arrivals.clear()

    def _mode(self, text: str, n: int) -> str:
        for word, steps in self.scripts.items():
            if word in text:
                return steps[min(n, len(steps) - 1)]
        return "ok"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                # the client may have given up (timeout) before a slow reply came
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._send(401, {"error": {"message": "invalid api key"}})
                    return
                fmt = (body.get("response_format") or {}).get("type", "none")
                if fake.reject_json_schema and fmt == "json_schema":
                    self._send(
                        400, {"error": {"message": "response_format json_schema is not supported"}}
                    )
                    return
                messages = body.get("messages") or []
                user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
                match = _TEXT.search(user)
                text = match.group(1) if match else user
                with fake._lock:
                    n = fake.requests[text]
                    fake.requests[text] += 1
                    fake.total += 1
                    fake.arrivals.append(time.monotonic())
                    fake.response_formats[fmt] += 1
                    fake.in_flight += 1
                    fake.peak_in_flight = max(fake.peak_in_flight, fake.in_flight)
                try:
                    self._answer(fake._mode(text, n), text, body)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, mode: str, text: str, body: dict[str, Any]) -> None:
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                if mode == "429":
                    self._send(429, {"error": {"message": "rate limit"}}, {"Retry-After": "0"})
                    return
                if mode in ("500", "503"):
                    self._send(int(mode), {"error": {"message": "overloaded"}})
                    return
                if mode == "slow":
                    time.sleep(fake.slow_s)
                answer = json.dumps({"entities": lexicon_entities(text)})
                finish = "stop"
                if mode == "fence":
                    content = f"```json\n{answer}\n```"
                elif mode == "chatty":
                    content = (
                        f"Here are the entities I found:\n{answer}\nLet me know if you need more."
                    )
                elif mode == "truncated":
                    content = answer[: max(answer.rfind("}, {") + 12, 20)]
                    finish = "length"
                elif mode == "garbage":
                    content = "I am sorry, I cannot annotate this text."
                elif mode == "wrong_schema":
                    content = json.dumps({"result": lexicon_entities(text)})
                else:
                    content = answer
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", ""),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": finish,
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    },
                )

        return Handler
