"""gliner's own ONNX export of a checkpoint, for bench_published.py's ``gliner onnx`` runners
(and the model directory fast-gliner loads).

gliner 0.2.29's path: ``GLiNER.export_to_onnx(dir, quantize=True)`` writes ``model.onnx``
(torch.onnx's TorchScript exporter, opset 19), ``model_quantized.onnx`` (onnxruntime's
``quantize_dynamic``, uint8 weights), ``gliner_config.json`` and the tokenizer; the files are
run by ``GLiNER.from_pretrained(dir, load_onnx_model=True, onnx_model_file=...)``.

Bi-encoder with precomputed label embeddings (what ``batch_predict_with_embeds`` feeds an ONNX
model): gliner's ``export_to_onnx(..., from_labels_embeddings=True)`` fails in 0.2.29 with
``TypeError: BaseGLiNER._build_dummy_batch() got an unexpected keyword argument
'from_labels_embeddings'`` (the keyword goes to the dummy-batch builder as well as to
``_prepare_onnx_batch``); and its bi-encoder export wrapper names its positional inputs after
the label-token spec, so the embeddings would reach the model as ``labels_input_ids``. The
workaround below calls the same pieces gliner's export does (``_build_dummy_batch``,
``_prepare_onnx_batch(from_labels_embeddings=True)``, ``_run_torch_onnx_export``,
``_maybe_quantize_onnx``) with a wrapper that hands the graph input ``labels_embeddings`` to the
model as its ``labels_embeds`` argument; gliner's ONNX runtime then loads and runs the graph
unchanged (``model_embeds.onnx`` / ``model_embeds_quantized.onnx``).
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path

FULL = ("model.onnx", "model_quantized.onnx")
EMBEDS = ("model_embeds.onnx", "model_embeds_quantized.onnx")
_DONE = "bench_export_done.json"


@contextmanager
def _quiet_quantizer():
    # onnxruntime's quantizer logs one root WARNING per tensor it cannot type (hundreds)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def export_gliner_onnx(model, out: Path, *, with_embeds: bool) -> Path:
    """``out`` holding gliner's fp32 and int8 exports of ``model`` (a torch GLiNER), plus, with
    ``with_embeds`` (bi-encoders), the precomputed-label-embedding graphs. Reuses a finished
    export of an earlier run."""
    done_file = out / _DONE
    done = set(json.loads(done_file.read_text())) if done_file.is_file() else set()
    wanted = set(FULL) | (set(EMBEDS) if with_embeds else set())
    if wanted <= done:
        return out
    with _quiet_quantizer():
        if not set(FULL) <= done:
            paths = model.export_to_onnx(str(out), quantize=True)
            if paths["quantized_path"] is None:
                raise RuntimeError(f"gliner's export_to_onnx did not quantize into {out}")
            done |= set(FULL)
        if with_embeds and not set(EMBEDS) <= done:
            _export_with_label_embeddings(model, out)
            done |= set(EMBEDS)
    done_file.write_text(json.dumps(sorted(done)))
    return out


def _export_with_label_embeddings(model, out: Path) -> None:
    from torch import nn

    class LabelEmbeddingsWrapper(nn.Module):
        def __init__(self, core: nn.Module, names: list[str]):
            super().__init__()
            self.core = core
            self.names = names

        def forward(self, *args):
            kwargs = dict(zip(self.names, args, strict=True))
            kwargs["labels_embeds"] = kwargs.pop("labels_embeddings")
            out = self.core(**kwargs)
            return out.logits if hasattr(out, "logits") else out[0]

    batch = model._build_dummy_batch(**model._get_onnx_export_kwargs())
    inputs, spec = model._prepare_onnx_batch(batch, from_labels_embeddings=True)
    wrapper = LabelEmbeddingsWrapper(model.model.to("cpu").eval(), spec["input_names"]).eval()
    onnx_path, quantized = out / EMBEDS[0], out / EMBEDS[1]
    model._run_torch_onnx_export(
        wrapper,
        inputs,
        spec["input_names"],
        spec["output_names"],
        spec["dynamic_axes"],
        onnx_path,
        19,
    )
    if model._maybe_quantize_onnx(onnx_path, quantized, True) is None:
        raise RuntimeError(f"gliner's ONNX quantization failed for {onnx_path}")
