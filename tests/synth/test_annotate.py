"""Teacher annotation against a real local OpenAI-compatible HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from biomedner.errors import ConfigError
from biomedner.synth.annotate import AnnotateConfig, annotate_file, annotate_file_async
from biomedner.synth.cache import AnnotationCache, cache_key
from biomedner.synth.client import LLMConfig, LLMRequestError, RateLimiter
from biomedner.synth.prompts import load_prompt
from tests.synth.conftest import SCRIPTS, TEXTS, read_jsonl, write_texts
from tests.synth.fake_llm import FakeLLM, lexicon_entities

pytest.importorskip("httpx")
pytest.importorskip("jinja2")


def _config(base_url: str, **llm: object) -> AnnotateConfig:
    defaults: dict[str, object] = {
        "base_url": base_url,
        "model": "teacher-test",
        "timeout_s": 0.4,
        "connect_timeout_s": 2.0,
        "max_concurrency": 4,
        "max_retries": 4,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
    }
    defaults.update(llm)
    return AnnotateConfig(llm=LLMConfig(**defaults))  # type: ignore[arg-type]


def test_every_text_annotated_once_and_failures_counted(texts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ann.jsonl"
    with FakeLLM(SCRIPTS, slow_s=1.0) as server:
        report = annotate_file(texts_file, out, _config(server.base_url))
        requests = dict(server.requests)

    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == list(TEXTS)  # input order, each id exactly once
    by_id = {r["id"]: r["entities"] for r in rows}
    for rid, text in TEXTS.items():
        expected = lexicon_entities(text)
        if rid == "t04":  # truncated reply: the complete entities before the cut are kept
            assert by_id[rid] == expected[:-1] and len(expected) >= 3
        else:
            assert by_id[rid] == expected, rid

    c = report["counts"]
    assert c["texts"] == 12 and c["written"] == 12 and c["failed_ids"] == 0
    assert c["annotated"] == 12 and c["cached_at_start"] == 0
    assert c["reply_code_fence"] == 1
    assert c["reply_surrounding_text"] == 1
    assert c["reply_truncated"] == 1 and c["finish_length"] == 1
    assert c["reply_invalid_json"] == 1  # GARBAGE, then a good retry
    assert c["reply_wrong_schema"] == 1
    assert c["parse_retries"] == 2
    assert c["client_http_429"] == 1
    assert c["client_http_5xx"] == 2
    assert c["client_timeout"] == 1
    assert c["client_requests"] == sum(requests.values()) == 12 + 1 + 1 + 1 + 2 + 1
    by_word = {w: n for w in SCRIPTS for t, n in requests.items() if w in t}
    assert by_word == {
        "FENCE": 1,
        "CHATTY": 1,
        "TRUNC": 1,
        "GARBAGE": 2,
        "RATE": 2,
        "FLAKY": 3,
        "SLOW": 2,
        "SCHEMA": 2,
    }
    assert json.loads((tmp_path / "ann.report.json").read_text())["counts"] == c
    assert read_jsonl(tmp_path / "ann.failed.jsonl") == []


def test_rerun_uses_cache_and_sends_nothing(texts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ann.jsonl"
    with FakeLLM() as server:
        annotate_file(texts_file, out, _config(server.base_url))
        first = out.read_text()
        server.reset_counts()
        report = annotate_file(texts_file, out, _config(server.base_url))
        assert server.total == 0
    assert report["counts"]["cached_at_start"] == 12 and report["counts"]["written"] == 12
    assert out.read_text() == first


def test_cache_key_separates_models_and_prompts() -> None:
    p = load_prompt("ner_v1")
    a = cache_key(p.prompt_id, "m1", "some text")
    assert a == cache_key(p.prompt_id, "m1", "some text")
    assert a != cache_key(p.prompt_id, "m2", "some text")
    assert a != cache_key("ner_v0@000", "m1", "some text")
    assert a != cache_key(p.prompt_id, "m1", "some text", "hints")


def test_duplicate_texts_are_requested_once(tmp_path: Path) -> None:
    texts = {"a": TEXTS["t01"], "b": TEXTS["t01"], "c": TEXTS["t10"]}
    path = write_texts(tmp_path / "t.jsonl", texts)
    with FakeLLM() as server:
        report = annotate_file(path, tmp_path / "o.jsonl", _config(server.base_url))
        assert server.total == 2
    assert [r["id"] for r in read_jsonl(tmp_path / "o.jsonl")] == ["a", "b", "c"]
    assert report["counts"]["unique_texts"] == 2


def test_permanent_failure_is_counted_listed_and_retried_next_run(tmp_path: Path) -> None:
    texts = {"ok": TEXTS["t01"], "bad": "Cisplatin dosing notes, BROKEN reply every time."}
    path = write_texts(tmp_path / "t.jsonl", texts)
    out = tmp_path / "o.jsonl"
    with FakeLLM({"BROKEN": ["garbage"]}) as server:
        report = annotate_file(path, out, _config(server.base_url))
        assert server.requests[texts["bad"]] == 3  # 1 + parse_retries
        c = report["counts"]
        assert c["failed_parse"] == 1 and c["failed_ids"] == 1 and c["written"] == 1
        assert c["reply_invalid_json"] == 3
        assert read_jsonl(tmp_path / "o.failed.jsonl") == [
            {"id": "bad", "error": "parse:invalid_json"}
        ]
        assert [r["id"] for r in read_jsonl(out)] == ["ok"]
        # the server recovers: only the failed text is asked for again
        server.scripts = {}
        server.reset_counts()
        report = annotate_file(path, out, _config(server.base_url))
        assert dict(server.requests) == {texts["bad"]: 1}
    assert [r["id"] for r in read_jsonl(out)] == ["ok", "bad"]
    assert report["counts"]["failed_ids"] == 0


def test_exhausted_retries_are_a_counted_failure(tmp_path: Path) -> None:
    path = write_texts(tmp_path / "t.jsonl", {"x": "Sepsis bundle audit DOWN for maintenance."})
    with FakeLLM({"DOWN": ["503"]}) as server:
        report = annotate_file(path, tmp_path / "o.jsonl", _config(server.base_url, max_retries=2))
        assert server.total == 3
    assert report["counts"]["failed_request"] == 1
    assert read_jsonl(tmp_path / "o.failed.jsonl") == [{"id": "x", "error": "request:http_5xx"}]


def test_json_schema_rejected_falls_back(texts_file: Path, tmp_path: Path) -> None:
    with FakeLLM(reject_json_schema=True) as server:
        report = annotate_file(
            texts_file, tmp_path / "o.jsonl", _config(server.base_url, max_concurrency=1)
        )
        assert server.response_formats["json_object"] == 12
    assert report["response_format"] == "json_object"
    assert report["counts"]["client_response_format_downgrades"] == 1
    assert report["counts"]["written"] == 12


def test_bad_key_aborts_the_run(texts_file: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("BIOMEDNER_LLM_API_KEY", "wrong")
    with FakeLLM(api_key="right") as server, pytest.raises(LLMRequestError) as err:
        annotate_file(texts_file, tmp_path / "o.jsonl", _config(server.base_url))
    assert err.value.fatal and err.value.kind == "http_401"
    monkeypatch.setenv("BIOMEDNER_LLM_API_KEY", "right")
    with FakeLLM(api_key="right") as server:
        report = annotate_file(texts_file, tmp_path / "o.jsonl", _config(server.base_url))
    assert report["counts"]["written"] == 12
    assert "right" not in (tmp_path / "o.report.json").read_text()


def test_missing_base_url_is_a_config_error(texts_file: Path, tmp_path: Path, monkeypatch) -> None:
    for var in ("BIOMEDNER_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="base URL"):
        annotate_file(texts_file, tmp_path / "o.jsonl", AnnotateConfig(llm=LLMConfig(model="m")))


def test_concurrency_and_rate_are_bounded(texts_file: Path, tmp_path: Path) -> None:
    with FakeLLM(delay_s=0.05) as server:
        start = time.monotonic()
        annotate_file(
            texts_file,
            tmp_path / "o.jsonl",
            _config(server.base_url, max_concurrency=2, max_requests_per_second=40),
        )
        elapsed = time.monotonic() - start
        assert server.peak_in_flight <= 2
        assert server.total == 12
    # 12 request starts at most 40/s apart cannot fit in less than 11/40 s
    assert elapsed >= 11 / 40


def test_rate_limiter_spaces_request_starts() -> None:
    async def starts() -> list[float]:
        limiter = RateLimiter(50.0)
        out: list[float] = []

        async def one() -> None:
            await limiter.wait()
            out.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(6)))
        return sorted(out)

    times = asyncio.run(starts())
    # the k-th start is scheduled k/50 s after the first; wake-ups may be late, never early
    for k, t in enumerate(times):
        assert t - times[0] >= k / 50 - 0.002


def test_cancelled_run_resumes_without_loss_or_repeats(texts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    cache_path = tmp_path / "o.cache.sqlite"

    async def run_and_cancel(base_url: str) -> None:
        task = asyncio.ensure_future(annotate_file_async(texts_file, out, _config(base_url)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # bounded wait for some answers to be committed
            await asyncio.sleep(0.02)
            if cache_path.exists():
                with AnnotationCache(cache_path) as cache:
                    if len(cache) >= 4:
                        break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with FakeLLM(delay_s=0.1) as server:
        asyncio.run(run_and_cancel(server.base_url))
        assert not out.exists()  # nothing half-written
        with AnnotationCache(cache_path) as cache:
            done = len(cache)
        assert 4 <= done < 12
        cached_texts = _cached_texts(cache_path, server.base_url)
        server.reset_counts()
        report = annotate_file(texts_file, out, _config(server.base_url))
        assert not set(server.requests) & cached_texts  # no repeated request for cached texts
        assert server.total == 12 - done
    assert report["counts"]["cached_at_start"] == done
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == list(TEXTS)
    assert all(r["entities"] == lexicon_entities(TEXTS[r["id"]]) for r in rows)


def _cached_texts(cache_path: Path, base_url: str) -> set[str]:
    prompt = load_prompt("ner_v1")
    with AnnotationCache(cache_path) as cache:
        return {
            t for t in TEXTS.values() if cache.has(cache_key(prompt.prompt_id, "teacher-test", t))
        }


_CHILD = """
import sys
from biomedner.synth.annotate import AnnotateConfig, annotate_file
from biomedner.synth.client import LLMConfig
cfg = AnnotateConfig(llm=LLMConfig(base_url=sys.argv[1], model="teacher-test", max_concurrency=2,
                                   timeout_s=5, backoff_initial_s=0.01))
annotate_file(sys.argv[2], sys.argv[3], cfg)
"""


def test_killed_process_resumes_without_loss_or_repeats(texts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with FakeLLM(delay_s=0.15) as server:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, server.base_url, str(texts_file), str(out)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 20
            while server.total < 6 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=10)
            if proc.stderr is not None:
                proc.stderr.close()
        assert not out.exists()
        cached = _cached_texts(tmp_path / "o.cache.sqlite", server.base_url)
        assert 1 <= len(cached) < 12
        server.reset_counts()
        report = annotate_file(texts_file, out, _config(server.base_url))
        assert not set(server.requests) & cached
        assert server.total == 12 - len(cached)
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == list(TEXTS)
    assert all(r["entities"] == lexicon_entities(TEXTS[r["id"]]) for r in rows)
    assert report["counts"]["cached_at_start"] == len(cached)
