"""Texts -> LLM annotations ``{"id", "entities": [{"text", "type"}]}``, resumable.

Flow for ``annotate_file(texts.jsonl, annotations.jsonl, config)``:

1. Read ``{"id", "text"}`` lines (ids must be unique). Texts are keyed by
   :func:`~biomedner.synth.cache.cache_key` (prompt id, model, hint mode, text hash); texts that
   occur under several ids are requested once.
2. Keys already in the cache (``<out>.cache.sqlite`` by default) are not requested again.
3. ``max_concurrency`` workers send the rest through :class:`~biomedner.synth.client.ChatClient`
   (retries, backoff, rate limit). Each reply is parsed tolerantly; an unparseable reply is asked
   for again up to ``parse_retries`` times (sampling at ``retry_temperature`` so a greedy server
   does not repeat itself). Each success is committed to the cache immediately.
4. The output is rewritten from the cache, in input order, atomically: every id whose text has an
   answer appears exactly once. Ids whose text failed are listed in ``<out>.failed.jsonl`` and
   retried by the next run. A JSON report with every count goes beside the output.

A run killed at any point therefore resumes without repeating a request for a committed answer and
without losing or duplicating a record.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from biomedner.io.jsonl import load_texts, report_path_for, write_json_atomic, write_jsonl_atomic
from biomedner.logging import get_logger, progress_enabled
from biomedner.synth.cache import AnnotationCache, cache_key
from biomedner.synth.candidates import candidate_phrases
from biomedner.synth.client import ChatClient, LLMConfig, LLMRequestError
from biomedner.synth.parse import FAILURE_KINDS, SUCCESS_KINDS, parse_reply
from biomedner.synth.prompts import ENTITY_SCHEMA, PromptTemplate, load_prompt

if TYPE_CHECKING:
    import httpx

logger = get_logger(__name__)


class AnnotateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = "ner_v1"
    few_shot: bool = True
    candidates: bool = False  # add stop-word-delimited candidate phrases as hints
    parse_retries: int = Field(default=2, ge=0, le=20)
    retry_temperature: float | None = Field(default=0.7, ge=0)
    accept_truncated: bool = True  # keep the complete entities of a cut-off reply
    limit: int | None = Field(default=None, ge=1)  # only the first N texts (a pilot run)
    llm: LLMConfig = Field(default_factory=LLMConfig)


class _Job:
    __slots__ = ("key", "text")

    def __init__(self, key: str, text: str) -> None:
        self.key = key
        self.text = text


class Annotator:
    """Sends jobs through a client and commits each parsed answer to the cache."""

    def __init__(
        self,
        config: AnnotateConfig,
        prompt: PromptTemplate,
        client: ChatClient,
        cache: AnnotationCache,
        counts: Counter[str],
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.prompt = prompt
        self.client = client
        self.cache = cache
        self.counts = counts
        self.failures: dict[str, str] = {}
        self.on_done = on_done
        self._hint_fn = candidate_phrases if config.candidates else None

    async def run(self, jobs: list[_Job]) -> None:
        pending = iter(jobs)

        async def worker() -> None:
            for job in pending:  # shared iterator: each job goes to exactly one worker
                await self._one(job)
                if self.on_done is not None:
                    self.on_done()

        n = min(self.config.llm.max_concurrency, max(len(jobs), 1))
        tasks = [asyncio.ensure_future(worker()) for _ in range(n)]
        try:
            await asyncio.gather(*tasks)
        finally:
            # on a fatal error or cancellation, stop the other workers before returning
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, job: _Job) -> None:
        messages = self.prompt.messages(job.text, self.config.few_shot, self._hint_fn)
        last_kind = "unknown"
        for attempt in range(self.config.parse_retries + 1):
            temperature = self.config.retry_temperature if attempt else None
            try:
                reply = await self.client.chat(messages, ENTITY_SCHEMA, temperature)
            except LLMRequestError as exc:
                if exc.fatal:
                    raise
                self.counts["failed_request"] += 1
                self.failures[job.key] = f"request:{exc.kind}"
                return
            parsed = parse_reply(reply.content, reply.finish_reason)
            self.counts[f"reply_{parsed.kind}"] += 1
            self.counts["invalid_entity_items"] += parsed.invalid_items
            if reply.finish_reason == "length":
                self.counts["finish_length"] += 1
            accept = parsed.ok and (parsed.kind != "truncated" or self.config.accept_truncated)
            if not accept:
                last_kind = parsed.kind
                if attempt < self.config.parse_retries:
                    self.counts["parse_retries"] += 1
                continue
            self.counts["mentions"] += len(parsed.entities)
            self.counts["mentions_not_in_text"] += sum(
                1 for e in parsed.entities if e["text"].strip() not in job.text
            )
            self.cache.put(
                job.key,
                prompt=self.prompt.prompt_id,
                model=self.client.model,
                text=job.text,
                entities=parsed.entities,
                parse_kind=parsed.kind,
                raw=reply.content,
                finish_reason=reply.finish_reason,
                attempts=attempt + 1,
            )
            self.counts["annotated"] += 1
            return
        self.counts["failed_parse"] += 1
        self.failures[job.key] = f"parse:{last_kind}"


async def annotate_file_async(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    config: AnnotateConfig | None = None,
    cache_path: str | os.PathLike[str] | None = None,
    report_path: str | os.PathLike[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """See the module docstring. ``transport`` is for tests (an httpx mock transport)."""
    config = config or AnnotateConfig()
    out_path = Path(out_path)
    stem = out_path.name.removesuffix(".jsonl")
    cache_path = Path(cache_path) if cache_path else out_path.with_name(f"{stem}.cache.sqlite")
    failed_path = out_path.with_name(f"{stem}.failed.jsonl")
    prompt = load_prompt(config.prompt)

    texts = load_texts(in_path)
    items = list(texts.items())
    if config.limit is not None:
        items = items[: config.limit]

    counts: Counter[str] = Counter()
    client = ChatClient(config.llm, transport=transport)
    variant = "hints" if config.candidates else ""
    variant += "" if config.few_shot else "+zero_shot"
    keys = {
        rid: cache_key(prompt.prompt_id, client.model, text, variant) for rid, (text, _) in items
    }
    todo: list[_Job] = []
    seen: set[str] = set()
    with AnnotationCache(cache_path) as cache:
        cached_at_start = 0
        for rid, (text, _) in items:
            key = keys[rid]
            if key in seen:
                continue
            seen.add(key)
            if cache.has(key):
                cached_at_start += 1
            else:
                todo.append(_Job(key, text))
        counts["texts"] = len(items)
        counts["unique_texts"] = len(seen)
        counts["cached_at_start"] = cached_at_start
        counts["to_request"] = len(todo)
        logger.info(
            "%d texts (%d unique), %d already cached, %d to annotate",
            len(items),
            len(seen),
            cached_at_start,
            len(todo),
        )

        bar = None
        if progress_enabled() and todo:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc="annotate", unit="text")
        async with client:
            annotator = Annotator(
                config, prompt, client, cache, counts, on_done=bar.update if bar else None
            )
            try:
                await annotator.run(todo)
            finally:
                if bar is not None:
                    bar.close()
                counts.update({f"client_{k}": v for k, v in client.stats.items()})

        rows = []
        failed_rows = []
        for rid, _ in items:
            entities = cache.get(keys[rid])
            if entities is None:
                failed_rows.append(
                    {"id": rid, "error": annotator.failures.get(keys[rid], "not_annotated")}
                )
                continue
            rows.append({"id": rid, "entities": entities})
        written = write_jsonl_atomic(rows, out_path)
        write_jsonl_atomic(failed_rows, failed_path)
        counts["written"] = written
        counts["failed_ids"] = len(failed_rows)

    report = {
        "prompt": prompt.prompt_id,
        "model": client.model,
        "base_url": client.base_url,
        "response_format": client.structured_output,
        "config": config.model_dump(exclude={"llm": {"extra_body"}}),
        "output": {
            "name": out_path.name,
            "failed_list": failed_path.name,
            "cache": cache_path.name,
        },
        "counts": _ordered(counts),
    }
    write_json_atomic(report, report_path or report_path_for(out_path))
    return report


def _ordered(counts: Counter[str]) -> dict[str, int]:
    head = [
        "texts",
        "unique_texts",
        "cached_at_start",
        "to_request",
        "annotated",
        "written",
        "failed_ids",
        "failed_request",
        "failed_parse",
    ]
    replies = [f"reply_{k}" for k in (*SUCCESS_KINDS, *FAILURE_KINDS)]
    out = {k: int(counts.get(k, 0)) for k in head + replies}
    out.update({k: int(v) for k, v in sorted(counts.items()) if k not in out})
    return out


def annotate_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    config: AnnotateConfig | None = None,
    cache_path: str | os.PathLike[str] | None = None,
    report_path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Synchronous wrapper of :func:`annotate_file_async` (not for use inside a running loop)."""
    return asyncio.run(annotate_file_async(in_path, out_path, config, cache_path, report_path))
