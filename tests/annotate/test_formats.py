"""Each output format holds the input's documents, passages and offsets plus the predictions,
and the predictions are exactly what the model gives for each passage on its own."""

from __future__ import annotations

import json

import pytest

from biomedner.corpora import read, write
from biomedner.model import NERModel
from tests.annotate.conftest import write_jsonl, write_pubtator
from tests.annotate.helpers import LABELS, annotate, read_output


def _expected(model_dir, docs, threshold=0.3):
    """Per document: predict_batch over each passage, shifted to document offsets."""
    model = NERModel.from_pretrained(model_dir)
    out = []
    for doc in docs:
        units = [(p.offset, p.text) for p in doc.passages] or [(0, doc.text)]
        found = []
        for off, text in units:
            if not text.strip():
                continue
            for e in model.predict_batch([text], LABELS, threshold=threshold)[0]:
                found.append((e.start + off, e.end + off, e.label, round(e.score, 5)))
        out.append(sorted(found))
    return out


def _predicted(doc):
    return sorted(
        (e.start, e.end, e.label, round(e.score, 5)) for e in doc.entities if e.score is not None
    )


@pytest.mark.parametrize("to", ["bioc-xml", "bioc-json", "jsonl", "pubtator", "brat"])
def test_pubtator_into_every_format(tiny_models, tmp_path, to):
    src = write_pubtator(tmp_path / "in.pubtator", 5)
    gold = read(src)
    summary = annotate([src], tmp_path / "out", tiny_models["uni"], to_format=to, keep_gold=True)
    docs = read_output(tmp_path / "out", to)
    assert [d.id for d in docs] == [d.id for d in gold]
    assert summary["documents"] == 5 and summary["shards"] == 3
    assert summary["passages"] == sum(len(d.passages) for d in gold) == 9  # one empty abstract
    for got, want in zip(docs, gold, strict=True):
        assert got.text == want.text
        if to != "brat":  # brat keeps the text, not the passages
            assert got.passages == want.passages
        gold_spans = {(e.start, e.end, e.label) for e in want.entities}
        assert gold_spans <= {(e.start, e.end, e.label) for e in got.entities}
    if to in ("bioc-xml", "bioc-json", "jsonl"):  # formats that store scores
        assert [_predicted(d) for d in docs] == _expected(tiny_models["uni"], gold)
        assert summary["entities"] == sum(len(_predicted(d)) for d in docs) > 0
    else:
        expected = _expected(tiny_models["uni"], gold)
        got_spans = [
            sorted((e.start, e.end, e.label) for e in d.entities if e.label != "Gold") for d in docs
        ]
        assert got_spans == [[x[:3] for x in doc] for doc in expected]


def test_model_id_and_scores_are_written(tiny_models, tmp_path):
    src = write_pubtator(tmp_path / "in.pubtator", 2)
    model = str(tiny_models["uni"])
    for to in ("bioc-xml", "pubtator", "brat", "jsonl"):
        annotate([src], tmp_path / to, tiny_models["uni"], to_format=to)
    xml = (tmp_path / "bioc-xml" / "shards" / "00000-000000.xml").read_text(encoding="utf-8")
    assert f'<infon key="annotator">{model}</infon>' in xml and '<infon key="score">' in xml
    pubtator = (tmp_path / "pubtator" / "shards" / "00000-000000.pubtator").read_text()
    mention = next(line for line in pubtator.splitlines() if line.count("\t") >= 5)
    fields = mention.split("\t")
    assert 0.3 < float(fields[6]) < 1 and fields[7] == model
    ann = next((tmp_path / "brat" / "shards" / "00000-000000").glob("*.ann")).read_text()
    assert "AnnotatorNotes T1\tscore=" in ann and f"annotator={model}" in ann
    row = json.loads(
        (tmp_path / "jsonl" / "shards" / "00000-000000.jsonl").read_text().split("\n")[0]
    )
    assert row["metadata"]["annotator"] == model and all("score" in e for e in row["entities"])


def test_gold_is_dropped_without_keep_gold(tiny_models, tmp_path):
    src = write_pubtator(tmp_path / "in.pubtator", 3)
    annotate([src], tmp_path / "out", tiny_models["uni"], to_format="jsonl")
    for doc in read_output(tmp_path / "out", "jsonl"):
        assert all(e.label in LABELS and e.score is not None for e in doc.entities)


def test_bioc_passages_are_predicted_separately(tiny_models, tmp_path):
    gold = read(write_pubtator(tmp_path / "in.pubtator", 3))
    src = tmp_path / "in.xml"
    write(gold, src, "bioc-xml")
    annotate([src], tmp_path / "out", tiny_models["bi"], mode="nested")
    docs = read_output(tmp_path / "out", "bioc-xml")
    assert [d.passages for d in docs] == [d.passages for d in gold]
    model = NERModel.from_pretrained(tiny_models["bi"])
    for doc in docs:
        for p in doc.passages:
            want = model.predict_batch([p.text], LABELS, threshold=0.3, mode="nested")[0]
            got = [e for e in doc.entities if p.offset <= e.start < p.end]
            assert [(e.start - p.offset, e.end - p.offset, e.label) for e in got] == [
                (e.start, e.end, e.label)
                for e in sorted(want, key=lambda e: (e.start, e.end, e.label))
            ]


def test_jsonl_text_folder_and_empty_texts(tiny_models, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", 7)
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("Insulin was given.", encoding="utf-8")
    (folder / "b.txt").write_text("", encoding="utf-8")
    summary = annotate([src, folder], tmp_path / "out", tiny_models["uni"], to_format="jsonl")
    docs = read_output(tmp_path / "out", "jsonl")
    assert [d.id for d in docs] == [f"doc{i}" for i in range(7)] + ["a", "b"]
    empty = [d for d in docs if not d.text]
    assert len(empty) == 2 and all(d.entities == [] for d in empty)
    assert summary["documents"] == 9 and summary["rejects"] == 0
    # a shard never spans two inputs
    assert sorted(p.name for p in (tmp_path / "out" / "shards").iterdir()) == [
        "00000-000000.jsonl",
        "00000-000001.jsonl",
        "00000-000002.jsonl",
        "00000-000003.jsonl",
        "00001-000000.jsonl",
    ]
