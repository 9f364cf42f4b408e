"""The issue-18 ablation from one command: stage 1 (synthetic) / stage 2 (general) / both, with
seeds, zero-shot on every registered test split, seed-pooled significance, and 10-shot runs.

    python benchmarks/training_ablation.py --out runs/ablation --lanes 2

Jobs run in priority order on ``--lanes`` worker processes (one torch thread each), and a job
whose output exists is skipped, so the command resumes after an interruption. The stage-2
recipe is chosen on **dev** splits only: seed 0 of each variant in ``STAGE2_VARIANTS`` is
trained after stage 1 and scored on every benchmark's dev split; the variant with the best mean
dev strict F1 is the "stage 1 + 2" arm of the ablation (``choice.json``). Test splits are read
only by the final evaluations. Every command is logged to ``<out>/logs/<job>.log`` and listed in
``<out>/commands.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs" / "ablation"
BENCHMARKS = ["ncbi_disease", "bc5cdr", "biored", "jnlpba", "bionlp13cg", "craft", "chia"]
# stage-2 variants tried on dev (seed 0): --set overrides of configs/ablation/stage2_general.toml
STAGE2_VARIANTS: dict[str, list[str]] = {
    "plain": [],
    # about a quarter of stage 2's micro-batches replay the stage-1 synthetic data
    "replay": ["stages.0.sources.12.weight=1.5", "stages.0.sources.13.weight=1.65"],
}
# the four benchmarks of abstracts (the sentence-level sets take most of the evaluation time)
GLINER_TRAINER_BENCHMARKS = "ncbi_disease,bc5cdr,biored,jnlpba"
# 10-shot from seed 0 of each arm, so the ablation's ranking can be read after adaptation too
FEWSHOT = {
    "arms": ["s12", "s1_v1v2", "s2"],
    "benchmarks": ["ncbi_disease", "bc5cdr"],
    "shots": 10,
    "seeds": [0, 1, 2],
    "steps": 60,
}


@dataclass
class Job:
    name: str
    done: Path  # exists when the job has finished
    deps: list[str] = field(default_factory=list)
    argv: list[str] | None = None  # a command, or
    command: Callable[[], list[str]] | None = None  # a command known once its deps are done, or
    action: Callable[[], None] | None = None  # a step run in the scheduler itself


def biomedner(*args: str) -> list[str]:
    return [sys.executable, "-m", "biomedner.cli.main", *args]


def train_argv(config: str, run: Path, overrides: list[str]) -> list[str]:
    sets = [a for x in [f'output_dir="{run}"', *overrides] for a in ("--set", x)]
    return biomedner("train", str(CONFIGS / config), *sets)


def stage2_overrides(out: Path, variant: str, seed: int) -> list[str]:
    start = out / "s1_v1v2" / f"seed{seed}" / "model"
    return [f"seed={seed}", f'model.checkpoint="{start}"', "model.backbone=",
            *STAGE2_VARIANTS[variant]]  # fmt: skip


def plan(out: Path, seeds: list[int]) -> list[Job]:
    jobs: list[Job] = []

    def train(name: str, config: str, run: Path, extra: list[str], deps: list[str]) -> None:
        jobs.append(
            Job(name, run / "model" / "gliner_config.json", deps, train_argv(config, run, extra))
        )

    def evaluate(name: str, model: Path, split: str, deps: list[str]) -> Path:
        dest = out / "eval" / split / name
        argv = biomedner(
            "evaluate", "--model", str(model), "--benchmarks", ",".join(BENCHMARKS),
            "--split", split, "--out", str(dest), "--no-plot", "--batch-size", "16",
        )  # fmt: skip
        jobs.append(Job(f"eval_{split}_{name}", dest / "report.json", deps, argv))
        return dest

    def stage1(arm: str, seed: int) -> str:
        name = f"s1_{arm}_seed{seed}"
        train(name, f"stage1_{arm}.toml", out / f"s1_{arm}" / f"seed{seed}", [f"seed={seed}"], [])
        return name

    def stage2(variant: str, seed: int) -> str:
        name = f"s12_{variant}_seed{seed}"
        train(name, "stage2_general.toml", out / f"s12_{variant}" / f"seed{seed}",
              stage2_overrides(out, variant, seed), [f"s1_v1v2_seed{seed}"])  # fmt: skip
        return name

    first = seeds[0]
    stage1("v1v2", first)
    dev_reports = {}
    for variant in STAGE2_VARIANTS:
        name = stage2(variant, first)
        dev_reports[variant] = evaluate(
            f"s12_{variant}_seed{first}", out / f"s12_{variant}" / f"seed{first}" / "model",
            "dev", [name],
        )  # fmt: skip
    evaluate(f"s1_v1v2_seed{first}", out / "s1_v1v2" / f"seed{first}" / "model", "dev",
             [f"s1_v1v2_seed{first}"])  # fmt: skip
    jobs.append(
        Job(
            "choose_stage2",
            out / "choice.json",
            [f"eval_dev_s12_{v}_seed{first}" for v in STAGE2_VARIANTS],
            action=lambda: choose(out, dev_reports),
        )
    )
    for seed in seeds[1:]:
        stage1("v1v2", seed)
    for seed in seeds:
        name = f"s2_seed{seed}"
        train(name, "stage2_general.toml", out / "s2" / f"seed{seed}", [f"seed={seed}"], [])
    for seed in seeds[1:]:
        jobs.append(Job(f"s12_seed{seed}", out / "s12" / f"seed{seed}" / "model" /
                        "gliner_config.json", ["choose_stage2", f"s1_v1v2_seed{seed}"]))  # fmt: skip
    for seed in seeds:
        stage1("v1", seed)
    for arm in ("s1_v1v2", "s12", "s2", "s1_v1"):
        for seed in seeds:
            dep = f"s12_seed{seed}" if arm == "s12" and seed != first else (
                "choose_stage2" if arm == "s12" else f"{arm}_seed{seed}")  # fmt: skip
            evaluate(f"{arm}_seed{seed}", out / arm / f"seed{seed}" / "model", "test", [dep])
    # the score threshold tuned on NCBI-disease dev, then NCBI-disease test: the three arms'
    # ranking without the 0.5 threshold's calibration luck
    for arm in ("s1_v1v2", "s12", "s2"):
        for seed in seeds:
            dest = out / "eval" / "tuned" / f"{arm}_seed{seed}"
            argv = biomedner(
                "evaluate", "--model", str(out / arm / f"seed{seed}" / "model"),
                "--benchmarks", "ncbi_disease", "--out", str(dest), "--no-plot",
                "--batch-size", "16", "--find-threshold", "--tune-split", "dev",
            )  # fmt: skip
            jobs.append(Job(f"eval_tuned_{arm}_seed{seed}", dest / "report.json",
                            [f"eval_test_{arm}_seed{seed}"], argv))  # fmt: skip
    # issue 17: what int8 and bf16 cost in accuracy, on the trained stage 1 + 2 model
    for speed in (["--quantize", "int8"], ["--precision", "bf16"]):
        dest = out / "eval" / "test" / f"s12_seed{first}_{speed[1]}"
        argv = biomedner(
            "evaluate", "--model", str(out / "s12" / f"seed{first}" / "model"),
            "--benchmarks", "ncbi_disease,bc5cdr", "--out", str(dest), "--no-plot",
            "--batch-size", "16", *speed,
        )  # fmt: skip
        jobs.append(Job(f"eval_test_s12_seed{first}_{speed[1]}", dest / "report.json",
                        ["choose_stage2"], argv))  # fmt: skip
    # issue 18 item 4: gliner's own trainer against biomedner's, same windows and budget
    dest = out / "gliner_trainer"
    argv = [sys.executable, str(REPO / "benchmarks" / "gliner_trainer_comparison.py"),
            "--out", str(dest), "--steps", "400", "--benchmarks", GLINER_TRAINER_BENCHMARKS]  # fmt: skip
    jobs.append(Job("gliner_trainer", dest / "summary.json", [], argv))
    for arm in FEWSHOT["arms"]:
        for bench in FEWSHOT["benchmarks"]:
            dest = out / "fewshot" / f"{arm}_{bench}"
            argv = biomedner(
                "finetune", "--model", str(out / arm / f"seed{first}" / "model"),
                "--benchmark", bench, "--shots", str(FEWSHOT["shots"]),
                *[a for s in FEWSHOT["seeds"] for a in ("--seed", str(s))],
                "--steps", str(FEWSHOT["steps"]), "--out", str(dest), "--quiet",
                "--set", "num_threads=1",
            )  # fmt: skip
            dep = "choose_stage2" if arm == "s12" else f"{arm}_seed{first}"
            jobs.append(Job(f"fewshot_{arm}_{bench}", dest / "fewshot_report.json", [dep], argv))
    _bind_chosen(jobs, out, seeds)
    return sorted(jobs, key=_priority)  # stable: the order above within a group


def _priority(job: Job) -> int:
    """What the ablation needs first when compute runs short: the three arms and their test
    scores, then the trainer comparison, the data-amount arm, int8/bf16 (issue 17), the
    tuned-threshold check, 10-shot."""
    name = job.name
    if name.startswith(("s1_v1v2", "s12", "s2_", "eval_dev", "choose")):
        return 0
    if name.startswith(("eval_test_s1_v1v2", "eval_test_s12_seed", "eval_test_s2")):
        return 2 if not name.endswith(("_int8", "_bf16")) else 5
    if name == "gliner_trainer":
        return 3
    if "s1_v1_" in name:
        return 4
    if name.startswith("eval_tuned"):
        return 6
    return 7


def _bind_chosen(jobs: list[Job], out: Path, seeds: list[int]) -> None:
    """``s12`` = the chosen variant: seed 0 is a link to its run; later seeds train it."""
    for job in jobs:
        if job.name.startswith("s12_seed"):
            seed = int(job.name.removeprefix("s12_seed"))
            job.command = _train_chosen(out, seed)


def _train_chosen(out: Path, seed: int) -> Callable[[], list[str]]:
    def argv() -> list[str]:
        variant = json.loads((out / "choice.json").read_text())["chosen"]
        run = out / "s12" / f"seed{seed}"
        return train_argv("stage2_general.toml", run, stage2_overrides(out, variant, seed))

    return argv


def choose(out: Path, reports: dict[str, Path]) -> None:
    """The variant with the best mean dev strict F1 over the benchmarks; its seed-0 run
    becomes ``s12/seed0``."""
    means = {}
    for variant, dest in reports.items():
        report = json.loads((dest / "report.json").read_text())
        f1 = [b["metrics"]["strict"]["micro"]["f1"] for b in report["benchmarks"].values()]
        means[variant] = sum(f1) / len(f1)
    chosen = max(means, key=lambda v: means[v])
    link = out / "s12" / "seed0"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(out / f"s12_{chosen}" / "seed0", target_is_directory=True)
    (out / "choice.json").write_text(json.dumps({"mean_dev_strict_f1": means, "chosen": chosen}))


def run(jobs: list[Job], out: Path, lanes: int) -> None:
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="0")
    by_name = {j.name: j for j in jobs}
    running: dict[str, subprocess.Popen] = {}
    failed: set[str] = set()
    while True:
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                del running[name]
                status = "done" if proc.returncode == 0 else f"FAILED rc={proc.returncode}"
                print(f"{time.strftime('%H:%M:%S')} {name}: {status}", flush=True)
                if proc.returncode != 0:
                    failed.add(name)
        pending = [
            j
            for j in jobs
            if not j.done.exists() and j.name not in running and not _alive(logs / f"{j.name}.pid")
        ]
        pending = [j for j in pending if j.name not in failed]
        elsewhere = [
            j
            for j in jobs
            if not j.done.exists() and j.name not in running and _alive(logs / f"{j.name}.pid")
        ]
        if not pending and not running and not elsewhere:
            break
        ready = [j for j in pending if all(by_name[d].done.exists() for d in j.deps)]
        blocked = [j for j in pending if any(d in failed for d in j.deps)]
        for j in blocked:
            failed.add(j.name)
            print(f"{j.name}: skipped, a dependency failed", flush=True)
        for job in ready:
            if job.action is not None:
                job.action()
                print(f"{time.strftime('%H:%M:%S')} {job.name}: {job.done.read_text()}")
                continue
            if len(running) + len(elsewhere) >= lanes:
                break
            argv = job.command() if job.command is not None else job.argv
            assert argv is not None
            with (out / "commands.txt").open("a") as fh:
                fh.write(" ".join(argv) + "\n")
            log = (logs / f"{job.name}.log").open("w")
            job.done.parent.parent.mkdir(parents=True, exist_ok=True)
            running[job.name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                 env=env, cwd=REPO)  # fmt: skip
            (logs / f"{job.name}.pid").write_text(str(running[job.name].pid))
            print(f"{time.strftime('%H:%M:%S')} {job.name}: started", flush=True)
        time.sleep(5)
    if failed:
        raise SystemExit(f"failed: {sorted(failed)}")


def _alive(pid_file: Path) -> bool:
    """A job started by an earlier run of this script that is still going (restart-safe)."""
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/ablation"))
    ap.add_argument("--lanes", type=int, default=2, help="jobs at once, one thread each")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--only", help="comma-separated job names (and what they need)")
    ap.add_argument("--list", action="store_true", help="print the jobs and exit")
    args = ap.parse_args()
    out = args.out.resolve()
    jobs = plan(out, [int(s) for s in args.seeds.split(",")])
    if args.only:
        by_name, keep, todo = {j.name: j for j in jobs}, set(), args.only.split(",")
        while todo:
            name = todo.pop()
            if name not in by_name:
                raise SystemExit(f"error: --only: no job {name!r}")
            keep.add(name)
            todo.extend(by_name[name].deps)
        jobs = [j for j in jobs if j.name in keep]
    if args.list:
        for j in jobs:
            print(f"{j.name:32} {'done' if j.done.exists() else '    '} <- {','.join(j.deps)}")
        return
    run(jobs, out, args.lanes)


if __name__ == "__main__":
    main()
