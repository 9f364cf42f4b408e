"""Async client for OpenAI-compatible chat completions (vLLM, OpenAI, Ollama, llama.cpp, TGI).

``POST {base_url}/chat/completions`` with retries and exponential backoff (full jitter) on 429,
5xx, timeouts and connection errors, honouring ``Retry-After`` (a connection refused before the
server ever answered is not retried: nothing is listening, and the run stops at once); an optional requests-per-second
limit shared by all concurrent callers; and JSON-schema constrained output
(``response_format={"type": "json_schema", ...}``) that falls back to ``json_object`` and then to
no constraint when a server rejects it with a 400/422 naming ``response_format``.

Settings come from :class:`LLMConfig`; ``base_url``, ``model`` and the key default to the
environment (``BIOMEDNER_LLM_BASE_URL`` / ``OPENAI_BASE_URL``, ``BIOMEDNER_LLM_MODEL``,
``BIOMEDNER_LLM_API_KEY`` / ``OPENAI_API_KEY``). The key is never written to reports.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from biomedner.errors import BiomednerError, ConfigError
from biomedner.logging import get_logger

if TYPE_CHECKING:
    import httpx

logger = get_logger(__name__)

StructuredOutput = Literal["json_schema", "json_object", "none"]
_DOWNGRADE: dict[str, StructuredOutput] = {"json_schema": "json_object", "json_object": "none"}


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "BIOMEDNER_LLM_API_KEY"
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    max_requests_per_second: float | None = Field(default=None, gt=0)
    max_retries: int = Field(default=6, ge=0, le=100)
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=2048, ge=1)
    seed: int | None = 42
    structured_output: StructuredOutput = "json_schema"
    extra_body: dict[str, Any] = Field(default_factory=dict)

    def resolve(self) -> tuple[str, str, str | None]:
        """(base_url, model, api_key) from the config or the environment."""
        base_url = (
            self.base_url
            or os.environ.get("BIOMEDNER_LLM_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL")
        )
        model = self.model or os.environ.get("BIOMEDNER_LLM_MODEL")
        if not base_url:
            raise ConfigError(
                "no LLM base URL: pass base_url (e.g. http://localhost:8000/v1) or set "
                "BIOMEDNER_LLM_BASE_URL"
            )
        if not model:
            raise ConfigError("no LLM model name: pass model or set BIOMEDNER_LLM_MODEL")
        key = os.environ.get(self.api_key_env) or os.environ.get("OPENAI_API_KEY")
        return base_url.rstrip("/"), model, key


class LLMRequestError(BiomednerError):
    """A request failed for good (retries exhausted or a non-retryable status)."""

    def __init__(self, kind: str, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        # fatal: no later request can succeed either (bad key, unknown model, wrong URL)
        self.fatal = fatal


@dataclass(frozen=True)
class ChatReply:
    content: str
    finish_reason: str | None
    attempts: int
    usage: dict[str, Any] | None = None


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` seconds apart across all tasks."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


def _os_cause(exc: BaseException) -> str:
    """The operating system's reason under an httpx error ("[Errno 111] Connection refused"),
    which httpx's own message ("All connection attempts failed") leaves out."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno is not None:
            return (
                ""
                if str(cause.strerror) in str(exc)
                else f" ([Errno {cause.errno}] {cause.strerror})"
            )
        cause = cause.__cause__ or cause.__context__
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class ChatClient:
    """Use as ``async with ChatClient(config) as client: reply = await client.chat(messages)``.

    ``stats`` counts every request and every failure kind (``http_429``, ``http_5xx``,
    ``timeout``, ``connection_error``, ``bad_response``, ``http_4xx``, ``retries``,
    ``response_format_downgrades``)."""

    def __init__(
        self, config: LLMConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.base_url, self.model, self._key = config.resolve()
        self.structured_output: StructuredOutput = config.structured_output
        self.stats: Counter[str] = Counter()
        self._transport = transport
        self._limiter = RateLimiter(config.max_requests_per_second)
        self._http: httpx.AsyncClient | None = None
        self._reached = False  # has the server ever answered?

    async def __aenter__(self) -> ChatClient:
        import httpx

        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
            limits=httpx.Limits(
                max_connections=self.config.max_concurrency,
                max_keepalive_connections=self.config.max_concurrency,
            ),
            transport=self._transport,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _payload(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        temperature: float | None,
    ) -> dict[str, Any]:
        cfg = self.config
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": cfg.temperature if temperature is None else temperature,
            "max_tokens": cfg.max_tokens,
        }
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        if schema is not None and self.structured_output == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "entities", "schema": schema, "strict": True},
            }
        elif schema is not None and self.structured_output == "json_object":
            body["response_format"] = {"type": "json_object"}
        body.update(cfg.extra_body)
        return body

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cfg = self.config
        if retry_after is not None:
            return min(retry_after, cfg.backoff_max_s)
        ceiling = min(cfg.backoff_max_s, cfg.backoff_initial_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    async def chat(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None = None,
        temperature: float | None = None,
    ) -> ChatReply:
        """One completion. Raises :class:`LLMRequestError` when retries are exhausted or the
        server answers with a non-retryable error."""
        import httpx

        if self._http is None:
            raise RuntimeError("use 'async with ChatClient(...)' before calling chat()")
        last_kind, last_message = "unknown", ""
        attempts = 0
        # bounded: max_retries + 1 attempts, plus at most two response_format downgrades
        for _ in range(self.config.max_retries + 3):
            if attempts > self.config.max_retries:
                break
            if attempts:
                self.stats["retries"] += 1
            attempts += 1
            await self._limiter.wait()
            self.stats["requests"] += 1
            retry_after = None
            try:
                response = await self._http.post(
                    "/chat/completions", json=self._payload(messages, schema, temperature)
                )
            except httpx.TimeoutException as exc:
                last_kind, last_message = "timeout", f"request timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_kind = "connection_error"
                last_message = (
                    f"cannot connect to {self.base_url}: {type(exc).__name__}: {exc}"
                    f"{_os_cause(exc)}"
                )
                if isinstance(exc, httpx.ConnectError) and not self._reached:
                    # nothing listens there (refused, unknown host): minutes of retries would
                    # only hide it; a server that answered before and drops out is retried
                    self.stats[last_kind] += 1
                    raise LLMRequestError(
                        last_kind,
                        f"{last_message} (is the server running, and is the URL right?)",
                        fatal=True,
                    ) from None
            else:
                self._reached = True
                status = response.status_code
                if status == 200:
                    reply = self._reply(response, attempts)
                    if reply is not None:
                        return reply
                    last_kind, last_message = "bad_response", "200 reply without choices[0].message"
                elif status == 429:
                    last_kind, last_message = "http_429", "rate limited (429)"
                    retry_after = _retry_after(response)
                elif status >= 500:
                    last_kind, last_message = "http_5xx", f"server error {status}"
                    retry_after = _retry_after(response)
                elif status in (400, 422) and self._rejects_format(response, schema):
                    new = _DOWNGRADE[self.structured_output]
                    logger.warning(
                        "server rejected response_format=%s; retrying with %s",
                        self.structured_output,
                        new,
                    )
                    self.structured_output = new
                    self.stats["response_format_downgrades"] += 1
                    attempts -= 1  # a protocol negotiation, not a failed attempt
                    continue
                else:
                    self.stats["http_4xx"] += 1
                    detail = response.text[:300]
                    raise LLMRequestError(
                        f"http_{status}",
                        f"{self.base_url}/chat/completions answered {status}: {detail}",
                        fatal=status in (401, 403, 404),
                    )
            self.stats[last_kind] += 1
            if attempts > self.config.max_retries:
                break
            await asyncio.sleep(self._backoff(attempts - 1, retry_after))
        raise LLMRequestError(
            last_kind, f"gave up after {attempts} attempts; last error: {last_message}"
        )

    def _rejects_format(self, response: httpx.Response, schema: dict[str, Any] | None) -> bool:
        if schema is None or self.structured_output == "none":
            return False
        body = response.text.lower()
        return "response_format" in body or "json_schema" in body

    def _reply(self, response: httpx.Response, attempts: int) -> ChatReply | None:
        try:
            data = response.json()
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        if content is not None and not isinstance(content, str):
            return None
        return ChatReply(
            content=content or "",
            finish_reason=choice.get("finish_reason"),
            attempts=attempts,
            usage=data.get("usage") if isinstance(data.get("usage"), dict) else None,
        )
