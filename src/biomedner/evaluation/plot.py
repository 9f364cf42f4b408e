"""Bar chart of per-benchmark micro F1 (strict and relaxed) with bootstrap intervals."""

from __future__ import annotations

from pathlib import Path

from biomedner.evaluation.report import EvalReport
from biomedner.io.atomic import atomic_open


def plot_f1(report: EvalReport, path: str | Path) -> Path:
    # The object-oriented API with the Agg canvas draws off-screen without touching
    # matplotlib's global backend (callers may use another one).
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(report.benchmarks)
    fig = Figure(figsize=(max(4.0, 1.4 * len(names) + 2), 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(names))
    width = 0.38
    for k, matching in enumerate(("strict", "relaxed")):
        vals, lo, hi = [], [], []
        for n in names:
            micro = report.benchmarks[n]["metrics"][matching]["micro"]
            f = 100 * micro["f1"]
            ci = micro.get("ci95", {}).get("f1", [micro["f1"], micro["f1"]])
            vals.append(f)
            lo.append(f - 100 * ci[0])
            hi.append(100 * ci[1] - f)
        ax.bar(x + (k - 0.5) * width, vals, width, yerr=[lo, hi], capsize=3, label=matching)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylabel("micro F1 (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{report.model.get('id')} ({report.config.get('split')})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    with atomic_open(out, "wb") as fh:
        fig.savefig(fh, format="png")
    return out
