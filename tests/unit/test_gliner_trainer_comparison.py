"""benchmarks/gliner_trainer_comparison.py: both trainers must get the same windows, and a
mistaken command must stop with one error line before anything is trained."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from biomedner.data.records import TrainingRecord
from biomedner.training.examples import Example

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "gliner_trainer_comparison.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("gliner_trainer_comparison", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = Example(
    id="pmid1@2",
    words=("Mutations", "in", "BRCA1", "cause", "hereditary", "breast–ovarian", "cancer", "."),
    spans=((2, 3, "gene"), (4, 7, "disease"), (5, 7, "disease")),
    negatives=("cell line",),
    num_tokens=12,
)


def test_gliner_item_has_inclusive_ends_and_the_same_entities(script) -> None:
    item = script._gliner_item(EXAMPLE)
    assert item["tokenized_text"] == list(EXAMPLE.words)
    assert item["ner"] == [[2, 2, "gene"], [4, 6, "disease"], [5, 6, "disease"]]
    assert item["ner_negatives"] == ["cell line"]


def test_record_offsets_cover_exactly_the_span_words(script) -> None:
    rec = script._record(EXAMPLE, 1)
    parsed = TrainingRecord.model_validate(rec)
    assert parsed.text == "Mutations in BRCA1 cause hereditary breast–ovarian cancer ."
    got = [(parsed.text[e.start : e.end], e.label) for e in parsed.entities]
    assert got == [
        ("BRCA1", "gene"),
        ("hereditary breast–ovarian cancer", "disease"),
        ("breast–ovarian cancer", "disease"),
    ]
    assert parsed.negatives == ["cell line"] and parsed.id == "pmid1@2"


def _run(script, capsys, *argv: str) -> tuple[int, str]:
    code = script.main(list(argv))
    return code, capsys.readouterr().err


def test_bad_options_stop_with_one_error_line(script, capsys, tmp_path: Path) -> None:
    code, err = _run(script, capsys, "--out", str(tmp_path / "o"), "--steps", "0")
    assert code == 2 and err == "error: --steps must be positive\n"
    missing = tmp_path / "nope.toml"
    code, err = _run(script, capsys, "--out", str(tmp_path / "o"), "--config", str(missing))
    assert code == 2 and err == f"error: --config: {missing.resolve()} does not exist\n"
    assert not (tmp_path / "o").exists()


def test_resuming_a_different_run_is_refused(script, capsys, tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    old = {"config": str(script.DEFAULT_CONFIG), "steps": 10, "threads": 1, "seed": 0,
           "benchmarks": script.BENCHMARKS}  # fmt: skip
    (out / "run.json").write_text(json.dumps(old), encoding="utf-8")
    code, err = _run(script, capsys, "--out", str(out), "--steps", "400")
    assert code == 2
    assert err.startswith(f"error: --out {out.resolve()} holds a run with steps=10;")
    assert err.count("\n") == 1
    assert json.loads((out / "run.json").read_text(encoding="utf-8")) == old
