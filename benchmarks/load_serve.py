"""Load test of ``biomedner serve``: a real server process on 127.0.0.1, bounded in requests and
time, with concurrent async clients mixing valid requests (1-32 texts) and invalid ones.

Reports requests/s, texts/s, latency percentiles, the count of each status code, whether every
valid answer equals ``NERModel.predict`` (spans and labels exactly, scores to 1e-4), and the
server's RSS before and after the load. ``--compare-batching`` runs the same load against
``--max-batch-texts 1`` and the default; ``--single-text off,on,gliner`` adds a load of one-text
requests against biomedner with batching off / on and against gliner's own Ray Serve server
(``python -m gliner.serve``, which takes one text per request), same checkpoint.

    python benchmarks/load_serve.py                                  # 2,000 requests, 16 clients
    python benchmarks/load_serve.py --requests 300 --compare-batching
    python benchmarks/load_serve.py --single-text off,on,gliner --single-text-only

The checkpoint is an untrained MiniLM span model built by ``gliner`` with the tests' calibrated
head (tests/fixtures/checkpoints.py), so scores spread over (0, 1) and answers are comparable.
Loopback only: the server listens on 127.0.0.1 and nothing else is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import DEFAULT_CACHE, machine_info, make_texts

LABEL_SETS = [["gene or protein", "disease", "chemical"], ["cell type", "species"]]
SCORE_TOLERANCE = 1e-4
HOST = "127.0.0.1"


# ---------------------------------------------------------------------------- checkpoint
def checkpoint(kind: str, hidden_size: int) -> Path:
    out = DEFAULT_CACHE / f"serve-{kind}-h{hidden_size}"
    if not (out / "model.safetensors").is_file():
        from tests.fixtures.checkpoints import build_gliner_checkpoint

        build_gliner_checkpoint(out, backbone="minilm", kind=kind, hidden_size=hidden_size)  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------------------- workload
@dataclass
class Request:
    body: bytes
    texts: list[int] = field(default_factory=list)  # indices into the text pool; [] = invalid
    label_set: int = 0
    kind: str = "valid"


def make_workload(
    n: int, pool: list[str], invalid_fraction: float, max_texts: int, seed: int
) -> list[Request]:
    """Valid requests of 1-32 texts from the pool, and invalid ones of four kinds: too many
    texts (413), a body over the size limit (413), empty labels (422), broken JSON (422)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < invalid_fraction:
            kind = rng.choice(["too_many_texts", "oversized_body", "empty_labels", "bad_json"])
            if kind == "too_many_texts":
                body = {"texts": ["a"] * (max_texts + 1), "labels": LABEL_SETS[0]}
            elif kind == "oversized_body":
                body = {"text": "x " * 1_100_000, "labels": LABEL_SETS[0]}
            elif kind == "empty_labels":
                body = {"texts": [pool[0]], "labels": []}
            else:
                out.append(Request(b'{"texts": ["unterminated', kind=kind))
                continue
            out.append(Request(json.dumps(body).encode(), kind=kind))
            continue
        idx = [rng.randrange(len(pool)) for _ in range(rng.randint(1, 32))]
        ls = rng.randrange(len(LABEL_SETS))
        body = {"texts": [pool[i] for i in idx], "labels": LABEL_SETS[ls], "threshold": 0.5}
        out.append(Request(json.dumps(body).encode(), idx, ls))
    return out


def reference(model_dir: Path, pool: list[str]) -> list[list[list[dict[str, Any]]]]:
    """NERModel.predict for every pool text and label set: ref[label_set][text]."""
    from biomedner.model import NERModel

    model = NERModel.from_pretrained(model_dir)
    return [
        [[e.to_dict() for e in model.predict(t, labels, threshold=0.5)] for t in pool]
        for labels in LABEL_SETS
    ]


def same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    key = ("start", "end", "text", "label")
    if [tuple(e[k] for k in key) for e in got] != [tuple(e[k] for k in key) for e in want]:
        return False
    return all(abs(a["score"] - b["score"]) <= SCORE_TOLERANCE for a, b in zip(got, want))


# ---------------------------------------------------------------------------- server process
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, model_dir: Path, extra: list[str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = log.open("w")
        cmd = [sys.executable, "-m", "biomedner", "serve", "--model", str(model_dir),
               "--host", HOST, "--port", str(self.port), "--no-access-log", *extra]  # fmt: skip
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 300) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError("the server did not become ready")

    def rss(self) -> float:
        return rss_mib(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# ---------------------------------------------------------------------------- load
@dataclass
class Outcome:
    latency: float
    status: int
    texts: int
    correct: bool | None  # None: not a valid request or not answered 200


async def run_load(
    base: str,
    workload: list[Request],
    ref: list[list[list[dict[str, Any]]]],
    concurrency: int,
    max_seconds: float,
    path: str = "/v1/entities",
) -> tuple[list[Outcome], float]:
    import httpx

    queue = list(reversed(workload))
    outcomes: list[Outcome] = []
    stop_at = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while queue and time.perf_counter() < stop_at:
            req = queue.pop()
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    path, content=req.body, headers={"content-type": "application/json"}
                )
                status = r.status_code
            except httpx.HTTPError:
                status = 0  # no answer at all (connection reset, timeout)
                r = None
            latency = time.perf_counter() - t0
            correct = None
            if req.texts and status == 200 and r is not None:
                answer = r.json()
                # gliner's server answers one text per request: {"entities": [...]}
                results = answer.get("results", [answer])
                correct = len(results) == len(req.texts) and all(
                    same(res["entities"], ref[req.label_set][i])
                    for res, i in zip(results, req.texts)
                )
            outcomes.append(Outcome(latency, status, len(req.texts), correct))

    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return outcomes, wall


def summarize(name: str, outcomes: list[Outcome], wall: float, rss: tuple[float, float],
              stats: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    valid = [o for o in outcomes if o.texts]
    lat = sorted(o.latency for o in valid) or [float("nan")]

    def pct(p: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))]

    answered = [o for o in valid if o.status == 200]
    return {
        "run": name,
        "requests": len(outcomes),
        "seconds": round(wall, 2),
        "requests_per_s": round(len(outcomes) / wall, 1),
        "texts_per_s": round(sum(o.texts for o in answered) / wall, 1),
        "p50_ms": round(pct(50), 1),
        "p95_ms": round(pct(95), 1),
        "p99_ms": round(pct(99), 1),
        "mean_ms": round(1000 * statistics.fmean(lat), 1),
        "status_counts": dict(sorted(Counter(o.status for o in outcomes).items())),
        "valid_requests": len(valid),
        "valid_correct": sum(1 for o in answered if o.correct),
        "valid_wrong": sum(1 for o in answered if o.correct is False),
        "valid_not_200": len(valid) - len(answered),
        "server_rss_mib_before": round(rss[0], 1),  # after the warm-up load
        "server_rss_mib_after": round(rss[1], 1),
        "texts_per_model_call": round(stats["texts"] / max(1, stats["model_calls"]), 2),
    }


def one_run(args: argparse.Namespace, model_dir: Path, extra: list[str], name: str,
            workload: list[Request], ref: Any) -> dict[str, Any]:  # fmt: skip
    import httpx

    server = Server(model_dir, [*extra, *args.server_args], args.out / f"{name}.log")
    try:
        server.wait_ready()
        started = server.rss()
        # warm-up outside the measurement, under the same concurrency, so the allocator has
        # seen the largest batches before "before" is read
        warm = [w for w in workload if w.texts][: args.warmup_requests]
        asyncio.run(run_load(server.base, warm, ref, args.concurrency, args.max_seconds))
        before = server.rss()
        stats0 = httpx.get(f"{server.base}/v1/stats", timeout=10).json()
        outcomes, wall = asyncio.run(
            run_load(server.base, workload, ref, args.concurrency, args.max_seconds)
        )
        after = server.rss()
        stats1 = httpx.get(f"{server.base}/v1/stats", timeout=10).json()
    finally:
        server.stop()
    stats = {k: stats1[k] - stats0[k] for k in stats1}
    summary = summarize(name, outcomes, wall, (before, after), stats)
    summary["server_rss_mib_ready"] = round(started, 1)
    return summary


# ---------------------------------------------------------------------------- gliner's server
class GlinerServer(Server):
    """``python -m gliner.serve`` (Ray Serve) on the same checkpoint, CPU, float32, no
    torch.compile. Ray Serve's HTTP proxy listens on 127.0.0.1; the process group is ours, so
    stopping it stops the Ray processes it started, and nothing else."""

    def __init__(self, model_dir: Path, extra_path: str | None, log: Path) -> None:
        import os

        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = log.open("w")
        env = dict(os.environ, RAY_ADDRESS="local", RAY_USAGE_STATS_ENABLED="0")
        if extra_path:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), extra_path) if p)
        cmd = [sys.executable, "-m", "gliner.serve", "--model", str(model_dir), "--device", "cpu",
               "--dtype", "float32", "--no-compile", "--num-gpus-per-replica", "0",
               "--num-cpus-per-replica", "1", "--max-model-len", "384", "--max-span-width", "12",
               "--tokenizer-threads", "2", "--port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_ready(self, timeout: float = 600) -> None:
        import httpx

        probe = json.dumps({"text": "warm up", "labels": ["disease"]})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gliner.serve exited with status {self.process.returncode}")
            try:
                r = httpx.post(f"{self.base}/gliner", content=probe, timeout=30)
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise TimeoutError("gliner.serve did not answer")

    def rss(self) -> float:
        """The model runs in a Ray worker, not in the process we started: sum the session."""
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == self.process.pid:  # session id
                    total += rss_mib(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        return total

    def stop(self) -> None:
        import os
        import signal

        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(ProcessLookupError):  # whatever Ray left in our group
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def single_text_workload(n: int, pool: list[str], seed: int) -> list[Request]:
    """One text per request (gliner's server takes one), label set 0, all valid."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        i = rng.randrange(len(pool))
        body = {"text": pool[i], "labels": LABEL_SETS[0], "threshold": 0.5}
        out.append(Request(json.dumps(body).encode(), [i], 0, "single"))
    return out


def single_text_runs(args: argparse.Namespace, model_dir: Path, pool: list[str], ref: Any) -> list[dict[str, Any]]:  # fmt: skip
    """One-text requests against biomedner with batching off / on and gliner's server."""
    import httpx

    workload = single_text_workload(args.requests, pool, args.seed)
    results = []
    for run in args.single_text:
        name = {"off": "biomedner_batching_off", "on": "biomedner_batching_on"}.get(
            run, "gliner_serve"
        )
        print(f"--- one text per request: {name}", flush=True)
        if run == "gliner":
            server: Server = GlinerServer(
                model_dir, args.gliner_pythonpath, args.out / f"single-{name}.log"
            )
            path = "/gliner"
        else:
            off = ["--max-batch-texts", "1"] if run == "off" else []
            server = Server(model_dir, [*off, *args.server_args], args.out / f"single-{name}.log")
            path = "/v1/entities"
        try:
            server.wait_ready()
            asyncio.run(run_load(server.base, workload[: args.warmup_requests], ref,
                                 args.concurrency, args.max_seconds, path))  # fmt: skip
            before = server.rss()
            outcomes, wall = asyncio.run(
                run_load(server.base, workload, ref, args.concurrency, args.max_seconds, path)
            )
            after = server.rss()
            stats = {"texts": 0, "model_calls": 0}
            if run != "gliner":
                stats = httpx.get(f"{server.base}/v1/stats", timeout=10).json()
        finally:
            server.stop()
        res = summarize(name, outcomes, wall, (before, after), stats)
        if run == "gliner":
            res["note"] = "RSS: every process of its session (driver, Ray daemons, replica)"
        print(json.dumps(res, indent=1), flush=True)
        results.append(res)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument(
        "--max-seconds", type=float, default=600, help="per run: stop sending after this"
    )
    ap.add_argument("--invalid-fraction", type=float, default=0.1)
    ap.add_argument("--kind", choices=["uni", "bi"], default="uni")
    ap.add_argument("--hidden-size", type=int, default=256)
    ap.add_argument("--words", type=int, default=20, help="words per text (short texts)")
    ap.add_argument("--pool", type=int, default=48, help="distinct texts drawn from")
    ap.add_argument("--warmup-requests", type=int, default=64, help="unmeasured, same concurrency")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare-batching", action="store_true",
                    help="also run --max-batch-texts 1 (batching off) on the same load")  # fmt: skip
    ap.add_argument("--single-text", type=lambda v: [x for x in v.split(",") if x], default=[],
                    help="also one-text loads: any of off,on,gliner (gliner: its Ray Serve server)")  # fmt: skip
    ap.add_argument("--single-text-only", action="store_true", help="skip the multi-text runs")
    ap.add_argument("--gliner-pythonpath", default=None,
                    help="extra path holding Ray Serve's dependencies (ray[serve])")  # fmt: skip
    ap.add_argument("--server-args", nargs=argparse.REMAINDER, default=[],
                    help="passed to biomedner serve (put last)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=Path("/tmp/biomedner-load"))
    args = ap.parse_args()
    if set(args.single_text) - {"off", "on", "gliner"}:
        ap.error("--single-text takes a comma-separated list of off, on, gliner")
    args.out.mkdir(parents=True, exist_ok=True)

    model_dir = checkpoint(args.kind, args.hidden_size)
    pool = make_texts(args.pool, args.words, seed=args.seed)
    workload = make_workload(args.requests, pool, args.invalid_fraction, 64, args.seed)
    t0 = time.perf_counter()
    ref = reference(model_dir, pool)
    print(f"reference: NERModel.predict on {len(pool)} texts x {len(LABEL_SETS)} label sets "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip

    results = []
    if not args.single_text_only:
        runs = [("batching off (--max-batch-texts 1)", ["--max-batch-texts", "1"])]
        runs = [*(runs if args.compare_batching else []), ("batching on (defaults)", [])]
        for name, extra in runs:
            print(f"--- {name}", flush=True)
            tag = name.split(" (")[0].replace(" ", "_")
            res = one_run(args, model_dir, extra, tag, workload, ref)
            print(json.dumps(res, indent=1), flush=True)
            results.append(res)
        if len(results) == 2:
            off, on = results
            print(f"texts/s with batching on / off: {on['texts_per_s'] / off['texts_per_s']:.2f}x; "
                  f"p99 {on['p99_ms']} ms vs {off['p99_ms']} ms")  # fmt: skip
    results += single_text_runs(args, model_dir, pool, ref)
    info = machine_info()
    print("machine:", json.dumps(info))
    (args.out / "results.json").write_text(json.dumps({"machine": info, "args": vars(args) | {"out": str(args.out)}, "runs": results}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
