"""Per-type query annotations -> training records.

Some open-type corpora are annotated one type at a time: each line asks for one entity type in
one passage and lists the gold mentions as strings, without offsets (the instruction format of
UniversalNER's Pile-NER and of SLIMER). One line looks like::

    {"doc_question_pairID": "812:3", "tagName": "river", "input": "<passage>",
     "output": "[\\"Danube\\", \\"Inn\\"]"}

All lines of one passage become one record: every occurrence of a gold string is an entity of
the asked type, and a type asked with an empty answer is an explicit negative. Types that were
never asked of a passage are unknown, not absent, so such records should not get negatives
sampled from other labels (the training source sets ``sample_negatives = false``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from biomedner.data.records import SpanLabel, TrainingRecord
from biomedner.errors import FormatError


def _occurrences(text: str, mention: str) -> list[tuple[int, int]]:
    out, at = [], text.find(mention)
    while at >= 0:
        out.append((at, at + len(mention)))
        at = text.find(mention, at + len(mention))
    return out


def _gold_strings(raw: object, where: str) -> list[str]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{where}: 'output' must be a JSON list of strings, got {raw!r}")
    return list(dict.fromkeys(v for v in value if v.strip()))


def read_type_queries(path: Path, counts: Counter[str]) -> list[TrainingRecord]:
    """Records, one per passage, in the file's order; counts what was found and not found."""
    passages: dict[str, str] = {}
    spans: dict[str, dict[tuple[int, int, str], None]] = {}
    asked: dict[str, dict[str, bool]] = {}  # passage -> type -> has a mention
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(line)
                pair, label, text = row["doc_question_pairID"], row["tagName"], row["input"]
                gold = _gold_strings(row["output"], where)
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise FormatError(f"{where}: not a per-type query line ({exc})") from exc
            pid = str(pair).rsplit(":", 1)[0]
            if passages.setdefault(pid, text) != text:
                raise FormatError(f"{where}: passage {pid!r} has a different text than before")
            counts["queries"] += 1
            found = False
            for mention in gold:
                hits = _occurrences(text, mention)
                if not hits:
                    counts["mentions_not_in_passage_skipped"] += 1
                    continue
                counts["mentions"] += 1
                counts["occurrences"] += len(hits)
                found = True
                for s, e in hits:
                    spans.setdefault(pid, {})[(s, e, label)] = None
            seen = asked.setdefault(pid, {})
            seen[label] = seen.get(label, False) or found
            if not gold:
                counts["queries_with_empty_answer"] += 1
    records = []
    for pid, text in passages.items():
        ents = [SpanLabel(start=s, end=e, label=lab) for s, e, lab in spans.get(pid, {})]
        negatives = [t for t, has in asked[pid].items() if not has]
        records.append(
            TrainingRecord(
                id=pid,
                text=text,
                entities=ents,
                negatives=negatives,
                provenance={"source": f"type_queries:{path.name}"},
            )
        )
    return records
