"""Items 1-3: what ``predict`` reads and writes. A path that does not exist is an error, not a
text to annotate; offsets in a CRLF file index the file's own characters; ``-o`` replaces the
previous file only once every text is done."""

from __future__ import annotations

import json

import pytest

from tests.reliability.contract import assert_user_error, invoke


@pytest.mark.parametrize("given", ["does_not_exist.jsonl", "nope/a.txt", "missing.txt"])
def test_a_missing_input_file_is_an_error_not_a_text(tiny_uni_dir, tmp_path, monkeypatch, given):
    monkeypatch.chdir(tmp_path)
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "disease", given])
    line = assert_user_error(result, given)
    assert "no such file" in line and result.stdout == ""


def test_a_folder_as_input_is_an_error(tiny_uni_dir, tmp_path):
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "disease", tmp_path])
    assert "is a folder" in assert_user_error(result, str(tmp_path))


def test_a_missing_path_under_an_existing_folder_is_an_error(tiny_uni_dir, tmp_path):
    (tmp_path / "inputs").mkdir()
    given = str(tmp_path / "inputs" / "abstract")
    assert_user_error(invoke(["predict", "-m", tiny_uni_dir, "-l", "disease", given]), given)


def test_plain_text_is_still_annotated(tiny_uni_dir):
    text = "Aspirin reduces the risk of tumor growth in patients."
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "drug", "--threshold", "0", text])
    assert result.exit_code == 0, result.output
    for e in json.loads(result.stdout)["entities"]:
        assert text[e["start"] : e["end"]] == e["text"]


@pytest.mark.parametrize("line_end", ["\r\n", "\r", "\n"])
def test_offsets_in_a_file_index_its_own_characters(tiny_uni_dir, tmp_path, line_end):
    lines = ["Aspirin was given.", "The tumor shrank.", "Insulin dose for patients."]
    path = tmp_path / "abstract.txt"
    path.write_bytes(line_end.join(lines).encode("utf-8"))
    raw = path.read_bytes().decode("utf-8")  # exactly what is on disk
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "drug", "--threshold", "0", path])
    assert result.exit_code == 0, result.output
    entities = json.loads(result.stdout)["entities"]
    last_line_start = raw.index("Insulin")
    assert any(e["start"] >= last_line_start for e in entities)
    for e in entities:
        assert raw[e["start"] : e["end"]] == e["text"]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_a_bad_record_leaves_the_previous_output_intact(tiny_uni_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    # a lone surrogate is valid JSON but not Unicode: no output can hold it
    src.write_text(
        json.dumps({"id": "a", "text": "Aspirin."}) + "\n" + '{"id": "b", "text": "x \\ud800"}\n',
        encoding="utf-8",
    )
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "drug", "-o", out, src])
    assert "surrogate" in assert_user_error(result, f"{src}:2")
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_invalid_utf8_names_file_and_line(tiny_uni_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "drug", src])
    assert "UTF-8" in assert_user_error(result, f"{src}:2")
    txt = tmp_path / "latin1.txt"
    txt.write_bytes(b"caf\xe9 au lait")
    assert "UTF-8" in assert_user_error(
        invoke(["predict", "-m", tiny_uni_dir, "-l", "x", txt]), str(txt)
    )


def test_a_failure_during_prediction_leaves_the_previous_output(
    tiny_uni_dir, tmp_path, monkeypatch
):
    from biomedner.model import NERModel

    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    _jsonl(src, [{"id": str(i), "text": f"Aspirin {i}."} for i in range(70)])
    real = NERModel.predict_batch
    calls = []

    def fail_on_second_chunk(self, texts, *args, **kwargs):
        calls.append(len(texts))
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(out))
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(NERModel, "predict_batch", fail_on_second_chunk)
    result = invoke(
        ["predict", "-m", tiny_uni_dir, "-l", "drug", "--batch-size", "8", "-o", out, src]
    )
    assert "No space left" in assert_user_error(result, str(out))
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_a_successful_run_replaces_the_output(tiny_uni_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    _jsonl(src, [{"id": "a", "text": "Aspirin."}, {"id": "b", "text": "Insulin."}])
    result = invoke(["predict", "-m", tiny_uni_dir, "-l", "drug", "-o", out, src])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "b"]
