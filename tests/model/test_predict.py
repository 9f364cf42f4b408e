"""NERModel.predict / predict_batch on a tiny random model: offsets, batching, label lists,
label sets and bad input. Scores are random; what is checked is what users rely on regardless."""

from __future__ import annotations

import pytest
import torch

from biomedner import NERModel
from biomedner.errors import InputError

TEXTS = [
    "BRCA1 mutations raise the risk of breast cancer.",
    "IL-2-dependent   growth of CD4+ cells\twas blocked by aspirin (5 mg/kg).",
    "TNF-α\u00a0and µ-opioid receptors ± insulin — 肿瘤 🧬 in HeLa cells.",
    "",
    "   \n\t ",
    "Gene.",
]
LABELS = ["gene", "disease", "drug dose"]


def key(ents):
    return [(e.start, e.end, e.label) for e in ents]


@pytest.mark.parametrize("mode", ["flat", "nested", "multi_label"])
def test_offsets_index_the_original_text(uni, mode):
    results = uni.predict_batch(TEXTS, LABELS, threshold=0.0, mode=mode)
    assert len(results) == len(TEXTS)
    assert results[3] == [] and results[4] == []
    for text, ents in zip(TEXTS, results, strict=True):
        for e in ents:
            assert text[e.start : e.end] == e.text
            assert e.text == e.text.strip() and e.label in LABELS and 0.0 < e.score < 1.0
        assert [e.start for e in ents] == sorted(e.start for e in ents)
    assert any(results[2])  # the unicode text yields spans


def test_flat_mode_has_no_overlaps(uni):
    for ents in uni.predict_batch(TEXTS, LABELS, threshold=0.0, mode="flat"):
        for a, b in zip(ents, ents[1:]):
            assert a.end <= b.start


def test_batch_size_does_not_change_results(uni, bi):
    for model in (uni, bi):
        one = model.predict_batch(TEXTS, LABELS, threshold=0.3, batch_size=1)
        many = model.predict_batch(TEXTS, LABELS, threshold=0.3, batch_size=16)
        assert [key(r) for r in one] == [key(r) for r in many]
        for r1, r2 in zip(one, many, strict=True):
            assert all(abs(a.score - b.score) < 1e-5 for a, b in zip(r1, r2, strict=True))


def test_per_text_label_lists_match_single_calls(uni, bi):
    lists = [["gene"], ["disease", "drug dose"], LABELS, ["gene"], ["gene"], ["disease"]]
    for model in (uni, bi):
        batched = model.predict_batch(TEXTS, lists, threshold=0.3)
        for text, labels, got in zip(TEXTS, lists, batched, strict=True):
            alone = model.predict(text, labels, threshold=0.3)
            assert key(got) == key(alone)
            assert {e.label for e in got} <= set(labels)


def test_label_set_is_reused_and_gives_the_same_entities(bi):
    label_set = bi.encode_labels(LABELS)
    assert len(label_set) == 3 and label_set.vectors.shape[0] == 3
    with_set = bi.predict_batch(TEXTS, label_set, threshold=0.3)
    with_list = bi.predict_batch(TEXTS, LABELS, threshold=0.3)
    assert [key(r) for r in with_set] == [key(r) for r in with_list]
    calls = []
    original = bi.module.encode_labels
    bi.module.encode_labels = lambda *a: calls.append(1) or original(*a)
    try:
        bi.predict_batch(TEXTS, label_set, threshold=0.3)
    finally:
        bi.module.encode_labels = original
    assert calls == []  # cached vectors: the label encoder never ran


def test_label_sets_belong_to_their_model(bi, tiny_bi_dir, uni):
    other = NERModel.from_pretrained(tiny_bi_dir)
    with pytest.raises(InputError, match="another model"):
        other.predict("gene", bi.encode_labels(["gene"]))
    with pytest.raises(InputError, match="bi-encoder"):
        uni.encode_labels(["gene"])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([], "labels is empty"),
        (["gene", "gene"], "given twice"),
        (["gene", 3], "expected a string"),
        (["  "], "empty or only whitespace"),
        ("gene", "single string"),
        (["<<ENT>> x"], "reserved prompt token"),
    ],
)
def test_bad_labels(uni, labels, message):
    with pytest.raises(InputError, match=message):
        uni.predict("BRCA1 mutations.", labels)


def test_bad_texts_and_options(uni):
    with pytest.raises(InputError, match="text #1 is int"):
        uni.predict_batch(["ok", 5], LABELS)
    with pytest.raises(InputError, match="list of texts"):
        uni.predict_batch("one text", LABELS)
    with pytest.raises(InputError, match="2 label lists for 3 texts"):
        uni.predict_batch(["a", "b", "c"], [["gene"], ["drug"]])
    with pytest.raises(InputError, match="batch_size"):
        uni.predict_batch(["a"], LABELS, batch_size=0)
    with pytest.raises(InputError, match="mode"):
        uni.predict("a", LABELS, mode="overlap")  # type: ignore[arg-type]
    assert uni.predict_batch([], LABELS) == []


def test_save_and_reload_predict_identically(uni, tmp_path):
    uni.save_pretrained(tmp_path / "copy")
    again = NERModel.from_pretrained(tmp_path / "copy")
    a = uni.predict_batch(TEXTS, LABELS, threshold=0.2)
    b = again.predict_batch(TEXTS, LABELS, threshold=0.2)
    assert [[(e.start, e.end, e.label, e.score) for e in r] for r in a] == [
        [(e.start, e.end, e.label, e.score) for e in r] for r in b
    ]
    for p, q in zip(
        uni.module.state_dict().values(), again.module.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q)
