"""Resume skips finished shards, a killed run resumes to the very bytes of an uninterrupted one,
and a folder written with other settings is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from biomedner.errors import InputError
from tests.annotate.conftest import write_jsonl
from tests.annotate.helpers import LABELS, annotate, read_output, shard_bytes

REPO = Path(__file__).parents[2]


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_rerun_skips_finished_shards_and_redoes_a_missing_one(tiny_models, tmp_path, one_thread):
    src = write_jsonl(tmp_path / "in.jsonl", 7)
    out = tmp_path / "out"
    first = annotate([src], out, tiny_models["uni"])
    assert first["shards_written_this_run"] == 4 and first["documents"] == 7
    before = shard_bytes(out)
    again = annotate([src], out, tiny_models["uni"])
    assert again["shards_written_this_run"] == 0 and again["shards_skipped_finished"] == 4
    assert again["documents"] == 7 and again["documents_this_run"] == 0
    # a run killed between renaming shard 2 and recording it: the shard is redone
    lines = (out / "manifest.jsonl").read_text().splitlines()
    (out / "manifest.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])
    third = annotate([src], out, tiny_models["uni"])
    assert third["shards_written_this_run"] == 2 and third["shards_skipped_finished"] == 2
    assert shard_bytes(out) == before
    records = [r["shard"] for r in _manifest(out)[1:]]
    assert sorted(r["shard"] for r in records) == [f"00000-00000{i}" for i in range(4)]
    assert sum(r["documents"] for r in records) == 7


@pytest.mark.parametrize(
    "change",
    [
        {"threshold": 0.4},
        {"labels": ["drug", "disease"]},
        {"mode": "nested"},
        {"model": "bi"},
        {"shard_size": 3},
    ],
)
def test_other_settings_are_refused_unless_overwrite(tiny_models, tmp_path, change):
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out"
    annotate([src], out, tiny_models["uni"])
    before = shard_bytes(out)
    model = tiny_models[change.pop("model", "uni")]
    name = next(iter(change), "model")
    with pytest.raises(InputError, match=rf"holds a run with {name} .*--overwrite"):
        annotate([src], out, model, **change)
    assert shard_bytes(out) == before
    summary = annotate([src], out, model, overwrite=True, **change)
    assert summary["shards_written_this_run"] == summary["shards"]
    assert _manifest(out)[0]["run"]["model"] == str(model)


def test_changed_input_is_refused(tiny_models, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", 4)
    out = tmp_path / "out"
    annotate([src], out, tiny_models["uni"])
    write_jsonl(src, 4, start=1)  # same size, other records
    with pytest.raises(InputError, match=r"in.jsonl has changed since shard 00000-000000"):
        annotate([src], out, tiny_models["uni"])


def test_manifest_records_what_a_shard_holds(tiny_models, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    annotate([src], tmp_path / "out", tiny_models["bi"], threshold=0.2)
    run, *shards = _manifest(tmp_path / "out")
    assert run["run"]["labels"] == LABELS and run["run"]["threshold"] == 0.2
    assert run["run"]["model"] == str(tiny_models["bi"]) and len(run["run"]["config_hash"]) == 16
    assert run["run"]["library_version"] and run["run"]["mode"] == "flat"
    size = src.stat().st_size
    first, second = (s["shard"] for s in shards)
    assert first["byte_start"] == 0 and first["byte_end"] == second["byte_start"]
    assert second["byte_end"] == size and first["documents"] == 2 and second["documents"] == 1
    docs = read_output(tmp_path / "out", "jsonl")
    assert first["entities"] + second["entities"] == sum(len(d.entities) for d in docs)


def _run_cli(args: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    with open(log, "wb") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "biomedner.cli.main", "annotate", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=fh,
        )


def test_sigkill_then_rerun_gives_the_uninterrupted_output(tiny_models, tmp_path, one_thread):
    src = write_jsonl(tmp_path / "in.jsonl", 150)
    reference = tmp_path / "reference"
    annotate([src], reference, tiny_models["uni"], shard_size=3)
    out = tmp_path / "killed"
    args = [str(src), "-m", str(tiny_models["uni"]), "-l", ",".join(LABELS), "--threshold",
            "0.3", "--shard-size", "3", "--out", str(out), "--no-progress"]  # fmt: skip
    proc = _run_cli(args, tmp_path / "stderr.txt")
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.is_file() and manifest.read_text().count("\n") >= 4:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log = (tmp_path / "stderr.txt").read_text(errors="replace")
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it was killed: {log[-2000:]}"
    done_before = len(_manifest(out)) - 1
    assert 3 <= done_before < 50
    summary = annotate([src], out, tiny_models["uni"], shard_size=3)
    assert summary["shards_skipped_finished"] == done_before
    assert shard_bytes(out) == shard_bytes(reference)
    ids = [d.id for d in read_output(out, "jsonl")]
    assert ids == [f"doc{i}" for i in range(150)]
    assert not [p for p in (out / "shards").iterdir() if p.name.startswith(".")]


def test_half_written_shards_of_a_killed_run_are_removed(tiny_models, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", 2)
    out = tmp_path / "out"
    stale_file = out / "shards" / ".00000-000000.jsonl.tmp-4242"
    stale_dir = out / "shards" / ".00000-000001.tmp-4242"
    stale_dir.mkdir(parents=True)
    stale_file.write_text('{"id": "doc0", "te')
    annotate([src], out, tiny_models["uni"])
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["00000-000000.jsonl"]
