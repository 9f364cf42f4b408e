"""Item 9 and the error contract of every command: a user's mistake ends in one ``error:`` line
naming the flag or file, exit status 2, no traceback; options are checked before a model loads
(loading is made to fail the test here) and a failed run leaves the previous output intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.contract import assert_user_error, invoke, recipe

CORPORA = Path(__file__).parents[1] / "corpora" / "fixtures"
PUBTATOR = CORPORA / "sample.pubtator"


@pytest.fixture
def previous(tmp_path):
    """An output file from an earlier run, which a failed run must leave as it was."""
    path = tmp_path / "previous.jsonl"
    path.write_text("earlier results\n", encoding="utf-8")
    return path


def _cuda_missing() -> bool:
    import torch

    return not torch.cuda.is_available()


# ------------------------------------------------------------------ predict
@pytest.mark.skipif(not _cuda_missing(), reason="this machine has a CUDA GPU")
def test_predict_cuda_without_cuda(no_model_load, previous):
    result = invoke(["predict", "-m", "m", "-l", "x", "--device", "cuda", "-o", previous, "text"])
    assert "no CUDA GPU" in assert_user_error(result, "--device", "cuda")
    assert previous.read_text() == "earlier results\n"


@pytest.mark.parametrize("device", ["gpu9", "cuda:x", "cpu:1", ""])
def test_predict_device_that_does_not_exist(no_model_load, device):
    assert_user_error(
        invoke(["predict", "-m", "m", "-l", "x", "--device", device, "t"]), "--device"
    )


def test_predict_output_folder_missing(no_model_load, tmp_path):
    out = tmp_path / "no" / "such" / "out.jsonl"
    line = assert_user_error(invoke(["predict", "-m", "m", "-l", "x", "-o", out, "t"]), "--output")
    assert "does not exist" in line and not out.parent.exists()


def test_predict_output_is_a_folder(no_model_load, tmp_path):
    assert_user_error(invoke(["predict", "-m", "m", "-l", "x", "-o", tmp_path, "t"]), "--output")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--threshold", "1.5"),
        ("--threshold", "-0.1"),
        ("--threshold", "abc"),
        ("--mode", "wide"),
        ("--precision", "fp8"),
        ("--batch-size", "0"),
    ],
)
def test_predict_bad_option_values(no_model_load, flag, value):
    assert_user_error(invoke(["predict", "-m", "m", "-l", "x", flag, value, "t"]), flag)


def test_predict_empty_labels(no_model_load):
    assert_user_error(invoke(["predict", "-m", "m", "-l", " , ", "t"]), "--labels")


def test_predict_missing_model_folder(tmp_path):
    assert_user_error(invoke(["predict", "-m", tmp_path / "nope", "-l", "x", "t"]), "nope")


# ------------------------------------------------------------------ convert
def test_convert_missing_input(tmp_path, previous):
    result = invoke(["convert", tmp_path / "gone.pubtator", previous, "--to", "jsonl"])
    assert_user_error(result, "SRC", "gone.pubtator")
    assert previous.read_text() == "earlier results\n"


def test_convert_output_folder_missing(tmp_path):
    out = tmp_path / "missing" / "out.jsonl"
    assert "does not exist" in assert_user_error(invoke(["convert", PUBTATOR, out]), "DST")
    assert not out.parent.exists()


@pytest.mark.parametrize(
    ("flag", "value"), [("--discontinuous", "glue"), ("--to", "csv"), ("--scheme", "iob9")]
)
def test_convert_bad_option_values(tmp_path, flag, value):
    assert_user_error(invoke(["convert", PUBTATOR, tmp_path / "o.jsonl", flag, value]), flag)


def test_convert_format_not_guessable_names_the_flag(tmp_path):
    assert_user_error(invoke(["convert", PUBTATOR, tmp_path / "out.data"]), "DST", "--to")


def test_convert_failure_leaves_the_previous_output(tmp_path, previous):
    # a tab inside an entity type cannot be written as PubTator: the write fails half way
    src = tmp_path / "in.jsonl"
    good = {"id": "1", "text": "Gout.", "entities": [{"start": 0, "end": 4, "label": "Disease"}]}
    bad = {"id": "2", "text": "Gout.", "entities": [{"start": 0, "end": 4, "label": "Dis\tease"}]}
    src.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    result = invoke(["convert", src, previous, "--to", "pubtator"])
    assert_user_error(result, str(previous))
    assert previous.read_text() == "earlier results\n"
    assert sorted(p.name for p in previous.parent.iterdir()) == ["in.jsonl", "previous.jsonl"]


# ------------------------------------------------------------------ score
def _pred_file(tmp_path) -> Path:
    from biomedner.corpora import read

    docs = read(PUBTATOR, "pubtator")
    path = tmp_path / "pred.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": d.id, "entities": [e.to_dict() for e in d.entities]}) + "\n"
            for d in docs
        ),
        encoding="utf-8",
    )
    return path


def test_score_output_folder_missing_fails_before_printing(tmp_path):
    out = tmp_path / "missing" / "report.json"
    result = invoke(["score", "-g", PUBTATOR, "-p", _pred_file(tmp_path), "-o", out])
    assert "does not exist" in assert_user_error(result, "--out")
    assert result.stdout == ""  # no report printed before the failure


def test_score_missing_prediction_file(tmp_path):
    assert_user_error(invoke(["score", "-g", PUBTATOR, "-p", tmp_path / "p.jsonl"]), "--pred")


def test_score_missing_label_map(tmp_path):
    result = invoke(
        ["score", "-g", PUBTATOR, "-p", _pred_file(tmp_path), "--label-map", tmp_path / "m.json"]
    )
    assert_user_error(result, "--label-map", "m.json")


def test_score_hint_names_the_flag_not_the_python_parameter(tmp_path):
    pred = _pred_file(tmp_path)
    first = pred.read_text().splitlines()[0]
    pred.write_text(first + "\n", encoding="utf-8")  # predictions for one document only
    line = assert_user_error(invoke(["score", "-g", PUBTATOR, "-p", pred]), "--allow-missing")
    assert "have no predictions" in line


def test_score_does_not_overwrite_a_report_on_failure(tmp_path, previous):
    result = invoke(["score", "-g", PUBTATOR, "-p", tmp_path / "nope.jsonl", "-o", previous])
    assert_user_error(result, "--pred")
    assert previous.read_text() == "earlier results\n"


# ------------------------------------------------------------------ evaluate / compare
def test_evaluate_bad_device_and_missing_output_folder(no_model_load, tmp_path):
    assert_user_error(
        invoke(["evaluate", "-m", "m", "-b", "ncbi_disease", "-o", tmp_path, "--device", "gpu9"]),
        "--device",
    )
    out = tmp_path / "a" / "b"
    assert_user_error(invoke(["evaluate", "-m", "m", "-b", "ncbi_disease", "-o", out]), "--out")
    assert_user_error(
        invoke(["evaluate", "-m", "m", "-b", "no_such_benchmark", "-o", tmp_path]), "--benchmarks"
    )


def test_compare_missing_report_and_output_folder(tmp_path):
    assert_user_error(invoke(["compare", tmp_path / "a.json", tmp_path / "b.json"]), "a.json")
    report = tmp_path / "r.json"
    report.write_text("{}", encoding="utf-8")
    out = tmp_path / "missing" / "cmp.json"
    assert_user_error(invoke(["compare", report, report, "-o", out]), "--out")


# ------------------------------------------------------------------ init-model
def test_init_model_output_parent_missing(no_model_load, tmp_path):
    out = tmp_path / "missing" / "ckpt"
    assert_user_error(invoke(["init-model", "backbone", out]), "OUT")
    assert not out.parent.exists()


def test_init_model_bad_splitter(no_model_load, tmp_path):
    assert_user_error(invoke(["init-model", "b", tmp_path / "o", "--splitter", "x"]), "--splitter")


# ------------------------------------------------------------------ train
def test_train_missing_config(tmp_path):
    assert_user_error(invoke(["train", tmp_path / "recipe.toml"]), "CONFIG", "recipe.toml")


def test_train_missing_data_fails_before_creating_the_output_folder(no_model_load, tmp_path):
    out = tmp_path / "run"
    result = invoke(["train", recipe(tmp_path, "no_such_data.jsonl", out)])
    assert "does not exist" in assert_user_error(result, "no_such_data.jsonl")
    assert not out.exists()


def test_train_refuses_an_output_dir_that_holds_a_run(no_model_load, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"id": "1", "text": "Gout.", "entities": []}\n', encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.json").write_text('{"earlier": true}', encoding="utf-8")
    result = invoke(["train", recipe(tmp_path, str(data), out)])
    assert_user_error(result, "output_dir", "--resume", "--overwrite")
    assert (out / "report.json").read_text() == '{"earlier": true}'
    both = invoke(["train", recipe(tmp_path, str(data), out), "--resume", "--overwrite"])
    assert_user_error(both, "--resume", "--overwrite")


def test_train_output_parent_missing(no_model_load, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"id": "1", "text": "Gout.", "entities": []}\n', encoding="utf-8")
    result = invoke(["train", recipe(tmp_path, str(data), tmp_path / "a" / "b")])
    assert "does not exist" in assert_user_error(result, "output_dir")


# ------------------------------------------------------------------ synth annotate
def test_synth_annotate_missing_texts(tmp_path):
    result = invoke(
        [
            "synth",
            "annotate",
            tmp_path / "t.jsonl",
            "-o",
            tmp_path / "a.jsonl",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
        ]
    )
    assert_user_error(result, "TEXTS", "t.jsonl")


# ------------------------------------------------------------------ usage errors
def test_click_usage_errors_are_one_line_too():
    assert_user_error(invoke(["predict", "-l", "x", "t"]), "--model")
    assert_user_error(
        invoke(["predict", "-m", "m", "-l", "x", "t", "--no-such-flag"]), "--no-such-flag"
    )


# ------------------------------------------------------------------ finetune
def test_finetune_bad_benchmark_and_output_folder(no_model_load, tmp_path):
    args = ["finetune", "--model", "m", "--benchmark"]
    assert_user_error(invoke([*args, "nope", "--out", tmp_path / "o"]), "--benchmark", "nope")
    out = tmp_path / "a" / "b"
    assert_user_error(invoke([*args, "ncbi_disease", "--out", out]), "--out")
    assert_user_error(
        invoke([*args, "ncbi_disease", "--out", tmp_path, "--threshold", "2"]), "--threshold"
    )
