"""Labels with descriptions against gliner 0.2.29: given {"name": "description"}, gliner puts
the description where the label would go (uni-encoder prompt, bi-encoder label encoder) and
names the entities by the key (``gliner/model.py``: ``_normalize_label_set`` builds the
prompts from the mapping's values, ``_remap_id_to_classes`` maps them back to the keys).
biomedner must give the same entities, names and scores."""

from __future__ import annotations

import pytest

from tests.fixtures.biomedical_texts import SENTENCES
from tests.fixtures.compare import compare_predictions
from tests.parity.conftest import biomedner_model, gliner_model

pytestmark = pytest.mark.parity

THRESHOLD = 0.5
DESCRIBED = {
    "gene": "gene or gene product",
    "disease": "disease, disorder or syndrome",
    "chemical": "chemical compound or drug",
    "cell": "cell line or cell type",
}
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # see test_parity_gliner.py
TEXTS = [t for t in SENTENCES if not any(ch in t for ch in INVISIBLE)][:24]


@pytest.mark.parametrize("mode", ["flat", "nested"])
@pytest.mark.parametrize("fixture_name", ["minilm_uni_ckpt", "minilm_bi_ckpt"])
def test_descriptions_match_gliner(
    fixture_name: str, mode: str, request: pytest.FixtureRequest
) -> None:
    gliner, ours = (lambda p: (gliner_model(p), biomedner_model(p)))(
        request.getfixturevalue(fixture_name)
    )
    reference = gliner.inference(
        TEXTS, DESCRIBED, flat_ner=mode == "flat", threshold=THRESHOLD, batch_size=8
    )
    assert {e["label"] for row in reference for e in row} == set(DESCRIBED)
    candidate = ours.predict_batch(TEXTS, DESCRIBED, threshold=THRESHOLD, mode=mode, batch_size=8)
    report = compare_predictions(TEXTS, reference, candidate, threshold=THRESHOLD)
    assert not report.problems, report.summary(fixture_name) + "\n" + "\n".join(report.problems)
    if ours.config.is_bi_encoder:
        label_set = ours.encode_labels(DESCRIBED)
        again = ours.predict_batch(TEXTS, label_set, threshold=THRESHOLD, mode=mode, batch_size=8)
        assert again == candidate
