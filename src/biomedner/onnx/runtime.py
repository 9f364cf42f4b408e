"""onnxruntime sessions of an exported span model: numpy arrays in, span logits out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biomedner.errors import CheckpointError


class OnnxSpanRunner:
    """The span graph (and, for a bi-encoder, the label graph) of one exported model."""

    def __init__(self, span_graph: Path, label_graph: Path | None = None):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise CheckpointError(
                "the ONNX backend needs onnxruntime: pip install 'biomedner[onnx]'"
            ) from exc
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: shape notes are not the caller's business
        providers = ["CPUExecutionProvider"]
        self.span = ort.InferenceSession(str(span_graph), options, providers=providers)
        self.labels = (
            ort.InferenceSession(str(label_graph), options, providers=providers)
            if label_graph is not None
            else None
        )
        self.span_inputs = [i.name for i in self.span.get_inputs()]

    def logits(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Padded batch arrays by input name -> logits [B, W, K, C] float32."""
        feed = {name: arrays[name] for name in self.span_inputs}
        return self.span.run(["logits"], feed)[0]

    def encode_labels(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        if self.labels is None:
            raise TypeError("a uni-encoder reads its labels from the prompt; it has no label graph")
        feed = {"label_input_ids": input_ids, "label_attention_mask": attention_mask}
        return self.labels.run(["label_vectors"], feed)[0]
