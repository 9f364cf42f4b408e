"""Model card contents, NERModel.push_to_hub against a recording stand-in for HfApi (no
network), and ``biomedner push`` (its --out folder and its one-line errors)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.corpora import write
from biomedner.corpora.document import Document
from biomedner.errors import InputError
from biomedner.evaluation.score_files import score_files
from biomedner.io.model_card import CardInfo, build_model_card, find_reports, read_reports
from biomedner.model import NERModel
from biomedner.training.config import config_from_dict
from biomedner.types import Entity


def _training_run(tmp_path: Path, model_dir: Path) -> Path:
    """A run directory laid out as ``biomedner train`` leaves it, reports as it writes them."""
    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "model")
    config = config_from_dict(
        {
            "output_dir": str(run),
            "seed": 3,
            "model": {"backbone": "nreimers/MiniLM-L6-H384-uncased", "max_width": 4},
            "optim": {"encoder_lr": 2e-5, "precision": "bf16"},
            "stages": [
                {
                    "name": "synthetic",
                    "steps": 100,
                    "sources": [{"kind": "records", "path": "/d/syn.jsonl"}],
                },
                {
                    "name": "corpora",
                    "steps": 50,
                    "sources": [{"kind": "benchmark", "name": "ncbi_disease"}],
                },
            ],
        }
    )
    (run / "config.json").write_text(json.dumps(config.model_dump(mode="json")))
    report = {
        "finished": True,
        "global_step": 150,
        "seconds_this_run": 12.5,
        "world_size": 1,
        "device": "cuda:0",
        "stages": [],
        "counts": {},
        "oom_skipped_steps": 0,
        "oom_skipped_example_ids": [],
        "evals": [],
        "best": {},
        "stage_dirs": [],
        "model_dir": str(run / "model"),
    }
    (run / "report.json").write_text(json.dumps(report))
    fewshot = {
        "model": str(run / "model"),
        "benchmark": "ncbi_disease",
        "shots": 10,
        "steps": 40,
        "runs": [{"seed": 0}, {"seed": 1}],
        "summary": {
            "zero_shot": {"strict_f1": 0.5, "relaxed_f1": 0.6},
            "k_shot": {"strict_f1_mean": 0.625, "strict_f1_std": 0.0125},
            "delta_strict_f1_mean": 0.125,
            "delta_relaxed_f1_mean": 0.1,
        },
    }
    (run / "fewshot_report.json").write_text(json.dumps(fewshot))
    return run


def _eval_report(tmp_path: Path) -> Path:
    """An evaluation report.json written by the scoring code: 1 of 2 gold entities found."""
    text = "aspirin treats headache"
    gold = Document(
        "d1", text, [Entity(0, 7, "aspirin", "drug"), Entity(15, 23, "headache", "disease")]
    )
    pred = Document("d1", text, [Entity(0, 7, "aspirin", "drug", 0.9)])
    write([gold], tmp_path / "gold.jsonl")
    write([pred], tmp_path / "pred.jsonl")
    report = score_files(tmp_path / "gold.jsonl", tmp_path / "pred.jsonl", n_resamples=20)
    out = tmp_path / "eval"
    out.mkdir()
    report.to_json(out / "report.json")
    return out / "report.json"


def test_card_metadata_recipe_and_tables(uni: NERModel, tiny_uni_dir: Path, tmp_path: Path) -> None:
    run = _training_run(tmp_path, tiny_uni_dir)
    found = find_reports(run / "model")
    assert found.training_config and found.training and len(found.fewshot) == 1
    found.evaluations = read_reports([_eval_report(tmp_path)]).evaluations
    card = build_model_card(
        uni.config, "lab/bio-ner", CardInfo(license="mit", datasets=["bigbio/ncbi_disease"]), found
    )
    header = card.split("---")[1]
    assert "library_name: biomedner" in header
    assert "pipeline_tag: token-classification" in header
    assert 'license: "mit"' in header
    assert 'base_model: "nreimers/MiniLM-L6-H384-uncased"' in header  # from the run's config
    assert 'datasets:\n- "bigbio/ncbi_disease"' in header
    assert 'NERModel.from_pretrained("lab/bio-ner")' in card
    assert "| synthetic | 100 | records `syn.jsonl` |" in card
    assert "| corpora | 50 | benchmark ncbi_disease (train) |" in card
    assert "encoder lr 2e-05" in card and "precision bf16" in card
    assert "150 optimiser steps (finished) on 1 × cuda:0" in card
    # strict P 100, R 50, F1 66.67
    assert "| gold.jsonl | - | - | 1 | 100.00 | 50.00 | 66.67 | 66.67 |" in card
    assert "| ncbi_disease | 10 | 40 | 2 | 50.00 | 62.50 ± 1.25 | +12.50 |" in card


def test_card_without_reports_has_no_recipe_and_a_local_backbone_is_no_base_model(
    uni: NERModel,
) -> None:
    card = build_model_card(uni.config, "lab/bio-ner")
    assert "base_model" not in card  # the tiny backbone is a local directory
    assert "## Training" not in card and "## Evaluation" not in card
    assert 'license: "apache-2.0"' in card


def test_unrecognised_report_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(InputError, match="other.json is not a biomedner"):
        read_reports([tmp_path / "other.json"])
    with pytest.raises(InputError, match="does not exist"):
        read_reports([tmp_path / "missing.json"])


class RecordingApi:
    """Stands in for huggingface_hub.HfApi: records calls and what the folder held."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.files: dict[str, bytes] = {}

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.calls.append(("create_repo", (repo_id, kwargs)))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, *, repo_id: str, folder_path: str, **kwargs: Any) -> str:
        self.calls.append(("upload_folder", (repo_id, kwargs)))
        root = Path(folder_path)
        self.files = {
            str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
        return "commit"


def test_push_to_hub_uploads_checkpoint_and_card(tiny_uni_dir: Path, tmp_path: Path) -> None:
    run = _training_run(tmp_path, tiny_uni_dir)
    model = NERModel.from_pretrained(run / "model")
    api = RecordingApi()
    assert model.push_to_hub("lab/bio-ner", private=True, api=api) == "commit"
    assert api.calls[0] == (
        "create_repo",
        ("lab/bio-ner", {"private": True, "exist_ok": True, "repo_type": "model"}),
    )
    assert api.calls[1][0] == "upload_folder"
    assert {"gliner_config.json", "model.safetensors", "README.md"} <= api.files.keys()
    card = api.files["README.md"].decode()
    assert "| synthetic | 100 |" in card  # reports found beside the loaded directory
    uploaded = tmp_path / "uploaded"
    uploaded.mkdir()
    for name, data in api.files.items():
        (uploaded / name).parent.mkdir(parents=True, exist_ok=True)
        (uploaded / name).write_bytes(data)
    again = NERModel.from_pretrained(uploaded)
    text = "brca1 mutation raises the risk of cancer"
    assert again.predict(text, ["gene"], threshold=0.0) == model.predict(
        text, ["gene"], threshold=0.0
    )


def test_push_refuses_a_bad_repo_id_before_calling_the_hub(uni: NERModel) -> None:
    api = RecordingApi()
    for bad in ["no-owner", "a/b/c", "lab/bad name"]:
        with pytest.raises(InputError, match="repository id"):
            uni.push_to_hub(bad, api=api)
    assert api.calls == []


runner = CliRunner()


def test_cli_push_out_writes_the_folder(tiny_uni_dir: Path, tmp_path: Path) -> None:
    run = _training_run(tmp_path, tiny_uni_dir)
    out = tmp_path / "to-upload"
    result = runner.invoke(
        app,
        [
            "push",
            str(run / "model"),
            "lab/bio-ner",
            "--out",
            str(out),
            "--license",
            "mit",
            "--dataset",
            "bigbio/bc5cdr",
            "--report",
            str(_eval_report(tmp_path)),
        ],
    )
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text()
    assert 'license: "mit"' in card and '- "bigbio/bc5cdr"' in card
    assert "| gold.jsonl |" in card
    assert "## Training" not in card  # explicit --report replaces the files found beside MODEL
    assert (out / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lab"], "repository id 'lab' must look like 'owner/name'"),
        (
            ["lab/x", "--report", "/nonexistent/report.json"],
            "report file /nonexistent/report.json does not exist",
        ),
        (["lab/x", "--license", " "], "--license is empty"),
    ],
)
def test_cli_push_mistakes_are_one_line_before_loading(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["push", "/nonexistent/model", *args])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {message}"


def test_cli_push_existing_out_is_refused(tiny_uni_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["push", str(tiny_uni_dir), "lab/x", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        result.output.strip() == f"error: --out {tmp_path} already exists; choose a new directory"
    )


def test_cli_push_upload_failure_is_one_line(
    tiny_uni_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    class Offline:
        def __init__(self, **kwargs: Any) -> None:
            pass

        def create_repo(self, *args: Any, **kwargs: Any) -> None:
            raise ConnectionError("hub unreachable")

    monkeypatch.setattr(huggingface_hub, "HfApi", Offline)
    result = runner.invoke(app, ["push", str(tiny_uni_dir), "lab/x"])
    assert result.exit_code == 2
    assert (
        result.output.strip() == "error: upload to lab/x failed (ConnectionError: hub unreachable)"
    )
