"""The service answers what NERModel.predict answers, for every route and input form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomedner.corpora import read
from tests.serve.conftest import LABELS, TEXTS, assert_same_entities, expected

FIXTURES = Path(__file__).parent.parent / "corpora" / "fixtures"


@pytest.mark.parametrize("mode", ["flat", "nested", "multi_label"])
def test_entities_equal_predict_for_every_text_in_order(model, serve, mode):
    with serve(model) as client:
        r = client.post(
            "/v1/entities", json={"texts": TEXTS, "labels": LABELS, "threshold": 0.5, "mode": mode}
        )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(TEXTS)
    for text, res in zip(TEXTS, results):
        assert_same_entities(
            res["entities"], expected(model, text, LABELS, threshold=0.5, mode=mode)
        )
    assert any(res["entities"] for res in results)  # the comparison is not between empty lists
    for text, res in zip(TEXTS, results):
        for ent in res["entities"]:
            assert text[ent["start"] : ent["end"]] == ent["text"]


def test_single_text_and_empty_list(uni, serve):
    with serve(uni) as client:
        one = client.post("/v1/entities", json={"text": TEXTS[0], "labels": ["gene"]})
        none = client.post("/v1/entities", json={"texts": [], "labels": ["gene"]})
    assert_same_entities(one.json()["results"][0]["entities"], expected(uni, TEXTS[0], ["gene"]))
    assert none.status_code == 200 and none.json() == {"results": []}


def test_model_info_health_ready_and_docs(bi, serve):
    with serve(bi, max_texts=7, max_batch_texts=4) as client:
        info = client.get("/v1/model").json()
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").json() == {"status": "ready"}
        assert client.get("/docs").status_code == 200
        paths = client.get("/openapi.json").json()["paths"]
    assert info["architecture"] == "bi_encoder"
    assert info["backbone"] == bi.config.model_name
    assert info["label_encoder"] == bi.config.labels_encoder
    assert info["max_span_width"] == bi.config.max_width == 4
    assert info["window_words"] == bi.config.max_len == 40
    assert info["limits"]["max_texts"] == 7
    assert info["batching"]["max_batch_texts"] == 4
    assert {"/v1/entities", "/v1/annotate", "/v1/model", "/health", "/ready"} <= set(paths)


def test_annotate_pubtator_replaces_annotations_with_predictions(uni, serve):
    content = (FIXTURES / "sample.pubtator").read_text(encoding="utf-8")
    docs = read(FIXTURES / "sample.pubtator", "pubtator")
    with serve(uni) as client:
        r = client.post(
            "/v1/annotate",
            json={"format": "pubtator", "content": content, "labels": ["disease", "drug"]},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["documents"] == len(docs)
    out = tmp_doc(body["content"], "pubtator")
    assert [d.id for d in out] == [d.id for d in docs]
    for doc, got in zip(docs, out):
        assert got.text == doc.text
        want = [(e.start, e.end, e.label) for e in uni.predict(doc.text, ["disease", "drug"])]
        assert sorted((e.start, e.end, e.label) for e in got.entities) == sorted(want)
    assert body["entities"] == sum(len(d.entities) for d in out) > 0
    assert body["notes"]["scores_dropped"] == body["entities"]  # PubTator has no score column


def test_annotate_bioc_json_keeps_scores(bi, serve):
    collection = json.loads((FIXTURES / "sample.bioc.json").read_text(encoding="utf-8"))
    docs = read(FIXTURES / "sample.bioc.json", "bioc-json")
    with serve(bi) as client:
        r = client.post(
            "/v1/annotate",
            json={
                "format": "bioc-json",
                "content": collection,
                "labels": ["disease"],
                "threshold": 0.51,
            },
        )
    assert r.status_code == 200, r.text
    out = tmp_doc(json.dumps(r.json()["content"]), "bioc-json")
    for doc, got in zip(docs, out, strict=True):
        assert got.id == doc.id and got.text == doc.text
        want = bi.predict(doc.text, ["disease"], threshold=0.51)
        assert_same_entities(
            [e.to_dict() for e in got.sorted_entities()],
            [e.to_dict() for e in sorted(want, key=lambda e: (e.start, e.end, e.label))],
        )


def test_annotate_malformed_content_is_422_with_the_readers_reason(uni, serve):
    with serve(uni) as client:
        bad_json = client.post(
            "/v1/annotate", json={"format": "bioc-json", "content": "{nope", "labels": ["x"]}
        )
        not_a_collection = client.post(
            "/v1/annotate", json={"format": "bioc-json", "content": {"a": 1}, "labels": ["x"]}
        )
        pubtator_object = client.post(
            "/v1/annotate", json={"format": "pubtator", "content": {"a": 1}, "labels": ["x"]}
        )
        empty = client.post(
            "/v1/annotate", json={"format": "pubtator", "content": "", "labels": ["x"]}
        )
    assert bad_json.status_code == 422
    assert bad_json.json()["detail"].startswith(
        "content is not valid bioc-json (line 1): invalid JSON"
    )
    assert "'documents' list" in not_a_collection.json()["detail"]
    assert "must be a string" in pubtator_object.json()["detail"]
    assert empty.status_code == 422 and "no pubtator documents" in empty.json()["detail"]
    for r in (bad_json, not_a_collection, pubtator_object, empty):
        assert "/tmp" not in r.json()["detail"]


def tmp_doc(content: str, fmt: str):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x"
        path.write_text(content, encoding="utf-8")
        return read(path, fmt)
