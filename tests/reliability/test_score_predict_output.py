"""Item 6: ``score --pred`` reads what ``biomedner predict`` writes ({"id", "entities"}, no
text): texts come from the gold documents with the same ids, and spans are checked against them."""

from __future__ import annotations

import json

from tests.reliability.contract import assert_user_error, invoke


def _gold(tmp_path):
    rows = [
        {
            "id": "d1",
            "text": "Aspirin treats gout.",
            "entities": [{"start": 0, "end": 7, "label": "drug"}],
        },
        {
            "id": "d2",
            "text": "Insulin for the tumor.",
            "entities": [{"start": 0, "end": 7, "label": "drug"}],
        },
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_score_reads_the_output_of_predict(tiny_uni_dir, tmp_path):
    gold = _gold(tmp_path)
    pred = tmp_path / "pred.jsonl"
    result = invoke(
        ["predict", "-m", tiny_uni_dir, "-l", "drug", "--threshold", "0.3", "-o", pred, gold]
    )
    assert result.exit_code == 0, result.output
    predicted = [json.loads(x) for x in pred.read_text().splitlines()]
    out = tmp_path / "report.json"
    result = invoke(["score", "-g", gold, "-p", pred, "--bootstrap", "0", "-o", out])
    assert result.exit_code == 0, result.output
    entry = next(iter(json.loads(out.read_text())["benchmarks"].values()))
    assert entry["n_gold"] == 2
    assert entry["n_pred"] == sum(len(r["entities"]) for r in predicted)


def test_hand_written_predictions_score_perfectly(tmp_path):
    gold = _gold(tmp_path)
    pred = tmp_path / "pred.jsonl"
    pred.write_text(
        '{"id": "d1", "entities": [{"start": 0, "end": 7, "text": "Aspirin", "label": "drug", "score": 0.9}]}\n'
        '{"id": "d2", "entities": [{"start": 0, "end": 7, "text": "Insulin", "label": "drug", "score": 0.8}]}\n',
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    result = invoke(["score", "-g", gold, "-p", pred, "--bootstrap", "0", "-o", out])
    assert result.exit_code == 0, result.output
    entry = next(iter(json.loads(out.read_text())["benchmarks"].values()))
    assert entry["metrics"]["strict"]["micro"]["f1"] == 1.0


def test_predictions_on_other_texts_are_an_error(tmp_path):
    gold = _gold(tmp_path)
    pred = tmp_path / "pred.jsonl"
    pred.write_text(
        '{"id": "d1", "entities": []}\n'
        '{"id": "d2", "entities": [{"start": 0, "end": 7, "text": "Aspirin", "label": "drug"}]}\n',
        encoding="utf-8",
    )
    line = assert_user_error(invoke(["score", "-g", gold, "-p", pred]), f"{pred}:2")
    assert "'Aspirin'" in line and "'Insulin'" in line
    pred.write_text('{"id": "d9", "entities": []}\n', encoding="utf-8")
    assert "d9" in assert_user_error(invoke(["score", "-g", gold, "-p", pred]), f"{pred}:1")
