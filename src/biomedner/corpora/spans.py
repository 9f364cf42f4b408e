"""Policies for annotations made of several character fragments (brat ``T1 Type 0 5;9 14``,
BioC annotations with several locations). The default refuses them, so nothing is lost unseen."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError, InputError

DiscontinuousPolicy = Literal["error", "fragments", "merge", "skip"]
DISCONTINUOUS_POLICIES: tuple[str, ...] = ("error", "fragments", "merge", "skip")


def resolve_fragments(
    fragments: list[tuple[int, int]],
    policy: str,
    *,
    where: str,
    path: Path,
    line: int | None,
    report: ReadReport,
) -> list[tuple[int, int]]:
    """The spans one annotation becomes: itself when contiguous; otherwise, by policy, each
    fragment (``fragments``, as the GLiNER-BioMed CHIA preprocessing does), one span from the
    first start to the last end (``merge``), nothing (``skip``), or a FormatError (``error``).
    Every non-error outcome is counted under ``discontinuous_entities`` in the report."""
    if len(fragments) == 1:
        return fragments
    if policy not in DISCONTINUOUS_POLICIES:
        raise InputError(f"unknown discontinuous policy {policy!r}; use {DISCONTINUOUS_POLICIES}")
    note = f"{path}:{line}: {where}: discontinuous annotation {fragments} ({policy})"
    if policy == "error":
        raise FormatError(
            f"{where}: discontinuous annotation with fragments {fragments}; choose how to read it "
            f"with --discontinuous (discontinuous= in Python): {', '.join(DISCONTINUOUS_POLICIES[1:])}",
            str(path),
            line,
        )
    report.add("discontinuous_entities", note)
    if policy == "fragments":
        return sorted(fragments)
    if policy == "merge":
        return [(min(s for s, _ in fragments), max(e for _, e in fragments))]
    return []
