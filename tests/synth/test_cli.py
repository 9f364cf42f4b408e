"""`biomedner synth ...` end to end through the CLI: curate -> annotate -> align, export-sft,
agreement; every command writes its JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from tests.synth.conftest import TEXTS, read_jsonl, write_texts
from tests.synth.fake_llm import FakeLLM, lexicon_entities
from tests.synth.test_curate import ABSTRACTS, BENCH_TITLE

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, ["synth", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_curate_annotate_align_flow(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    src = tmp_path / "abstracts.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"a{i}", "text": t}) + "\n" for i, t in enumerate(ABSTRACTS))
    )
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        json.dumps({"pmid": 31000001, "text": BENCH_TITLE + " " + ABSTRACTS[3], "set": "demo/test"})
        + "\n"
    )
    curated = tmp_path / "curated.jsonl"
    out = _run("curate", f"lab={src}", "--out", str(curated), "--benchmark-texts", str(bench))
    assert "decontaminated=1" in out and "written=5" in out
    report = json.loads((tmp_path / "curated.report.json").read_text())
    assert report["contamination_by_reference_set"] == {"benchmark:demo/test": 1}

    ann = tmp_path / "ann.jsonl"
    with FakeLLM() as server:
        out = _run(
            "annotate",
            str(curated),
            "--out",
            str(ann),
            "--base-url",
            server.base_url,
            "--model",
            "teacher",
            "--concurrency",
            "2",
            "--no-few-shot",
        )
        assert server.total == 5
    assert "written=5" in out
    assert [r["id"] for r in read_jsonl(ann)] == [r["id"] for r in read_jsonl(curated)]
    assert json.loads((tmp_path / "ann.report.json").read_text())["counts"]["written"] == 5

    records = tmp_path / "records.jsonl"
    out = _run(
        "align",
        "--texts",
        str(curated),
        "--annotations",
        str(ann),
        "--out",
        str(records),
        "--keep-empty",
    )
    assert "records_kept=5" in out
    assert json.loads((tmp_path / "records.report.json").read_text())["counts"]["records_kept"] == 5


def test_export_sft_and_agreement(tmp_path: Path) -> None:
    texts = write_texts(tmp_path / "texts.jsonl", TEXTS)
    ann = tmp_path / "teacher.jsonl"
    ann.write_text(
        "".join(
            json.dumps({"id": k, "entities": lexicon_entities(t)}) + "\n" for k, t in TEXTS.items()
        )
    )
    _run(
        "export-sft",
        "--texts",
        str(texts),
        "--annotations",
        str(ann),
        "--out-dir",
        str(tmp_path / "sft"),
        "--eval-fraction",
        "0.5",
    )
    sft_report = json.loads((tmp_path / "sft" / "sft.report.json").read_text())
    assert sft_report["counts"]["train"] + sft_report["counts"]["eval"] == 12
    out = _run(
        "agreement",
        "--teacher",
        str(ann),
        "--student",
        str(ann),
        "--ids",
        str(tmp_path / "sft" / "eval.jsonl"),
        "--out",
        str(tmp_path / "agree.json"),
    )
    result = json.loads(out)
    assert result["strict"]["f1"] == 1.0 and result["texts"] == sft_report["counts"]["eval"]
    assert json.loads((tmp_path / "agree.json").read_text()) == result


def test_errors_exit_2_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "ann.jsonl"
    bad.write_text('{"id": "a"}\n')
    texts = write_texts(tmp_path / "t.jsonl", {"a": "x"})
    result = runner.invoke(
        app,
        [
            "synth",
            "align",
            "--texts",
            str(texts),
            "--annotations",
            str(bad),
            "--out",
            str(tmp_path / "o.jsonl"),
        ],
    )
    assert result.exit_code == 2
    assert f"error: {bad}:1: missing field 'entities'" in result.output
    result = runner.invoke(
        app,
        [
            "synth",
            "align",
            "--texts",
            str(texts),
            "--annotations",
            str(bad),
            "--out",
            str(tmp_path / "o.jsonl"),
            "--case",
            "sometimes",
        ],
    )
    assert result.exit_code == 2 and "invalid alignment options" in result.output
    result = runner.invoke(app, ["synth", "curate", "--out", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 2 and "no sources" in result.output
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"sources": [{"path": str(texts)}], "dedupe": {}}))
    result = runner.invoke(
        app, ["synth", "curate", "--config", str(cfg), "--out", str(tmp_path / "c.jsonl")]
    )
    assert result.exit_code == 2 and "dedupe" in result.output
