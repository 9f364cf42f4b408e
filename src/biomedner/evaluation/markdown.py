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
    if "mean" in comparison:
        lines += _mean_section(comparison["mean"])
    return "\n".join(lines)


def _diff_cells(c: dict[str, Any]) -> str:
    """A - B, its bootstrap interval and both p-values, as table cells."""
    ci = c["paired_bootstrap"]["ci95"]
    return (
        f"{100 * c['difference']:+.2f} | [{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}] | "
        f"{c['approximate_randomization']['p_value']:.4f} | "
        f"{c['paired_bootstrap']['p_value']:.4f} |"
    )


def _left_out_line(mean: dict[str, Any]) -> list[str]:
    if not mean["left_out"]:
        return []
    parts = [f"{name} ({why})" for name, why in mean["left_out"].items()]
    return [f"Left out of the mean: {'; '.join(parts)}.", ""]


def _mean_section(mean: dict[str, Any]) -> list[str]:
    lines = ["## Mean over benchmarks", ""]
    if "skipped" in mean:
        return [*lines, f"Not computed: {mean['skipped']}.", "", *_left_out_line(mean)]
    lines += [
        f"Unweighted mean of micro F1 over the {len(mean['benchmarks'])} benchmark(s) in both "
        f"reports ({', '.join(mean['benchmarks'])}). AR swaps every document of every benchmark "
        "independently; the bootstrap resamples documents within each benchmark.",
        "",
        "| matching | mean F1 A | mean F1 B | A - B | 95% CI of A - B | p (AR) | p (bootstrap) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m, c in mean.items():
        if m in ("benchmarks", "left_out"):
            continue
        lines.append(f"| {m} | {_pct(c['f1_a'])} | {_pct(c['f1_b'])} | {_diff_cells(c)}")
    lines.append("")
    return lines + _left_out_line(mean)


def _spread(s: dict[str, Any]) -> str:
    return _pct(s["mean"]) if s["sd"] is None else f"{_pct(s['mean'])} ± {_pct(s['sd'])}"


def _side_line(name: str, side: dict[str, Any]) -> str:
    items = [
        # a report given as an object is already labelled with its model id
        f"`{report}`" if report.endswith(f"({model})") else f"`{model}` ({report})"
        for model, report in zip(side["models"], side["reports"], strict=True)
    ]
    return f"- {name}: {', '.join(items)}"


def seeded_comparison_markdown(comparison: dict[str, Any]) -> str:
    """Tables of :func:`biomedner.evaluation.compare_seeded`'s result: one per matching, a row
    per benchmark and the mean row, then every seed's F1."""
    n = comparison["n_seeds"]
    mean = comparison["mean"]
    matchings = comparison["matchings"]
    lines = [
        f"# A ({n['a']} seed(s)) vs B ({n['b']} seed(s))",
        "",
        _side_line("A", comparison["a"]),
        _side_line("B", comparison["b"]),
        "",
        "F1 in %: mean ± sd over seeds per side. A - B is the difference of pooled micro F1 "
        "(each side's per-document counts summed over its seeds); its 95% CI and the p-values of "
        "approximate randomisation (AR) and the paired bootstrap resample documents, so they do "
        "not cover the variation between training seeds: read them beside the per-seed spread. "
        "The mean row is the unweighted mean of micro F1 over the benchmarks that every report "
        "holds; its tests swap or resample documents within each benchmark.",
        "",
    ]
    for m in matchings:
        lines += [
            f"## {m}",
            "",
            "| benchmark | F1 A | F1 B | A - B (pooled) | 95% CI of A - B | p (AR) | p (bootstrap) |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, per in comparison["benchmarks"].items():
            if "skipped" in per:
                lines.append(f"| {name} | - | - | - | - | skipped: {per['skipped']} | |")
                continue
            c = per[m]
            lines.append(
                f"| {name} | {_spread(c['f1_a'])} | {_spread(c['f1_b'])} | {_diff_cells(c)}"
            )
        if m in mean:
            c = mean[m]
            lines.append(
                f"| **mean of {len(mean['benchmarks'])}** | {_spread(c['f1_a'])} | "
                f"{_spread(c['f1_b'])} | {_diff_cells(c)}"
            )
        lines.append("")
    if "skipped" in mean:
        lines += [f"Mean over benchmarks not computed: {mean['skipped']}.", ""]
    lines += _left_out_line(mean)
    lines += [
        "## Micro F1 of each seed",
        "",
        "| benchmark | matching | A | B |",
        "|---|---|---|---|",
    ]
    rows = [(n, per) for n, per in comparison["benchmarks"].items() if "skipped" not in per]
    if "skipped" not in mean:
        rows.append(("mean", mean))
    for name, per in rows:
        for m in matchings:
            a = ", ".join(_pct(x) for x in per[m]["f1_a_seeds"])
            b = ", ".join(_pct(x) for x in per[m]["f1_b_seeds"])
            lines.append(f"| {name} | {m} | {a} | {b} |")
    lines.append("")
    return "\n".join(lines)
