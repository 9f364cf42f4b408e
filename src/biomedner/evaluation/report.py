"""EvalReport: everything an evaluation produced, as plain JSON-serialisable data.

Per benchmark it records the config used (split, threshold, decoding mode), the label map and
labels given to the model, the data hash and registry version, the counts, every metric under
the name of the matching that produced it (with its definition and bootstrap intervals), the
per-document counts (so two reports can be compared with a paired test), and where the
predictions were written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from biomedner.errors import FormatError
from biomedner.evaluation.metrics import MATCHING_DEFINITIONS
from biomedner.io.atomic import write_text_atomic

SCHEMA_VERSION = 1
PRIMARY = {"matching": "strict", "average": "micro", "metric": "f1"}


@dataclass
class EvalReport:
    model: dict[str, Any]
    config: dict[str, Any]
    benchmarks: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    matching_definitions: dict[str, str] = field(default_factory=lambda: dict(MATCHING_DEFINITIONS))
    primary: dict[str, str] = field(default_factory=lambda: dict(PRIMARY))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "model": self.model,
            "config": self.config,
            "primary": self.primary,
            "matching_definitions": self.matching_definitions,
            "benchmarks": self.benchmarks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise FormatError(f"report schema_version {version!r} is not {SCHEMA_VERSION}")
        return cls(
            model=data["model"],
            config=data["config"],
            benchmarks=data["benchmarks"],
            schema_version=version,
            matching_definitions=data.get("matching_definitions", dict(MATCHING_DEFINITIONS)),
            primary=data.get("primary", dict(PRIMARY)),
        )

    def to_json(self, path: str | Path) -> None:
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> EvalReport:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise FormatError(f"invalid JSON: {exc.msg}", str(path), exc.lineno) from None
        try:
            return cls.from_dict(data)
        except KeyError as exc:
            raise FormatError(f"not an evaluation report: missing {exc}", str(path)) from None
        except FormatError as exc:
            raise FormatError(exc.reason, str(path)) from None

    def f1(self, benchmark: str, matching: str = "strict", average: str = "micro") -> float:
        return float(self.benchmarks[benchmark]["metrics"][matching][average]["f1"])

    def save(self, out_dir: str | Path, *, plot: bool = True) -> dict[str, Path]:
        """Writes ``report.json``, ``report.md`` and (with matplotlib) ``f1.png`` into
        ``out_dir``; returns their paths."""
        from biomedner.evaluation.markdown import report_markdown

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "report.json", "markdown": out / "report.md"}
        self.to_json(paths["json"])
        write_text_atomic(paths["markdown"], report_markdown(self))
        if plot:
            from biomedner.evaluation.plot import plot_f1

            paths["plot"] = plot_f1(self, out / "f1.png")
        return paths
