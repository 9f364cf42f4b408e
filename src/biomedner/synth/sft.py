"""Teacher annotations -> a chat SFT dataset for the student annotator.

Each line of ``train.jsonl`` / ``eval.jsonl`` is ``{"id", "messages": [system, user, assistant]}``,
TRL's conversational format (``datasets.load_dataset("json", data_files=...)`` loads it and
``SFTTrainer`` applies the model's chat template). The system and user turns are rendered by the
same versioned prompt the teacher used (without few-shot demonstrations by default: the student
learns the task from the data, and short prompts are cheaper at annotation time), and the assistant
turn is the teacher's answer in the exact JSON format the client parses. The split is a hash of
``seed:id``, so it is stable across runs and independent of file order; the eval slice is the
held-out set for student-vs-teacher agreement.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from biomedner.errors import FormatError
from biomedner.io.jsonl import (
    iter_jsonl,
    load_texts,
    require_str,
    write_json_atomic,
    write_jsonl_atomic,
)
from biomedner.synth.candidates import candidate_phrases
from biomedner.synth.prompts import answer_json, load_prompt


class SFTExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = "ner_v1"
    few_shot: bool = False
    candidates: bool = False
    eval_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    seed: int = 13
    include_empty: bool = True  # texts the teacher found nothing in teach the student to say so


def in_eval_split(record_id: str, fraction: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def export_sft(
    texts_path: str | os.PathLike[str],
    annotations_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config: SFTExportConfig | None = None,
) -> dict[str, Any]:
    """Write ``out_dir/train.jsonl``, ``out_dir/eval.jsonl`` and ``out_dir/sft.report.json``."""
    config = config or SFTExportConfig()
    out_dir = Path(out_dir)
    prompt = load_prompt(config.prompt)
    hints = candidate_phrases if config.candidates else None
    texts = load_texts(texts_path)
    counts: Counter[str] = Counter()
    train: list[dict[str, Any]] = []
    held_out: list[dict[str, Any]] = []
    seen: set[str] = set()
    apath = str(annotations_path)
    for line, data in iter_jsonl(annotations_path):
        counts["annotations"] += 1
        rid = require_str(data, "id", apath, line)
        entities = data.get("entities")
        if not isinstance(entities, list):
            raise FormatError("field 'entities' must be a list", apath, line)
        if rid in seen:
            counts["skipped_duplicate_id"] += 1
            continue
        seen.add(rid)
        if rid not in texts:
            counts["skipped_no_text"] += 1
            continue
        valid = [
            e
            for e in entities
            if isinstance(e, dict)
            and isinstance(e.get("text"), str)
            and isinstance(e.get("type"), str)
        ]
        counts["invalid_entity_items"] += len(entities) - len(valid)
        if not valid and not config.include_empty:
            counts["skipped_empty"] += 1
            continue
        text = texts[rid][0]
        messages = prompt.messages(text, config.few_shot, hints)
        messages.append({"role": "assistant", "content": answer_json(valid)})
        row = {"id": rid, "messages": messages}
        if in_eval_split(rid, config.eval_fraction, config.seed):
            held_out.append(row)
        else:
            train.append(row)
    counts["train"] = write_jsonl_atomic(train, out_dir / "train.jsonl")
    counts["eval"] = write_jsonl_atomic(held_out, out_dir / "eval.jsonl")
    report = {
        "prompt": prompt.prompt_id,
        "config": config.model_dump(),
        "output": {"train": "train.jsonl", "eval": "eval.jsonl"},
        "counts": dict(sorted(counts.items())),
    }
    write_json_atomic(report, out_dir / "sft.report.json")
    return report
