"""Item 10: no alarming noise and no silent drops. No "Token indices sequence length ... indexing
errors" warning for a long text (texts are windowed); no weight-loading bars or resize notices
from ``init-model``; a PubTator mention line with a non-numeric offset is an error with file and
line, not a dropped (miscounted) line."""

from __future__ import annotations

import json
import shutil

import pytest

from biomedner.corpora import read_with_report
from biomedner.errors import FormatError
from biomedner.model import NERModel
from tests.model.conftest import WORDS
from tests.reliability.contract import invoke


def test_no_indexing_errors_warning_for_a_long_text(tiny_uni_dir, tmp_path, capfd):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_uni_dir, ckpt)
    tok_config = ckpt / "tokenizer_config.json"
    config = json.loads(tok_config.read_text())
    config["model_max_length"] = 128  # as a real checkpoint's tokenizer declares its limit
    tok_config.write_text(json.dumps(config))
    model = NERModel.from_pretrained(ckpt)
    assert model.tokenizer.model_max_length == 128
    text = " ".join(WORDS[i % len(WORDS)] for i in range(600))
    capfd.readouterr()
    entities = model.predict(text, ["drug", "disease"], threshold=0.0)
    assert entities and all(text[e.start : e.end] == e.text for e in entities)
    assert "Token indices sequence length" not in capfd.readouterr().err


def test_init_model_prints_no_loading_chatter(tiny_backbone, tmp_path, capfd):
    capfd.readouterr()
    result = invoke(
        ["init-model", tiny_backbone, tmp_path / "ckpt", "--hidden-size", "24", "--max-len", "40"]
    )
    assert result.exit_code == 0, result.output
    err = capfd.readouterr().err + result.stderr
    assert "Loading weights" not in err and "new embeddings" not in err
    assert "Writing model shards" not in err
    assert (tmp_path / "ckpt" / "gliner_config.json").is_file()


@pytest.mark.parametrize("start", ["12a", "-3", "1.5", " 4", "٣"])
def test_pubtator_non_numeric_offset_is_an_error_with_file_and_line(tmp_path, start):
    path = tmp_path / "c.pubtator"
    path.write_text(
        f"7|t|Gout and asthma.\n7\t0\t4\tGout\tDisease\n7\t{start}\t15\tasthma\tDisease\n\n",
        encoding="utf-8",
    )
    with pytest.raises(FormatError) as err:
        read_with_report(path, "pubtator")
    assert f"{path}:3:" in str(err.value) and "offset" in str(err.value)


def test_pubtator_relation_lines_are_still_relations(tmp_path):
    path = tmp_path / "c.pubtator"
    path.write_text(
        "7|t|Gout and asthma.\n7\t0\t4\tGout\tDisease\tD1\n7\tCID\tD1\tD2\n\n", encoding="utf-8"
    )
    docs, report = read_with_report(path, "pubtator")
    assert len(docs[0].entities) == 1 and report.counts["relation_lines"] == 1
