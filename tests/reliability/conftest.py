"""The tiny offline checkpoints of tests/model, shared with the reliability tests."""

from __future__ import annotations

from tests.model.conftest import bi, tiny_backbone, tiny_bi_dir, tiny_uni_dir, uni  # noqa: F401
