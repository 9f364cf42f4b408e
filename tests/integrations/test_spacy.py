"""The spaCy component on spacy.blank("en") with the tiny offline checkpoints: what lands in
doc.ents / doc.spans equals what NERModel predicts, batching through nlp.pipe, alignment,
existing entities, and the to_disk / spacy.load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")

from biomedner.errors import InputError  # noqa: E402
from biomedner.integrations.spacy import BiomednerComponent, make_biomedner  # noqa: E402
from biomedner.model import NERModel  # noqa: E402
from biomedner.types import Entity  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# whitespace-separated words, so every entity offset falls on a spaCy token edge
TEXTS = [
    "brca1 mutation raises the risk of cancer in patients",
    "insulin receptor expression was low in hela cells",
    "aspirin dose of 5 mg per kg",
    "tnf alpha and il beta",
    "cd4 cells",
]
LABELS = ["gene", "disease", "drug"]


def _nlp(model: Path, **config) -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("biomedner", config={"model": str(model), "labels": LABELS, **config})
    return nlp


def _triples(spans) -> list[tuple[int, int, str, float]]:
    return [(s.start_char, s.end_char, s.label_, round(s._.biomedner_score, 6)) for s in spans]


def _expected(entities: list[Entity]) -> list[tuple[int, int, str, float]]:
    return [(e.start, e.end, e.label, round(e.score, 6)) for e in entities]


def test_flat_mode_sets_doc_ents_with_scores(tiny_uni_dir: Path) -> None:
    nlp = _nlp(tiny_uni_dir, threshold=0.0)
    model = nlp.get_pipe("biomedner").model
    for text in TEXTS:
        doc = nlp(text)
        expected = model.predict(text, LABELS, threshold=0.0)
        assert expected, "threshold 0 must give entities to compare"
        assert _triples(doc.ents) == _expected(expected)
        assert doc._.biomedner_stats == {
            "entities": len(expected),
            "unaligned": 0,
            "overlapping": 0,
        }
        assert "biomedner" not in doc.spans


@pytest.mark.parametrize("mode", ["nested", "multi_label"])
def test_nested_and_multi_label_go_to_span_group(tiny_uni_dir: Path, mode: str) -> None:
    nlp = _nlp(tiny_uni_dir, threshold=0.3, mode=mode, spans_key="bio")
    model = nlp.get_pipe("biomedner").model
    text = TEXTS[0]
    doc = nlp(text)
    expected = model.predict(text, LABELS, threshold=0.3, mode=mode)
    group = doc.spans["bio"]
    got = sorted(_triples(group))
    assert got == sorted(_expected(expected))
    assert [round(s, 6) for s in group.attrs["scores"]] == [t[3] for t in _triples(group)]
    assert doc.ents == ()
    if mode == "multi_label":
        # the tiny model scores every label near 0.5: some span must carry several labels,
        # each with its own score
        offsets = [(s, e) for s, e, _, _ in got]
        assert len(set(offsets)) < len(offsets)


def test_pipe_batches_through_predict_batch(
    tiny_uni_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nlp = _nlp(tiny_uni_dir, threshold=0.0, batch_size=4)
    component = nlp.get_pipe("biomedner")
    one_by_one = [_triples(nlp(t).ents) for t in TEXTS]
    calls: list[tuple[int, int]] = []
    original = component.model.predict_batch

    def recording(texts, labels, **kwargs):
        calls.append((len(texts), kwargs["batch_size"]))
        return original(texts, labels, **kwargs)

    monkeypatch.setattr(component.model, "predict_batch", recording)
    docs = list(nlp.pipe(TEXTS, batch_size=2))
    assert calls == [(2, 4), (2, 4), (1, 4)]
    assert [_triples(d.ents) for d in docs] == one_by_one


def test_bi_encoder_labels_encoded_once(tiny_bi_dir: Path) -> None:
    nlp = _nlp(tiny_bi_dir, threshold=0.0, mode="nested")
    model = nlp.get_pipe("biomedner").model
    assert model.config.is_bi_encoder
    docs = list(nlp.pipe(TEXTS[:3]))
    for doc, text in zip(docs, TEXTS):
        expected = model.predict(text, LABELS, threshold=0.0, mode="nested")
        assert sorted(_triples(doc.spans["biomedner"])) == sorted(_expected(expected))


@pytest.mark.parametrize("checkpoint", ["tiny_uni_dir", "tiny_bi_dir"])
def test_label_descriptions_name_the_spans(checkpoint: str, request: pytest.FixtureRequest) -> None:
    descriptions = {"gene": "gene or gene product", "disease": "disease or syndrome"}
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "biomedner",
        config={
            "model": str(request.getfixturevalue(checkpoint)),
            "labels": descriptions,
            "threshold": 0.0,
        },
    )
    model = nlp.get_pipe("biomedner").model
    doc = nlp(TEXTS[0])
    expected = model.predict(TEXTS[0], list(descriptions.values()), threshold=0.0)
    name = {v: k for k, v in descriptions.items()}
    assert _triples(doc.ents) == [(s, e, name[l], sc) for s, e, l, sc in _expected(expected)]


def _with_fixed_entities(
    monkeypatch: pytest.MonkeyPatch, component: BiomednerComponent, entities: list[Entity]
) -> None:
    """The model's output replaced by given entities: the alignment policy is what is tested."""
    monkeypatch.setattr(
        component.model, "predict_batch", lambda texts, labels, **kw: [entities for _ in texts]
    )


TEXT = "p53wt growth of cells"
# "p53" lies inside the spaCy token "p53wt"; "growth of ce" ends inside "cells"
ODD_ENTITIES = [
    Entity(0, 3, "p53", "gene", 0.9),
    Entity(6, 18, "growth of ce", "disease", 0.8),
    Entity(16, 21, "cells", "drug", 0.7),
]


@pytest.mark.parametrize(
    ("alignment", "expected", "unaligned", "overlapping"),
    [
        ("strict", [(16, 21, "drug")], 2, 0),
        # "cells" overlaps the expanded "growth of cells", which scores higher
        ("expand", [(0, 5, "gene"), (6, 21, "disease")], 0, 1),
        ("contract", [(6, 15, "disease"), (16, 21, "drug")], 1, 0),
    ],
)
def test_alignment_policy_and_unaligned_count(
    tiny_uni_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    alignment: str,
    expected: list[tuple[int, int, str]],
    unaligned: int,
    overlapping: int,
) -> None:
    nlp = _nlp(tiny_uni_dir, alignment=alignment)
    component = nlp.get_pipe("biomedner")
    _with_fixed_entities(monkeypatch, component, ODD_ENTITIES)
    doc = nlp(TEXT)
    assert [t.text for t in doc] == ["p53wt", "growth", "of", "cells"]
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == expected
    assert doc._.biomedner_stats == {
        "entities": len(expected),
        "unaligned": unaligned,
        "overlapping": overlapping,
    }
    assert component.stats["unaligned"] == unaligned


def test_existing_entities_kept_unless_overwrite(
    tiny_uni_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "aspirin dose for cancer patients"
    predicted = [
        Entity(0, 12, text[0:12], "drug", 0.9),  # overlaps the ruler's "aspirin"
        Entity(17, 23, text[17:23], "disease", 0.8),
    ]
    for overwrite, expected, overlapping in [
        (False, [(0, 7, "CHEMICAL"), (17, 23, "disease")], 1),
        (True, [(0, 12, "drug"), (17, 23, "disease")], 0),
    ]:
        nlp = spacy.blank("en")
        nlp.add_pipe("entity_ruler").add_patterns([{"label": "CHEMICAL", "pattern": "aspirin"}])
        nlp.add_pipe(
            "biomedner",
            config={"model": str(tiny_uni_dir), "labels": LABELS, "overwrite_ents": overwrite},
        )
        _with_fixed_entities(monkeypatch, nlp.get_pipe("biomedner"), predicted)
        doc = nlp(text)
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == expected
        assert doc._.biomedner_stats["overlapping"] == overlapping


def test_overlaps_after_expansion_keep_the_higher_score(
    tiny_uni_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nlp = _nlp(tiny_uni_dir, alignment="expand")
    component = nlp.get_pipe("biomedner")
    # both expand to the token "p53wt"
    _with_fixed_entities(
        monkeypatch,
        component,
        [Entity(0, 3, "p53", "gene", 0.6), Entity(3, 5, "wt", "disease", 0.7)],
    )
    doc = nlp(TEXT)
    assert [(e.text, e.label_, e._.biomedner_score) for e in doc.ents] == [
        ("p53wt", "disease", 0.7)
    ]
    assert doc._.biomedner_stats == {"entities": 1, "unaligned": 0, "overlapping": 1}


def test_to_disk_and_load_keep_settings_and_reference_the_model(
    tiny_uni_dir: Path, tmp_path: Path
) -> None:
    config = {"threshold": 0.2, "mode": "nested", "spans_key": "bio", "alignment": "contract"}
    nlp = _nlp(tiny_uni_dir, **config, batch_size=3)
    before = [sorted(_triples(d.spans["bio"])) for d in nlp.pipe(TEXTS)]
    nlp.to_disk(tmp_path / "pipeline")
    written = [p for p in (tmp_path / "pipeline").rglob("*") if p.is_file()]
    assert not any(p.suffix == ".safetensors" or "biomedner" in p.parts for p in written)
    model_bytes = (tiny_uni_dir / "model.safetensors").stat().st_size
    assert sum(p.stat().st_size for p in written) < model_bytes
    loaded = spacy.load(tmp_path / "pipeline")
    settings = loaded.get_pipe("biomedner").settings
    assert settings.model == str(tiny_uni_dir)
    assert settings.labels == LABELS
    assert (settings.threshold, settings.mode, settings.spans_key, settings.alignment) == (
        0.2,
        "nested",
        "bio",
        "contract",
    )
    assert settings.batch_size == 3
    assert [sorted(_triples(d.spans["bio"])) for d in loaded.pipe(TEXTS)] == before


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"alignment": "fuzzy"}, "alignment"),
        ({"mode": "overlapping"}, "mode"),
        ({"threshold": 1.5}, "threshold"),
        ({"labels": []}, "labels"),
        ({"labels": ["gene", "gene"]}, "labels must not repeat"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_settings_fail_before_the_model_loads(config: dict, message: str) -> None:
    nlp = spacy.blank("en")
    full = {"model": "/nonexistent/model", "labels": LABELS, **config}
    with pytest.raises(InputError, match=message):
        nlp.add_pipe("biomedner", config=full)


def test_missing_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        spacy.blank("en").add_pipe(
            "biomedner", config={"model": str(tmp_path / "nope"), "labels": LABELS}
        )


def test_entry_point_declared_for_spacy() -> None:
    """pip install puts this entry point where spaCy's factory registry looks."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["entry-points"]["spacy_factories"]["biomedner"]
    module, attr = target.split(":")
    import importlib

    assert getattr(importlib.import_module(module), attr) is make_biomedner
    assert "spacy>=3.7" in project["project"]["optional-dependencies"]["spacy"]


def test_importing_biomedner_does_not_import_spacy() -> None:
    import subprocess
    import sys

    code = "import sys, biomedner, biomedner.model; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_component_model_is_a_nermodel(tiny_uni_dir: Path) -> None:
    assert isinstance(_nlp(tiny_uni_dir).get_pipe("biomedner").model, NERModel)


def test_spacy_finds_the_factory_through_the_installed_entry_point(tiny_uni_dir: Path) -> None:
    """In a fresh interpreter that never imports biomedner.integrations itself."""
    from importlib.metadata import entry_points

    if not [ep for ep in entry_points(group="spacy_factories") if ep.name == "biomedner"]:
        pytest.skip("the installed biomedner predates its spacy_factories entry point")
    import subprocess
    import sys

    code = (
        "import spacy; nlp = spacy.blank('en'); "
        f"nlp.add_pipe('biomedner', config={{'model': {str(tiny_uni_dir)!r}, 'labels': ['gene']}}); "
        "print(type(nlp.get_pipe('biomedner')).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "BiomednerComponent"


def test_docbin_round_trip_keeps_spans_scores_and_stats(tiny_uni_dir: Path) -> None:
    from spacy.tokens import DocBin

    nlp = _nlp(tiny_uni_dir, threshold=0.3, mode="multi_label")
    doc = nlp(TEXTS[0])
    stored = DocBin(store_user_data=True, docs=[doc]).to_bytes()
    (again,) = DocBin().from_bytes(stored).get_docs(nlp.vocab)
    assert sorted(_triples(again.spans["biomedner"])) == sorted(_triples(doc.spans["biomedner"]))
    assert again.spans["biomedner"].attrs["scores"] == doc.spans["biomedner"].attrs["scores"]
    assert again._.biomedner_stats == doc._.biomedner_stats
