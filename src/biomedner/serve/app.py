"""``create_app(model, settings)``: the FastAPI application serving one loaded NERModel.

Routes: POST /v1/entities, POST /v1/annotate, GET /v1/model, GET /v1/stats, GET /ready (model
loaded and a warm-up prediction done) and GET /health (process up; the only route that never
asks for the API key). OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from biomedner import __version__
from biomedner.errors import InputError
from biomedner.logging import get_logger
from biomedner.serve.batching import MicroBatcher, ServerClosing
from biomedner.serve.documents import read_documents, write_documents
from biomedner.serve.middleware import RequestGuard, error_body
from biomedner.serve.schemas import (
    AnnotateRequest,
    AnnotateResponse,
    BatchingInfo,
    EntitiesRequest,
    EntitiesResponse,
    EntityOut,
    ErrorBody,
    LimitsInfo,
    ModelInfo,
    PredictionOptions,
    Status,
    TextResult,
)
from biomedner.serve.settings import ServeSettings

if TYPE_CHECKING:
    from biomedner.model import NERModel
    from biomedner.types import Entity

logger = get_logger(__name__)

WARM_UP_TEXT = "Aspirin lowers the risk of myocardial infarction in patients with diabetes."
WARM_UP_LABELS = ("disease", "chemical")


class LimitExceeded(Exception):
    """A request over one of the server's limits; the message names the option that sets it."""


# The errors a route raises on purpose and the status each is answered with, its message as the
# body's detail. The OpenAPI document lists these statuses, plus the API key's 401, the body
# check's 422 and the middleware's 500.
_STATUS_OF_ERROR: dict[type[Exception], int] = {
    InputError: 422,
    LimitExceeded: 413,
    ServerClosing: 503,
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in sorted({401, 422, 500, *_STATUS_OF_ERROR.values()})
}


def create_app(model: NERModel, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    batcher = MicroBatcher(
        model,
        max_batch_texts=settings.max_batch_texts,
        max_wait_ms=settings.max_wait_ms,
        label_cache_size=settings.label_cache_size,
        autocast_dtype=_autocast_dtype(settings.precision),
    )
    ready = asyncio.Event()

    async def warm_up() -> None:
        try:
            future = batcher.submit([WARM_UP_TEXT], WARM_UP_LABELS, 0.5, "flat")
            await asyncio.wrap_future(future)
        except Exception:
            logger.exception("the warm-up prediction failed; /ready stays 503")
            return
        ready.set()
        logger.info("model warmed up; ready")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        warming = asyncio.create_task(warm_up())
        try:
            yield
        finally:
            warming.cancel()
            await run_in_threadpool(batcher.close)

    app = FastAPI(
        title="biomedner",
        version=__version__,
        description="Open biomedical named entity recognition with GLiNER-style span models.",
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.settings = settings
    app.state.model = model
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    _add_error_handlers(app)
    key = Depends(_key_checker(settings.api_key))

    @app.get("/health", response_model=Status, tags=["status"])
    async def health() -> Status:
        """The process is up (no API key needed)."""
        return Status(status="ok")

    @app.get(
        "/ready", response_model=Status, dependencies=[key], responses=_ERRORS, tags=["status"]
    )
    async def ready_route() -> Any:
        """The model is loaded and has answered a warm-up prediction."""
        if not ready.is_set():
            return JSONResponse({"status": "warming up"}, status_code=503)
        return Status(status="ready")

    @app.get("/v1/model", response_model=ModelInfo, dependencies=[key], tags=["model"])
    async def model_info() -> ModelInfo:
        """The model being served and the server's limits."""
        return _model_info(model, settings)

    @app.get("/v1/stats", dependencies=[key], tags=["model"])
    async def stats() -> dict[str, int]:
        """Batching counters since start: requests, texts, batches, model calls, label cache."""
        return asdict(batcher.stats)

    @app.post(
        "/v1/entities",
        response_model=EntitiesResponse,
        dependencies=[key],
        responses=_ERRORS,
        tags=["prediction"],
    )
    async def entities(body: EntitiesRequest) -> EntitiesResponse:
        """Entities (character offsets, end exclusive) for each text, in input order."""
        texts = body.all_texts()
        _check_limits(settings, [len(t) for t in texts], len(body.labels), what="text")
        results = await _predict(model, batcher, texts, body)
        return EntitiesResponse(
            results=[TextResult(entities=[EntityOut.from_entity(e) for e in r]) for r in results]
        )

    @app.post(
        "/v1/annotate",
        response_model=AnnotateResponse,
        dependencies=[key],
        responses=_ERRORS,
        tags=["prediction"],
    )
    async def annotate(body: AnnotateRequest) -> AnnotateResponse:
        """BioC JSON or PubTator documents in; the same documents with predicted annotations
        out (annotations they carried are replaced)."""
        docs, read_counts = await run_in_threadpool(read_documents, body.format, body.content)
        _check_limits(settings, [len(d.text) for d in docs], len(body.labels), what="document")
        results = await _predict(model, batcher, [d.text for d in docs], body)
        annotated = [d.with_entities(r) for d, r in zip(docs, results, strict=True)]
        content, write_counts = await run_in_threadpool(write_documents, body.format, annotated)
        notes: Counter[str] = Counter(read_counts)
        notes.update(write_counts)
        return AnnotateResponse(
            format=body.format,
            content=content,
            documents=len(annotated),
            entities=sum(len(r) for r in results),
            notes=dict(notes),
        )

    return app


async def _predict(
    model: NERModel, batcher: MicroBatcher, texts: list[str], options: PredictionOptions
) -> list[list[Entity]]:
    # An empty batch runs every check predict_batch makes and nothing else: a bad label, mode
    # or threshold fails this request alone, with the library's message, before it is queued.
    model.predict_batch([], options.labels, threshold=options.threshold, mode=options.mode)  # type: ignore[arg-type]
    if not texts:
        return []
    future = batcher.submit(texts, options.labels, options.threshold, options.mode)
    return await asyncio.wrap_future(future)


def _check_limits(
    settings: ServeSettings, lengths: Sequence[int], num_labels: int, *, what: str
) -> None:
    if len(lengths) > settings.max_texts:
        raise LimitExceeded(
            f"the request has {len(lengths)} {what}s, over the limit of {settings.max_texts} "
            "per request (--max-texts); split it into several requests"
        )
    for i, n in enumerate(lengths):
        if n > settings.max_text_chars:
            raise LimitExceeded(
                f"{what} #{i} has {n} characters, over the limit of {settings.max_text_chars} "
                "(--max-text-chars); split it into shorter texts"
            )
    if num_labels > settings.max_labels:
        raise LimitExceeded(
            f"the request has {num_labels} labels, over the limit of {settings.max_labels} "
            "per request (--max-labels)"
        )


def _key_checker(api_key: str | None) -> Any:
    header = APIKeyHeader(name="X-API-Key", auto_error=False)
    bearer = HTTPBearer(auto_error=False)
    expected = api_key.encode() if api_key else None

    async def check(
        x_api_key: str | None = Security(header),
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> None:
        if expected is None:
            return
        given = x_api_key or (credentials.credentials if credentials else None)
        if given is None or not secrets.compare_digest(given.encode(), expected):
            raise HTTPException(
                401,
                "missing or wrong API key: send it in the X-API-Key header "
                "(or as Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def _add_error_handlers(app: FastAPI) -> None:
    def reply(request: Request, status: int, detail: str, headers: Any = None) -> JSONResponse:
        body = error_body(detail, getattr(request.state, "request_id", None))
        return JSONResponse(body, status_code=status, headers=headers)

    def answer_with(status: int) -> Any:
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            return reply(request, status, str(exc))

        return handler

    for error, status in _STATUS_OF_ERROR.items():
        app.add_exception_handler(error, answer_with(status))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return reply(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        return reply(request, 422, _describe(exc.errors()))


def _describe(errors: Sequence[Any]) -> str:
    """pydantic's errors as one line: 'body.threshold: Input should be a valid number; ...'."""
    parts = []
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ()))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            msg = "the body is not valid JSON" + (
                f" ({err['ctx']['error']})" if err.get("ctx", {}).get("error") else ""
            )
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def _model_info(model: NERModel, settings: ServeSettings) -> ModelInfo:

    config = model.config
    return ModelInfo(
        name=model.name,
        architecture=config.architecture,
        backbone=config.model_name,
        label_encoder=config.labels_encoder,
        max_span_width=config.max_width,
        window_words=config.max_len,
        encoder_max_tokens=config.max_input_tokens,
        words_splitter=config.words_splitter_type,
        device=str(model.device),
        precision=settings.precision,
        biomedner_version=__version__,
        limits=LimitsInfo(
            max_body_bytes=settings.max_body_bytes,
            max_texts=settings.max_texts,
            max_text_chars=settings.max_text_chars,
            max_labels=settings.max_labels,
        ),
        batching=BatchingInfo(
            max_batch_texts=settings.max_batch_texts,
            max_wait_ms=settings.max_wait_ms,
            label_cache_size=settings.label_cache_size,
        ),
    )


def _autocast_dtype(precision: str) -> Any:
    if precision == "fp32":
        return None
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
