"""``summary.json`` and ``rejects.jsonl``: the totals over every recorded shard (this run and the
earlier ones it resumed), and this run's time and throughput."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from biomedner.annotate.context import RunContext


def collect_rejects(ctx: RunContext) -> Path | None:
    """Concatenates the per-shard reject files in input order into ``rejects.jsonl``."""
    keys = sorted(k for k, rec in ctx.manifest.shards.items() if rec.rejects)
    out = ctx.out_dir / "rejects.jsonl"
    if not keys:
        out.unlink(missing_ok=True)
        return None
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        for key in keys:
            fh.write(ctx.rejects_path(key).read_text(encoding="utf-8"))
    os.replace(tmp, out)
    return out


def build_summary(ctx: RunContext, *, wall_time: float, engine: dict[str, Any]) -> dict[str, Any]:
    records = [ctx.manifest.shards[k] for k in sorted(ctx.manifest.shards)]
    per_label: Counter[str] = Counter()
    for rec in records:
        per_label.update(rec.entities_per_label)
    s = ctx.settings
    return {
        "output": str(ctx.out_dir),
        "format": s.to_format,
        "model": s.model,
        "config_hash": s.config_hash,
        "labels": s.labels,
        "threshold": s.threshold,
        "mode": s.mode,
        "documents": sum(r.documents for r in records),
        "passages": sum(r.passages for r in records),
        "entities": sum(r.entities for r in records),
        "entities_per_label": {label: per_label.get(label, 0) for label in s.labels},
        "rejects": sum(r.rejects for r in records),
        "shards": len(records),
        "shards_written_this_run": ctx.written,
        "shards_skipped_finished": ctx.skipped,
        "documents_this_run": ctx.documents_this_run,
        "wall_time_s": round(wall_time, 3),
        "documents_per_s": round(ctx.documents_this_run / wall_time, 2) if wall_time > 0 else 0.0,
        **engine,
        "library_version": s.library_version,
    }


def write_summary(ctx: RunContext, summary: dict[str, Any]) -> Path:
    out = ctx.out_dir / "summary.json"
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return out
