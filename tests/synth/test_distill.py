"""Distillation: SFT export in TRL's chat format, one LoRA step on a tiny causal LM, agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomedner.synth.agreement import agreement
from biomedner.synth.parse import parse_reply
from biomedner.synth.sft import SFTExportConfig, export_sft, in_eval_split
from tests.synth.conftest import TEXTS, write_texts
from tests.synth.fake_llm import lexicon_entities


def _teacher(tmp_path: Path) -> tuple[Path, Path]:
    texts = write_texts(tmp_path / "texts.jsonl", TEXTS)
    ann = tmp_path / "ann.jsonl"
    rows = [{"id": k, "entities": lexicon_entities(t)} for k, t in TEXTS.items()]
    rows.append({"id": "orphan", "entities": []})  # no text: counted, not exported
    ann.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return texts, ann


def test_export_sft_loads_as_chat_dataset(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    texts, ann = _teacher(tmp_path)
    report = export_sft(texts, ann, tmp_path / "sft", SFTExportConfig(eval_fraction=0.25, seed=3))
    c = report["counts"]
    assert c["skipped_no_text"] == 1
    assert c["train"] + c["eval"] == 12 and c["eval"] >= 1
    ds = datasets.load_dataset(
        "json",
        data_files={
            "train": str(tmp_path / "sft/train.jsonl"),
            "eval": str(tmp_path / "sft/eval.jsonl"),
        },
    )
    assert set(ds["train"].column_names) == {"id", "messages"}
    row = ds["train"][0]
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert TEXTS[row["id"]] in row["messages"][1]["content"]
    # the target is exactly what the annotation client parses back
    parsed = parse_reply(row["messages"][2]["content"])
    assert parsed.kind == "json" and parsed.entities == lexicon_entities(TEXTS[row["id"]])
    eval_ids = set(ds["eval"]["id"])
    assert eval_ids == {k for k in TEXTS if in_eval_split(k, 0.25, 3)}
    assert not eval_ids & set(ds["train"]["id"])


def test_agreement_scores() -> None:
    teacher = {
        "a": [{"text": "BRCA1", "type": "gene"}, {"text": "breast cancer", "type": "disease"}],
        "b": [{"text": "sepsis", "type": "disease"}],
        "c": [{"text": "HeLa", "type": "cell line"}],
    }
    student = {
        "a": [{"text": "BRCA1", "type": "Gene "}, {"text": "breast cancer", "type": "cancer"}],
        "b": [{"text": "sepsis", "type": "disease"}, {"text": "shock", "type": "disease"}],
    }
    r = agreement(teacher, student, ["a", "b", "c"])
    assert r["strict"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 2, "fp": 2, "fn": 2}
    assert r["untyped"]["tp"] == 3 and r["untyped"]["fp"] == 1 and r["untyped"]["fn"] == 1
    assert r["student_missing"] == 1 and r["texts"] == 3
    with pytest.raises(KeyError, match="no teacher annotation"):
        agreement(teacher, student, ["zz"])


@pytest.mark.slow
def test_train_student_one_step_on_tiny_llama(tmp_path: Path) -> None:
    for mod in ("datasets", "trl", "peft"):
        pytest.importorskip(mod)
    from biomedner.synth.student import StudentTrainConfig, train_student
    from tests.synth.tiny_causal_lm import build_tiny_causal_lm

    texts, ann = _teacher(tmp_path)
    export_sft(texts, ann, tmp_path / "sft", SFTExportConfig(eval_fraction=0.25, seed=3))
    lm = build_tiny_causal_lm(tmp_path / "lm")
    cfg = StudentTrainConfig(
        model=str(lm),
        train_file=str(tmp_path / "sft/train.jsonl"),
        output_dir=str(tmp_path / "student"),
        max_steps=1,
        per_device_train_batch_size=1,
        max_length=1024,
        lora_r=4,
        save_steps=1,
        use_cpu=True,
        merge_lora=True,
    )
    report = train_student(cfg)
    assert report["global_step"] == 1 and report["train_loss"] > 0
    out = tmp_path / "student"
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert (out / "merged" / "config.json").is_file()
    assert (out / "checkpoint-1").is_dir()
    assert json.loads((out / "train_student.report.json").read_text())["global_step"] == 1
    assert report["resumed_from"] is None  # a rerun would resume from checkpoint-1
