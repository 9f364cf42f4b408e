"""Corpus-scale annotation: read documents as a stream, cut them into shards, predict each
shard's passages, write each shard atomically and record it in a manifest, so a run resumes
exactly where it stopped. Engines (local worker processes, Ray Data) only move shards around;
reading, predicting and writing live here and are shared."""

from __future__ import annotations

from biomedner.annotate.options import AnnotateOptions
from biomedner.annotate.run import AnnotateStopped, run_annotate

__all__ = ["AnnotateOptions", "AnnotateStopped", "run_annotate"]
