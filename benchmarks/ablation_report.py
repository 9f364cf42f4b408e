"""Tables of the issue-18 ablation from the folder ``benchmarks/training_ablation.py`` wrote.

    python benchmarks/ablation_report.py runs/ablation > runs/ablation/ablation.md

Zero-shot test scores per arm (mean ± sd over seeds, strict / relaxed micro F1), the paired
comparisons (seed-pooled, ``biomedner.evaluation.compare_seeded``) per benchmark and on the mean
over benchmarks, the stage-2 choice on dev, the int8 / bf16 scores, and the 10-shot runs.
Arms or seeds that are not there yet are named, not skipped silently.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

ARMS = {
    "s2": "no pre-training (stage 2 only)",
    "s1_v1": "stage 1, teacher_v1 only",
    "s1_v1v2": "stage 1 (v1 + v2)",
    "s12": "stage 1 + stage 2",
}
PAIRS = [("s12", "s1_v1v2"), ("s12", "s2"), ("s1_v1v2", "s2"), ("s1_v1v2", "s1_v1")]
MATCHINGS = ("strict", "relaxed")


def _reports(out: Path, arm: str) -> list[Path]:
    return sorted((out / "eval" / "test").glob(f"{arm}_seed[0-9]/report.json"))


def _f1(path: Path) -> dict[str, dict[str, float]]:
    report = json.loads(path.read_text())
    return {
        name: {m: b["metrics"][m]["micro"]["f1"] for m in MATCHINGS}
        for name, b in report["benchmarks"].items()
    }


def _spread(values: list[float]) -> str:
    if not values:
        return "—"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def zero_shot_table(out: Path) -> list[str]:
    scores = {arm: [_f1(p) for p in _reports(out, arm)] for arm in ARMS}
    names = next((list(s[0]) for s in scores.values() if s), [])
    lines = [
        "| test split | " + " | ".join(f"{ARMS[a]} ({len(scores[a])} seeds)" for a in ARMS) + " |",
        "|---" * (len(ARMS) + 1) + "|",
    ]
    for name in [*names, "mean"]:
        cells = []
        for arm in ARMS:
            per = []
            for m in MATCHINGS:
                if name == "mean":
                    vals = [statistics.mean(s[n][m] for n in names) for s in scores[arm]]
                else:
                    vals = [s[name][m] for s in scores[arm]]
                per.append(_spread(vals))
            cells.append(" / ".join(per))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def comparison_tables(out: Path, iterations: int) -> list[str]:
    from biomedner.evaluation import compare_seeded

    lines: list[str] = []
    for a, b in PAIRS:
        ra, rb = _reports(out, a), _reports(out, b)
        if not ra or not rb:
            lines.append(f"\n{ARMS[a]} vs {ARMS[b]}: not run yet ({len(ra)} / {len(rb)} seeds)")
            continue
        result = compare_seeded(ra, rb, n_iterations=iterations, n_resamples=1000, seed=0)
        (out / "compare").mkdir(exist_ok=True)
        (out / "compare" / f"{a}_vs_{b}.json").write_text(json.dumps(result, indent=1))
        lines += [
            "",
            f"**{ARMS[a]} − {ARMS[b]}** ({len(ra)} vs {len(rb)} seeds; pooled-count tests)",
            "",
            "| test split | strict Δ [95% CI] | p (AR) | relaxed Δ [95% CI] | p (AR) |",
            "|---|---|---|---|---|",
        ]
        rows = dict(result["benchmarks"])
        rows["mean over benchmarks"] = result["mean"]
        for name, entry in rows.items():
            if "skipped" in entry:
                lines.append(f"| {name} | skipped: {entry['skipped']} | | | |")
                continue
            cells = []
            for m in MATCHINGS:
                e = entry[m]
                lo, hi = e["paired_bootstrap"]["ci95"]
                p = e["approximate_randomization"]["p_value"]
                cells += [f"{e['difference']:+.3f} [{lo:+.3f}, {hi:+.3f}]", f"{p:.4f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def choice_table(out: Path) -> list[str]:
    path = out / "choice.json"
    if not path.is_file():
        return ["stage-2 choice: not made yet"]
    choice = json.loads(path.read_text())
    lines = ["| stage-2 variant (seed 0) | mean dev strict F1 (7 benchmarks) |", "|---|---|"]
    lines += [f"| {v} | {f:.4f} |" for v, f in choice["mean_dev_strict_f1"].items()]
    return [*lines, "", f"chosen: **{choice['chosen']}**"]


def tuned_table(out: Path) -> list[str]:
    lines = [
        "| arm | threshold tuned on dev (per seed) | strict F1 at 0.5 | strict F1 at the tuned threshold | relaxed, tuned |",
        "|---|---|---|---|---|",
    ]
    for arm in ("s2", "s1_v1v2", "s12"):
        paths = sorted((out / "eval" / "tuned").glob(f"{arm}_seed[0-9]/report.json"))
        if not paths:
            lines.append(f"| {ARMS[arm]} | not run yet | | | |")
            continue
        entries = [json.loads(p.read_text())["benchmarks"]["ncbi_disease"] for p in paths]
        fixed = [e["metrics"]["strict"]["micro"]["f1"] for e in entries]
        tuned = [e["tuned"]["metrics"]["strict"]["micro"]["f1"] for e in entries]
        relaxed = [e["tuned"]["metrics"]["relaxed"]["micro"]["f1"] for e in entries]
        thresholds = ", ".join(f"{e['tuned']['threshold']:.2f}" for e in entries)
        lines.append(
            f"| {ARMS[arm]} ({len(paths)} seeds) | {thresholds} | {_spread(fixed)} | "
            f"{_spread(tuned)} | {_spread(relaxed)} |"
        )
    return lines


def speed_modes_table(out: Path) -> list[str]:
    base = out / "eval" / "test" / "s12_seed0" / "report.json"
    rows = [("fp32", base)] + [
        (mode, out / "eval" / "test" / f"s12_seed0_{mode}" / "report.json")
        for mode in ("int8", "bf16")
    ]
    lines = ["| mode | NCBI-disease strict / relaxed | BC5CDR strict / relaxed |", "|---|---|---|"]
    for mode, path in rows:
        if not path.is_file():
            lines.append(f"| {mode} | not run yet | |")
            continue
        f1 = _f1(path)
        cells = [
            f"{f1[n]['strict']:.4f} / {f1[n]['relaxed']:.4f}" for n in ("ncbi_disease", "bc5cdr")
        ]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return lines


def fewshot_table(out: Path) -> list[str]:
    lines = [
        "| start model (seed 0) | benchmark | zero-shot strict | 10-shot strict (mean ± sd, 3 seeds) | 10-shot relaxed |",
        "|---|---|---|---|---|",
    ]
    for path in sorted((out / "fewshot").glob("*/fewshot_report.json")):
        r = json.loads(path.read_text())
        bench = r["benchmark"]
        arm = path.parent.name.removesuffix(f"_{bench}")
        zero, k = r["summary"]["zero_shot"], r["summary"]["k_shot"]
        lines.append(
            f"| {ARMS.get(arm, arm)} | {bench} | {zero['strict_f1']:.3f} | "
            f"{k['strict_f1_mean']:.3f} ± {k['strict_f1_std']:.3f} | "
            f"{k['relaxed_f1_mean']:.3f} ± {k['relaxed_f1_std']:.3f} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--iterations", type=int, default=10000)
    args = ap.parse_args()
    out = args.out.resolve()
    parts = [
        "### Stage-2 recipe, chosen on dev", "", *choice_table(out), "",
        "### Zero-shot, test splits (strict / relaxed micro F1, mean ± sd over seeds)", "",
        *zero_shot_table(out), "",
        "### Paired comparisons", *comparison_tables(out, args.iterations), "",
        "### NCBI-disease test with the threshold tuned on its dev split", "",
        *tuned_table(out), "",
        "### int8 and bf16 on CPU (stage 1 + 2, seed 0)", "", *speed_modes_table(out), "",
        "### 10-shot", "", *fewshot_table(out),
    ]  # fmt: skip
    print("\n".join(parts))


if __name__ == "__main__":
    main()
