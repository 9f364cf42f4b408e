"""``NERModel.from_pretrained(dir, backend="onnx")``: the same facade on onnxruntime.

Texts go through biomedner's own pipeline, windows, label groups, merging and decoding
(``inference/windows.py``); only the span scores come from the exported graphs. Nothing on
this path imports torch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biomedner.config import ModelConfig
from biomedner.decoding import Candidates, find_candidates_numpy
from biomedner.errors import CheckpointError, InputError
from biomedner.inference.windows import predict_with
from biomedner.io import checkpoint as ckpt
from biomedner.io.hub import resolve_model_dir
from biomedner.model import NERModel
from biomedner.onnx.runtime import OnnxSpanRunner
from biomedner.onnx.tokenizer import JsonTokenizer
from biomedner.text.encoding import EncodedRow, pad_rows
from biomedner.text.pipeline import TextPipeline, Window
from biomedner.types import DecodeMode, Entity

MANIFEST = "onnx_export.json"  # the name export.py writes; kept here so loading needs no torch
FORMAT_VERSION = 1


class OnnxNERModel(NERModel):
    """A :class:`NERModel` whose span scores come from onnxruntime."""

    def __init__(
        self,
        runner: OnnxSpanRunner,
        config: ModelConfig,
        tokenizer: Any,
        labels_tokenizer: Any | None = None,
        *,
        name: str = "",
        quantize: str | None = None,
    ) -> None:
        self.module = runner  # the owner LabelSets are checked against
        self.config = config
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.name = name
        self.device = "cpu"
        self.quantize = quantize
        self.pipeline = TextPipeline(config, tokenizer, labels_tokenizer)

    @classmethod
    def load(cls, path_or_hub_id: str | Path, *, max_len: int | None = None) -> OnnxNERModel:
        model_dir = resolve_model_dir(path_or_hub_id)
        manifest_path = model_dir / MANIFEST
        if not manifest_path.is_file():
            raise CheckpointError(
                f"{model_dir} is not an ONNX export ({MANIFEST} is missing); write one with "
                "`biomedner export MODEL OUT --format onnx`"
            )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(
                f"{manifest_path}: format version {manifest.get('format_version')!r}, this "
                f"biomedner reads {FORMAT_VERSION}; export the model again"
            )
        config = ckpt.read_config(model_dir)
        if max_len is not None:
            config = config.model_copy(update={"max_len": int(max_len)})
        graphs = manifest["graphs"]
        runner = OnnxSpanRunner(
            model_dir / graphs["span"],
            model_dir / graphs["labels"] if "labels" in graphs else None,
        )
        tokenizers = {
            role: JsonTokenizer(
                model_dir / info["file"],
                pad_token_id=info["pad_token_id"],
                unk_token_id=info["unk_token_id"],
                padding_side=info["padding_side"],
            )
            for role, info in manifest["tokenizers"].items()
        }
        return cls(
            runner,
            config,
            tokenizers["text"],
            tokenizers.get("labels"),
            name=str(path_or_hub_id),
            quantize=manifest.get("quantize"),
        )

    def save_pretrained(self, out_dir: str | Path) -> Path:
        raise InputError(
            "an ONNX model is written by `biomedner export`; load the torch checkpoint to save it"
        )

    def _predict(
        self,
        texts: list[str],
        label_lists: list[list[str]],
        threshold: float,
        mode: DecodeMode,
        batch_size: int,
        vectors: dict[str, Any] | None,
        autocast_dtype: Any,
        progress: bool | None = None,
    ) -> list[list[Entity]]:
        if autocast_dtype is not None:
            raise InputError("the ONNX backend runs at its exported precision: drop autocast_dtype")
        stacked: dict[tuple[tuple[str, ...], ...], np.ndarray] = {}

        def score(
            chunk: Sequence[Window], rows: Sequence[EncodedRow], best_label_only: bool
        ) -> list[Candidates]:
            arrays = pad_rows(rows, self.pipeline.info)
            if vectors is not None:
                groups = tuple(w.group.labels for w in chunk)
                if groups not in stacked:
                    stacked[groups] = _stack(groups, vectors)
                arrays["label_vectors"] = stacked[groups]
            logits = self.module.logits(arrays)
            probs = 1.0 / (1.0 + np.exp(-logits, dtype=np.float32))
            return find_candidates_numpy(
                probs.astype(np.float32, copy=False),
                [len(r.word_starts) for r in rows],
                threshold,
                [len(w.group.labels) for w in chunk],
                best_label_only=best_label_only,
            )

        return predict_with(score, self.pipeline, texts, label_lists, mode, batch_size, progress)

    def _encode_labels(self, labels: list[str], batch_size: int) -> np.ndarray:
        chunks = []
        for i in range(0, len(labels), batch_size):
            ids, mask = self.pipeline.label_token_arrays(labels[i : i + batch_size])
            chunks.append(self.module.encode_labels(ids, mask))
        return np.concatenate(chunks)

    def __repr__(self) -> str:
        return (
            f"OnnxNERModel({self.name!r}, {self.config.architecture}, "
            f"quantize={self.quantize}, max_width={self.config.max_width}, "
            f"max_len={self.config.max_len})"
        )


def _stack(groups: tuple[tuple[str, ...], ...], vectors: dict[str, np.ndarray]) -> np.ndarray:
    """[B, C, D] label vectors of a batch's windows, zero past each window's labels."""
    width = max(len(g) for g in groups)
    dim = next(iter(vectors.values())).shape[-1]
    out = np.zeros((len(groups), width, dim), dtype=np.float32)
    for b, g in enumerate(groups):
        if g:
            out[b, : len(g)] = np.stack([vectors[label] for label in g])
    return out
