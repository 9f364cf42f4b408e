"""Concurrent requests run together, grouped by (labels, threshold, mode); each caller gets
exactly its own results, equal to NERModel.predict's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from biomedner.errors import InputError
from biomedner.serve.batching import MicroBatcher, ServerClosing
from tests.serve.conftest import LABELS, TEXTS, assert_same_entities, expected


class CountingModel:
    """Wraps a model to count predict_batch calls and the texts of each."""

    def __init__(self, model):
        self.model = model
        self.config = model.config
        self.calls: list[int] = []

    def predict_batch(self, texts, *args, **kwargs):
        self.calls.append(len(texts))
        return self.model.predict_batch(texts, *args, **kwargs)

    def encode_labels(self, labels):
        return self.model.encode_labels(labels)


def as_dicts(results):
    return [[e.to_dict() for e in r] for r in results]


def test_queued_requests_run_in_one_call_and_each_gets_its_own_results(model):
    counting = CountingModel(model)
    batcher = MicroBatcher(counting, max_batch_texts=64, max_wait_ms=0)
    requests = [TEXTS[i : i + 2] for i in range(0, len(TEXTS), 2)] + [[TEXTS[0]], TEXTS[::-1]]
    # queued before the worker starts: the first batch finds them all waiting
    futures = [batcher.submit(texts, LABELS, 0.5, "nested") for texts in requests]
    batcher.start()
    try:
        answers = [f.result(timeout=60) for f in futures]
    finally:
        batcher.close()
    assert counting.calls == [sum(len(r) for r in requests)]
    for texts, answer in zip(requests, answers):
        assert len(answer) == len(texts)
        for text, entities in zip(texts, as_dicts(answer)):
            assert_same_entities(entities, expected(model, text, LABELS, mode="nested"))
    assert batcher.stats.requests == len(requests) and batcher.stats.batches == 1


def test_groups_split_by_labels_threshold_and_mode(uni):
    counting = CountingModel(uni)
    batcher = MicroBatcher(counting, max_batch_texts=64, max_wait_ms=0)
    keys = [
        (["gene"], 0.5, "flat"),
        (["gene"], 0.5, "flat"),
        (["drug"], 0.5, "flat"),
        (["gene"], 0.51, "flat"),
        (["gene"], 0.5, "nested"),
        (["drug"], 0.5, "flat"),
    ]
    futures = [batcher.submit([TEXTS[i]], *key) for i, key in enumerate(keys)]
    batcher.start()
    try:
        answers = [f.result(timeout=60)[0] for f in futures]
    finally:
        batcher.close()
    assert sorted(counting.calls) == [1, 1, 2, 2]  # four groups in one batch
    for i, ((labels, threshold, mode), answer) in enumerate(zip(keys, answers)):
        assert_same_entities(
            [e.to_dict() for e in answer],
            expected(uni, TEXTS[i], labels, threshold=threshold, mode=mode),
        )


def test_max_batch_texts_bounds_each_call(uni):
    counting = CountingModel(uni)
    batcher = MicroBatcher(counting, max_batch_texts=3, max_wait_ms=0)
    futures = [batcher.submit([t], ["gene"], 0.5, "flat") for t in TEXTS]  # 6 texts
    big = batcher.submit(TEXTS * 2, ["gene"], 0.5, "flat")  # alone over the limit: runs alone
    batcher.start()
    try:
        for f in [*futures, big]:
            f.result(timeout=60)
    finally:
        batcher.close()
    assert counting.calls == [3, 3, 12]


def test_one_bad_request_fails_alone(uni):
    batcher = MicroBatcher(uni, max_batch_texts=64, max_wait_ms=0)
    good = batcher.submit([TEXTS[0]], ["gene"], 0.5, "flat")
    bad = batcher.submit([TEXTS[1], 42], ["gene"], 0.5, "flat")  # same group, not a text
    batcher.start()
    try:
        assert_same_entities(
            [e.to_dict() for e in good.result(timeout=60)[0]], expected(uni, TEXTS[0], ["gene"])
        )
        with pytest.raises(InputError, match="text #1 is int, expected str"):
            bad.result(timeout=60)
    finally:
        batcher.close()


def test_bi_encoder_label_sets_are_cached_lru(bi):
    counting = CountingModel(bi)
    encoded: list[list[str]] = []
    original = counting.encode_labels
    counting.encode_labels = lambda labels: encoded.append(list(labels)) or original(labels)
    batcher = MicroBatcher(counting, max_batch_texts=64, max_wait_ms=0, label_cache_size=2)
    batcher.start()
    try:
        for labels in (
            ["gene", "drug"],
            ["gene", "drug"],
            ["disease"],
            ["gene", "drug"],
            ["cell"],
            ["disease"],
        ):
            got = batcher.submit([TEXTS[0]], labels, 0.5, "flat").result(timeout=60)[0]
            assert_same_entities([e.to_dict() for e in got], expected(bi, TEXTS[0], labels))
    finally:
        batcher.close()
    # ["cell"] evicted ["disease"] (least recently used), so "disease" is encoded twice
    assert encoded == [["gene", "drug"], ["disease"], ["cell"], ["disease"]]
    assert (batcher.stats.label_cache_hits, batcher.stats.label_cache_misses) == (2, 4)


def test_close_fails_what_is_still_queued(uni):
    batcher = MicroBatcher(uni, max_batch_texts=1, max_wait_ms=0)
    queued = batcher.submit(["gene"], ["gene"], 0.5, "flat")
    batcher.close()  # never started: nothing ran
    with pytest.raises(ServerClosing):
        queued.result(timeout=5)
    with pytest.raises(ServerClosing):
        batcher.submit(["gene"], ["gene"], 0.5, "flat").result(timeout=5)


def test_concurrent_http_requests_share_model_calls(model, serve):
    n = 8
    bodies = [
        {"texts": [TEXTS[i % len(TEXTS)], TEXTS[(i + 1) % len(TEXTS)]], "labels": LABELS}
        for i in range(n)
    ]
    with serve(model, max_batch_texts=2 * n, max_wait_ms=1000) as client:
        before = client.get("/v1/stats").json()
        barrier = threading.Barrier(n)

        def call(body):
            barrier.wait()
            return client.post("/v1/entities", json=body)

        with ThreadPoolExecutor(n) as pool:
            replies = list(pool.map(call, bodies))
        after = client.get("/v1/stats").json()
    assert [r.status_code for r in replies] == [200] * n
    assert after["requests"] - before["requests"] == n
    assert after["model_calls"] - before["model_calls"] < n  # requests were batched together
    for body, reply in zip(bodies, replies):
        results = reply.json()["results"]
        assert len(results) == 2
        for text, res in zip(body["texts"], results):
            assert_same_entities(res["entities"], expected(model, text, LABELS))
