"""Labels given as {"name": "description"}: the model reads the descriptions, the entities carry
the names (shared or per text, uni and bi, through encode_labels and saved label sets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomedner.errors import InputError
from biomedner.model import NERModel

DESCRIBED = {"gene": "gene or protein name", "disease": "disease or syndrome", "drug": "drug"}
TEXTS = ["brca1 mutation raises the risk of cancer", "aspirin dose for hela cells"]


def _renamed(model: NERModel, texts: list[str], **kw) -> list[list[tuple]]:
    """Predictions on the descriptions themselves, renamed by hand."""
    name_of = {v: k for k, v in DESCRIBED.items()}
    rows = model.predict_batch(texts, list(DESCRIBED.values()), threshold=0.0, **kw)
    return [[(e.start, e.end, name_of[e.label], e.score) for e in row] for row in rows]


def _tuples(rows) -> list[list[tuple]]:
    return [[(e.start, e.end, e.label, e.score) for e in row] for row in rows]


@pytest.mark.parametrize("model_name", ["uni", "bi"])
def test_descriptions_are_read_names_are_returned(
    model_name: str, request: pytest.FixtureRequest
) -> None:
    model: NERModel = request.getfixturevalue(model_name)
    got = _tuples(model.predict_batch(TEXTS, DESCRIBED, threshold=0.0, mode="nested"))
    assert got == _renamed(model, TEXTS, mode="nested")
    assert {label for row in got for _, _, label, _ in row} <= set(DESCRIBED)
    # the descriptions change what the model reads: names alone score differently
    plain = _tuples(model.predict_batch(TEXTS, list(DESCRIBED), threshold=0.0, mode="nested"))
    assert plain != got


def test_per_text_mappings_and_lists(uni: NERModel) -> None:
    per_text = [DESCRIBED, ["gene", "disease"]]
    got = uni.predict_batch(TEXTS, per_text, threshold=0.0)
    assert _tuples(got)[0] == _renamed(uni, TEXTS[:1])[0]
    assert (
        _tuples(got)[1]
        == _tuples(uni.predict_batch(TEXTS[1:], ["gene", "disease"], threshold=0.0))[0]
    )


def test_encoded_and_saved_descriptions(bi: NERModel, tmp_path: Path) -> None:
    label_set = bi.encode_labels(DESCRIBED)
    assert label_set.labels == tuple(DESCRIBED)
    assert label_set.descriptions == tuple(DESCRIBED.values())
    assert _tuples(bi.predict_batch(TEXTS, label_set, threshold=0.0)) == _renamed(bi, TEXTS)
    loaded = bi.load_labels(label_set.save(tmp_path / "described.safetensors"))
    assert loaded.descriptions == tuple(DESCRIBED.values())
    assert _tuples(bi.predict_batch(TEXTS, loaded, threshold=0.0)) == _renamed(bi, TEXTS)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            {"gene": "protein", "protein": "protein"},
            "'gene' and 'protein' have the same description",
        ),
        ({"gene": ""}, "label #0 is empty"),
        ({"gene": 3}, "description of label 'gene' is int"),
        ({"": "gene"}, "label name '' must be a non-empty string"),
        ({}, "labels is empty"),
        ({"gene": "a <<ENT>> b"}, "reserved prompt token"),
    ],
)
def test_bad_mappings(uni: NERModel, labels: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        uni.predict(TEXTS[0], labels)
