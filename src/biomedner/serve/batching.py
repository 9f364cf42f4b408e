"""Dynamic micro-batching: requests queue up and one worker thread runs them together.

The model runs on the worker thread only, so the event loop never blocks on a forward pass and
no two forward passes compete for the CPU. The worker takes the oldest request, waits up to
``max_wait_ms`` (counted from that request's arrival) for more until ``max_batch_texts`` texts are
in hand, groups the requests by (labels, threshold, mode) and makes one ``predict_batch`` call per
group; each caller gets back exactly its own texts' results, in its order.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from biomedner.logging import get_logger

if TYPE_CHECKING:
    from biomedner.model import NERModel
    from biomedner.types import Entity

logger = get_logger(__name__)

GroupKey = tuple[tuple[str, ...], float, str]


class ServerClosing(RuntimeError):
    """The batcher stopped before it ran this request."""


@dataclass
class _Job:
    key: GroupKey
    texts: list[str]
    future: concurrent.futures.Future[list[list[Entity]]]
    arrived: float = field(default_factory=time.monotonic)


@dataclass
class BatchStats:
    """Counters, written by the worker thread only (so no lock); served at /v1/stats."""

    requests: int = 0
    texts: int = 0
    batches: int = 0
    model_calls: int = 0
    label_cache_hits: int = 0
    label_cache_misses: int = 0


class MicroBatcher:
    def __init__(
        self,
        model: NERModel,
        *,
        max_batch_texts: int = 32,
        max_wait_ms: float = 5.0,
        label_cache_size: int = 256,
        autocast_dtype: Any = None,
    ) -> None:
        if max_batch_texts < 1:
            raise ValueError(f"max_batch_texts must be at least 1, got {max_batch_texts}")
        self.model = model
        self.max_batch_texts = max_batch_texts
        self.max_wait_s = max(0.0, max_wait_ms) / 1000.0
        self.label_cache_size = label_cache_size
        self.autocast_dtype = autocast_dtype
        self.stats = BatchStats()
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._held: _Job | None = None  # taken from the queue but did not fit the last batch
        self._label_sets: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    # ------------------------------------------------------------------ caller side
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name="biomedner-inference", daemon=True
            )
            self._thread.start()

    def submit(
        self, texts: Sequence[str], labels: Sequence[str], threshold: float, mode: str
    ) -> concurrent.futures.Future[list[list[Entity]]]:
        """Queue one request; the future resolves to one entity list per text. Inputs must be
        valid already (see :meth:`NERModel.predict_batch`): a group fails as a whole otherwise."""
        future: concurrent.futures.Future[list[list[Entity]]] = concurrent.futures.Future()
        if self._closed.is_set():
            future.set_exception(ServerClosing("the server is shutting down"))
            return future
        self._queue.put(_Job((tuple(labels), float(threshold), str(mode)), list(texts), future))
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Finish the batch in progress, then fail whatever is still queued."""
        self._closed.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
        leftovers = [self._held] if self._held else []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                leftovers.append(job)
        for job in leftovers:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(ServerClosing("the server is shutting down"))

    # ------------------------------------------------------------------ worker side
    def _work(self) -> None:
        while True:
            jobs = self._collect()
            if jobs is None:
                return
            if jobs:
                self._run(jobs)

    def _collect(self) -> list[_Job] | None:
        """The next batch; None once closed. Cancelled requests (client gone) are dropped."""
        first = self._held if self._held is not None else self._queue.get()
        self._held = None
        if first is None:
            return None
        jobs: list[_Job] = []
        count = 0
        if first.future.set_running_or_notify_cancel():
            jobs.append(first)
            count = len(first.texts)
        deadline = first.arrived + self.max_wait_s
        while count < self.max_batch_texts:
            remaining = deadline - time.monotonic()
            try:
                job = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)  # seen again after this batch, which still runs
                break
            if jobs and count + len(job.texts) > self.max_batch_texts:
                self._held = job
                break
            if job.future.set_running_or_notify_cancel():
                jobs.append(job)
                count += len(job.texts)
        return jobs

    def _run(self, jobs: list[_Job]) -> None:
        self.stats.batches += 1
        self.stats.requests += len(jobs)
        self.stats.texts += sum(len(j.texts) for j in jobs)
        groups: dict[GroupKey, list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.key, []).append(job)
        for group in groups.values():
            try:
                self._run_group(group)
            except Exception as exc:
                if len(group) == 1:
                    group[0].future.set_exception(exc)
                    continue
                # one request's input may have spoilt the group: rerun each alone so the
                # error reaches only the request that caused it
                for job in group:
                    try:
                        self._run_group([job])
                    except Exception as single_exc:
                        job.future.set_exception(single_exc)

    def _run_group(self, group: list[_Job]) -> None:
        labels, threshold, mode = group[0].key
        texts = [t for job in group for t in job.texts]
        self.stats.model_calls += 1
        results = self.model.predict_batch(
            texts,
            self._labels(labels),
            threshold=threshold,
            mode=mode,  # type: ignore[arg-type]
            batch_size=self.max_batch_texts,
            autocast_dtype=self.autocast_dtype,
        )
        pos = 0
        for job in group:
            job.future.set_result(results[pos : pos + len(job.texts)])
            pos += len(job.texts)

    def _labels(self, labels: tuple[str, ...]) -> Any:
        """A bi-encoder's label vectors come from an LRU cache keyed by the label tuple."""
        if not self.model.config.is_bi_encoder or self.label_cache_size == 0:
            return list(labels)
        cached = self._label_sets.get(labels)
        if cached is not None:
            self._label_sets.move_to_end(labels)
            self.stats.label_cache_hits += 1
            return cached
        self.stats.label_cache_misses += 1
        label_set = self.model.encode_labels(list(labels))
        self._label_sets[labels] = label_set
        while len(self._label_sets) > self.label_cache_size:
            self._label_sets.popitem(last=False)
        return label_set
