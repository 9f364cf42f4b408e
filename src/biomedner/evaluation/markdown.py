"""Markdown tables of an EvalReport and of a comparison."""

from __future__ import annotations

from typing import Any

from biomedner.evaluation.report import EvalReport


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def _with_ci(block: dict[str, Any]) -> str:
    ci = block.get("ci95", {}).get("f1")
    s = _pct(block["f1"])
    return f"{s} [{_pct(ci[0])}, {_pct(ci[1])}]" if ci else s


def metrics_rows(name: str, b: dict[str, Any], metrics: dict[str, Any], threshold: Any) -> str:
    s, r, bd = metrics["strict"], metrics["relaxed"], metrics["boundary"]
    split = "-" if b["split"] is None else b["split"]
    threshold = "-" if threshold is None else threshold
    return (
        f"| {name} | {split} | {threshold} | {b['n_documents']} | {b['n_gold']} | "
        f"{b['n_pred']} | {_pct(s['micro']['precision'])} | {_pct(s['micro']['recall'])} | "
        f"{_with_ci(s['micro'])} | {_with_ci(s['macro'])} | {_with_ci(r['micro'])} | "
        f"{_with_ci(bd['micro'])} |"
    )


_HEADER = (
    "| benchmark | split | threshold | docs | gold | pred | strict P | strict R | "
    "strict micro F1 [95% CI] | strict macro F1 [95% CI] | relaxed micro F1 [95% CI] | "
    "boundary micro F1 [95% CI] |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def report_markdown(report: EvalReport) -> str:
    cfg = report.config
    lines = [
        f"# Evaluation of `{report.model.get('id')}`",
        "",
        f"Decoding mode: {cfg.get('mode') or 'per benchmark (nested flag of the registry)'}; "
        f"bootstrap: {cfg.get('bootstrap')}. Scores in %.",
        "",
        _HEADER,
    ]
    for name, b in report.benchmarks.items():
        lines.append(metrics_rows(name, b, b["metrics"], b["threshold"]))
    tuned = {n: b for n, b in report.benchmarks.items() if b.get("tuned")}
    if tuned:
        lines += [
            "",
            "## With the threshold tuned on the dev split",
            "",
            "Tuned separately per benchmark; the table above uses the fixed threshold.",
            "",
            _HEADER,
        ]
        for name, b in tuned.items():
            t = b["tuned"]
            lines.append(metrics_rows(name, b, t["metrics"], t["threshold"]))
        lines.append("")
        for name, b in tuned.items():
            s = b["threshold_search"]
            lines.append(
                f"- {name}: best {s['matching']} micro F1 on {s['split']} = "
                f"{_pct(s['best_f1'])} at threshold {s['best_threshold']}"
            )
    lines += ["", "## Matching definitions", ""]
    for k, v in report.matching_definitions.items():
        lines.append(f"- **{k}**: {v}")
    lines.append("")
    return "\n".join(lines)


def comparison_markdown(comparison: dict[str, Any]) -> str:
    lines = [
        f"# `{comparison['a']}` (A) vs `{comparison['b']}` (B)",
        "",
        "Differences are A - B in micro F1 points; p-values are two-sided, from approximate "
        "randomisation (AR) and paired bootstrap over documents.",
        "",
        "| benchmark | matching | F1 A | F1 B | A - B | 95% CI of A - B | p (AR) | p (bootstrap) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, per in comparison["benchmarks"].items():
        if "skipped" in per:
            lines.append(f"| {name} | - | - | - | - | - | skipped: {per['skipped']} | |")
            continue
        for m, c in per.items():
            ci = c["paired_bootstrap"]["ci95"]
            lines.append(
                f"| {name} | {m} | {_pct(c['f1_a'])} | {_pct(c['f1_b'])} | "
                f"{100 * c['difference']:+.2f} | [{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}] | "
                f"{c['approximate_randomization']['p_value']:.4f} | "
                f"{c['paired_bootstrap']['p_value']:.4f} |"
            )
    lines.append("")
    return "\n".join(lines)
