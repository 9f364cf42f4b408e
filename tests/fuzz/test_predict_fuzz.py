"""Random texts, labels, thresholds and modes through ``NERModel.predict`` on the tiny uni- and
bi-encoder checkpoints: every entity is a valid span of the text it came from, and the only
exception a caller can get is InputError."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biomedner.errors import InputError
from biomedner.types import DECODE_MODES

# pieces that have broken offset arithmetic elsewhere: line ends, NUL, bidi controls, combining
# marks, zero-width joiners, a byte-order mark, characters outside the BMP, very long words
_PIECES = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x00",
    "\u202e",
    "\u200f",
    "\u0301",
    "e\u0301",
    "\u200d",
    "\ufeff",
    "\u2028",
    "\u00a0",
    "\U0001f468\u200d\U0001f469",
    "\U00010348",
    "IL-2",
    "BRCA1",
    "aspirin",
    "tumor",
    "-",
    ".",
    "(",
    "α",
    "ß",
    "İ",
    "ﬁ",
    "x" * 150,
    "gene" * 40,
]
# everything but lone surrogates: those are the subject of their own test below
_CHARS = st.characters(exclude_categories=("Cs",))
texts = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.text(_CHARS, max_size=12)), max_size=24
).map("".join)
labels = st.lists(
    st.one_of(st.sampled_from(["drug", "gene", "disease"]), st.text(_CHARS, max_size=12)),
    max_size=4,
)
thresholds = st.one_of(
    st.floats(min_value=0.0, max_value=0.99), st.floats(allow_nan=True, allow_infinity=True)
)
modes = st.sampled_from([*DECODE_MODES, "wide", ""])


def _check(text: str, label_list: list[str], threshold: float, entities) -> None:
    for e in entities:
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end] == e.text
        assert e.label in label_list
        assert threshold < e.score <= 1.0 and not math.isnan(e.score)


good_labels = st.lists(
    st.sampled_from(["drug", "gene or gene product", "disease", "cell line", "α-synuclein"]),
    min_size=1,
    max_size=4,
    unique=True,
)


@pytest.mark.parametrize("model_name", ["uni", "bi"])
@given(
    text=texts,
    label_list=good_labels,
    threshold=st.floats(min_value=0.0, max_value=0.99),
    mode=st.sampled_from(DECODE_MODES),
)
def test_any_text_gives_valid_spans(request, model_name, text, label_list, threshold, mode):
    model = request.getfixturevalue(model_name)
    entities = model.predict(text, label_list, threshold=threshold, mode=mode)
    _check(text, label_list, threshold, entities)


@pytest.mark.parametrize("model_name", ["uni", "bi"])
@given(text=texts, label_list=labels, threshold=thresholds, mode=modes)
def test_any_options_give_valid_spans_or_input_error(
    request, model_name, text, label_list, threshold, mode
):
    model = request.getfixturevalue(model_name)
    try:
        entities = model.predict(text, label_list, threshold=threshold, mode=mode)
    except InputError:
        return
    _check(text, label_list, threshold, entities)


@given(batch=st.lists(texts, min_size=1, max_size=3), threshold=st.floats(0.0, 0.9))
def test_predict_batch_matches_texts(uni, batch, threshold):
    results = uni.predict_batch(batch, ["drug", "gene"], threshold=threshold, batch_size=2)
    assert len(results) == len(batch)
    for text, entities in zip(batch, results, strict=True):
        _check(text, ["drug", "gene"], threshold, entities)


@pytest.mark.parametrize(
    ("text", "label_list"), [("a \ud800 b", ["drug"]), ("aspirin", ["dr\udfffug"])]
)
@pytest.mark.parametrize("model_name", ["uni", "bi"])
def test_lone_surrogates_are_an_input_error(request, model_name, text, label_list):
    model = request.getfixturevalue(model_name)
    with pytest.raises(InputError):
        model.predict(text, label_list, threshold=0.0)
