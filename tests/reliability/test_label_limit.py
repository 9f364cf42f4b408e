"""Item 7: a bi-encoder label longer than the label encoder's token limit is an error naming the
label and the limit, never silently cut (two labels cut to the same tokens would then score
alike, and a cut label is not the label the user asked for)."""

from __future__ import annotations

import pytest

from biomedner.errors import InputError


def test_too_long_label_is_refused_with_label_and_limit(bi):
    limit = 128  # the tiny backbone's max_position_embeddings
    long_label = " ".join(["gene"] * (limit + 10))
    with pytest.raises(InputError) as err:
        bi.encode_labels(["disease", long_label])
    message = str(err.value)
    assert long_label[:40] in message and str(limit) in message
    with pytest.raises(InputError):
        bi.predict("BRCA1 causes cancer.", ["disease", long_label])


def test_label_just_within_the_limit_is_encoded(bi):
    # [CLS] + words + [SEP] = the limit exactly
    label = " ".join(["gene"] * (128 - 2))
    label_set = bi.encode_labels([label, "disease"])
    assert label_set.labels == (label, "disease")
