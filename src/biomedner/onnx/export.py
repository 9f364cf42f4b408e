"""``biomedner export --format onnx``: a span model as ONNX graphs, for ``backend="onnx"``.

The exported forward is the model's math on padded tensors, free of the CPU shortcuts that
depend on the data (packing real tokens, per-row loops, folding the last head layer when few
labels): those need values at export time, and onnxruntime does its own fusion. The result is
checked against the torch model in tests/onnx.

Layout of the output directory: ``gliner_config.json`` (the model's config), ``span_model.onnx``,
for a bi-encoder ``label_encoder.onnx`` (the label tower, run once per label set so a
``LabelSet`` still caches), the tokenizers as ``tokenizer.json`` / ``labels_tokenizer.json``
(the exact runtime tokenizers, readable without transformers) and ``onnx_export.json``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biomedner.errors import InputError
from biomedner.logging import get_logger
from biomedner.onnx.model import FORMAT_VERSION, MANIFEST

logger = get_logger(__name__)

SPAN_GRAPH = "span_model.onnx"
LABEL_GRAPH = "label_encoder.onnx"
TOKENIZER = "tokenizer.json"
LABELS_TOKENIZER = "labels_tokenizer.json"
QUANTIZATIONS = ("int8",)


class _PaddedEncoder(nn.Module):
    """Token states at chosen positions from the full padded forward, zero where unread."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask, positions, position_mask):
        hidden = self.encoder(input_ids, attention_mask)  # [B, T, D]
        hidden = hidden.gather(1, positions.unsqueeze(-1).expand(-1, -1, hidden.size(-1)))
        return hidden * position_mask.unsqueeze(-1).to(hidden.dtype)


def _span_logits(head: nn.Module, words: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The span head's logits [B, W, K, C] from its layers, unfolded (see module docstring)."""
    k = head.max_width
    dim = words.size(-1)
    first, _, dropout, second = head.out_project
    start = head.project_start(words).relu() @ first.weight[:, :dim].T + first.bias
    end = head.project_end(words).relu() @ first.weight[:, dim:].T
    end = nn.functional.pad(end, (0, 0, 0, k - 1))  # [B, W + K - 1, 4D]
    width = words.size(1)
    # end row of span (i, k) is i + k: one gather instead of a strided view
    index = torch.arange(width, device=words.device)[:, None] + torch.arange(k)[None, :]
    ends = end[:, index.reshape(-1)].view(words.size(0), width, k, -1)  # [B, W, K, 4D]
    hidden = dropout((start.unsqueeze(2) + ends).relu())
    spans = second(hidden)  # [B, W, K, D]
    return torch.einsum("bwkd,bcd->bwkc", spans, labels)


class _UniGraph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.read = _PaddedEncoder(model.encoder)

    def forward(self, input_ids, attention_mask, word_index, word_mask, label_index, label_mask):
        positions = torch.cat([word_index, label_index], dim=1)
        read = torch.cat([word_mask, label_mask], dim=1)
        states = self.read(input_ids, attention_mask, positions, read)
        width = word_index.size(1)
        words = states[:, :width]
        if self.model.word_lstm is not None:
            words = self.model.word_lstm._by_direction(words, word_mask)
        labels = self.model.label_mlp(states[:, width:])
        return _span_logits(self.model.span_head, words, labels)


class _BiGraph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.read = _PaddedEncoder(model.encoder)

    def forward(self, input_ids, attention_mask, word_index, word_mask, label_vectors):
        words = self.read(input_ids, attention_mask, word_index, word_mask)
        return _span_logits(self.model.span_head, words, label_vectors)


class _LabelGraph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model.encode_labels(input_ids, attention_mask)


def export_onnx(model: Any, out_dir: str | Path, *, quantize: str | None = None) -> Path:
    """Write ``model`` (an fp32 ``NERModel``) as an ONNX model directory; ``quantize="int8"``
    adds onnxruntime's dynamic int8 quantization of the span graph's matrix products. The
    directory appears whole or not at all."""
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise InputError(f"unknown quantization {quantize!r}; the one supported is 'int8'")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(model, staging, quantize)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _write(model: Any, out: Path, quantize: str | None) -> None:
    from biomedner.io.checkpoint import CONFIG_FILE

    module = model.module.cpu().eval()
    config = model.config
    # sizes of 0 or 1 would be specialised by the exporter: every dynamic axis here is >= 2
    # and distinct from the others
    example = ["Aspirin lowers the risk of colon cancer in adults .", "Insulin works ."]
    labels = ["drug", "disease", "gene"]
    batch = model.pipeline.collate_rows(model.pipeline.prepare(example, [labels] * 2).rows)
    dims = {
        "batch": torch.export.Dim("batch"),
        "tokens": torch.export.Dim("tokens"),
        "words": torch.export.Dim("words"),
        "labels": torch.export.Dim("labels"),
    }
    graphs: dict[str, str] = {}
    if config.is_bi_encoder:
        ids, mask = model.pipeline.label_tokens(labels)
        _export(
            _LabelGraph(module).eval(),
            (ids, mask),
            out / LABEL_GRAPH,
            ["label_input_ids", "label_attention_mask"],
            ["label_vectors"],
            ({0: dims["labels"], 1: torch.export.Dim("label_tokens")},) * 2,
        )
        graphs["labels"] = LABEL_GRAPH
        vectors = module.encode_labels(ids, mask).detach()
        label_inputs = (vectors.unsqueeze(0).expand(batch.input_ids.size(0), -1, -1).contiguous(),)
        label_names = ["label_vectors"]
        graph: torch.nn.Module = _BiGraph(module)
    else:
        label_inputs = (batch.label_index, batch.label_mask)
        label_names = ["label_index", "label_mask"]
        graph = _UniGraph(module)
    # the words' tensors, then the labels' (vectors for the bi-encoder, prompt slots for uni)
    inputs = (batch.input_ids, batch.attention_mask, batch.word_index, batch.word_mask)
    names = ["input_ids", "attention_mask", "word_index", "word_mask", *label_names]
    per_row = [dims["tokens"]] * 2 + [dims["words"]] * 2 + [dims["labels"]] * len(label_names)
    shapes = tuple({0: dims["batch"], 1: d} for d in per_row)
    _export(graph.eval(), inputs + label_inputs, out / SPAN_GRAPH, names, ["logits"], shapes)
    graphs["span"] = SPAN_GRAPH
    if quantize == "int8":
        # the span graph only: the label tower runs once per label set (LabelSet caches it),
        # so int8 would save nothing there, and it costs most accuracy there (MiniLM's
        # outlier channels: 44 % error in the label vectors of the test fixture, against
        # 0.7 % in the span logits)
        _quantize_int8([out / SPAN_GRAPH])
    (out / CONFIG_FILE).write_text(
        json.dumps(config.to_gliner_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    tokenizers = {"text": _save_tokenizer(model.tokenizer, out / TOKENIZER)}
    if model.labels_tokenizer is not None:
        tokenizers["labels"] = _save_tokenizer(model.labels_tokenizer, out / LABELS_TOKENIZER)
    manifest = {
        "format_version": FORMAT_VERSION,
        "architecture": config.architecture,
        "quantize": quantize,
        "graphs": graphs,
        "tokenizers": tokenizers,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@contextlib.contextmanager
def _quiet_exporters() -> Iterator[None]:
    """The exporter, its optimiser and onnxruntime's quantizer log progress notes and advice
    at WARNING (optional torchvision ops, skipped constant folds, "consider pre-processing");
    none is about the caller's model, so they are held back to errors while we export."""
    names = ("torch.onnx", "onnxscript", "onnx_ir", "root")
    loggers = [logging.getLogger(n) if n != "root" else logging.getLogger() for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _export(module, inputs, path: Path, names, outputs, shapes) -> None:
    import warnings

    with torch.no_grad(), warnings.catch_warnings(), _quiet_exporters():
        # the exporter notes that inputs sharing an axis share its name (intended here), and
        # its own traced internals raise torch's deprecation notices: none concern the caller
        warnings.filterwarnings("ignore", message=".*The axis name", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        program = torch.onnx.export(
            module,
            tuple(inputs),
            input_names=names,
            output_names=outputs,
            dynamic_shapes=tuple(shapes),
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        program.save(str(path))
    _free_output_axes(path, outputs)


def _free_output_axes(path: Path, outputs: list[str]) -> None:
    """The exporter may record an axis at its example size although it follows the inputs;
    onnxruntime then warns on every call whose size differs. The inner shapes are dropped
    (onnxruntime infers them) and every output axis is named."""
    import onnx

    graph = onnx.load(str(path))
    del graph.graph.value_info[:]
    for output in graph.graph.output:
        for i, dim in enumerate(output.type.tensor_type.shape.dim):
            dim.dim_param = f"{output.name}_axis{i}"
    onnx.save(graph, str(path))


def _quantize_int8(paths: list[Path]) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for path in paths:
        quantized = path.with_suffix(".int8.onnx")
        with _quiet_exporters():
            quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8)
        os.replace(quantized, path)


def _save_tokenizer(tokenizer: Any, path: Path) -> dict[str, Any]:
    """The tokenizer's runtime object as tokenizer.json, and what the pipeline reads of it."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise InputError("ONNX export needs a fast (Rust-backed) tokenizer")
    path.write_text(backend.to_str(), encoding="utf-8")
    return {
        "file": path.name,
        "pad_token_id": tokenizer.pad_token_id,
        "unk_token_id": getattr(tokenizer, "unk_token_id", None),
        "padding_side": tokenizer.padding_side,
    }
