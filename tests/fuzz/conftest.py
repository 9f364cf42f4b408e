"""Hypothesis profiles for the fuzzing suite.

``ci`` (the default) keeps the suite to seconds: few examples, derandomized so CI runs are
repeatable. ``long`` is for a hand run that searches much harder (minutes)::

    BIOMEDNER_FUZZ_PROFILE=long python -m pytest -q tests/fuzz
    BIOMEDNER_FUZZ_PROFILE=long BIOMEDNER_FUZZ_EXAMPLES=300 python -m pytest -q tests/fuzz

A failing example is printed by Hypothesis with a ``@reproduce_failure`` line to replay it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.model.conftest import bi, tiny_backbone, tiny_bi_dir, tiny_uni_dir, uni  # noqa: F401

_SHARED = {
    "deadline": None,  # the first call of a model is slower than the rest
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=10, derandomize=True, database=None, **_SHARED)
settings.register_profile("long", max_examples=2000, **_SHARED)
settings.load_profile(os.environ.get("BIOMEDNER_FUZZ_PROFILE", "ci"))
if os.environ.get("BIOMEDNER_FUZZ_EXAMPLES"):
    settings.register_profile(
        "custom",
        settings.get_profile(os.environ.get("BIOMEDNER_FUZZ_PROFILE", "ci")),
        max_examples=int(os.environ["BIOMEDNER_FUZZ_EXAMPLES"]),
    )
    settings.load_profile("custom")
