"""The tiny offline checkpoints of tests/model, shared with the integration tests."""

from __future__ import annotations

from tests.model.conftest import tiny_backbone, tiny_bi_dir, tiny_uni_dir

__all__ = ["tiny_backbone", "tiny_bi_dir", "tiny_uni_dir"]
