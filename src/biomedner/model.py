"""NERModel: the public facade. Holds a span model, its tokenizer(s) and config; predicts
entities with character offsets into the caller's text.

    model = NERModel.from_pretrained("Ihor/gliner-biomed-small-v1.0")   # or a local directory
    model.predict("BRCA1 mutations raise breast cancer risk.", ["gene", "disease"])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import biomedner.runtime  # noqa: F401  (caps oneDNN's cache; see runtime.py)
from biomedner.config import ModelConfig
from biomedner.decoding import check_mode, check_threshold
from biomedner.errors import InputError
from biomedner.inference.label_set import LabelSet, label_encoder_fingerprint, read_label_set
from biomedner.io import checkpoint as ckpt
from biomedner.io.hub import resolve_model_dir
from biomedner.labels import descriptions_to_prompts, normalize_labels
from biomedner.logging import get_logger
from biomedner.text.characters import check_characters
from biomedner.text.pipeline import TextPipeline
from biomedner.text.prompt import validate_labels
from biomedner.types import DecodeMode, Entity

if TYPE_CHECKING:  # torch loads with a torch model: the ONNX backend runs without it
    import torch

logger = get_logger(__name__)

# a mapping gives each label a description: the model reads the description, entities carry
# the name (as gliner 0.2.29 does)
Labels = Sequence[str] | Mapping[str, str] | LabelSet


class NERModel:
    """Open-type span NER with a GLiNER-compatible uni- or bi-encoder."""

    def __init__(
        self,
        module: torch.nn.Module,
        config: ModelConfig,
        tokenizer: Any,
        labels_tokenizer: Any | None = None,
        *,
        name: str = "",
        device: str | torch.device = "cpu",
    ) -> None:
        import torch

        self.module = module.eval()
        self.config = config
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.name = name
        self.device = torch.device(device)
        self.module.to(self.device)
        # the same text pipeline trains and predicts (text/pipeline.py)
        self.pipeline = TextPipeline(config, tokenizer, labels_tokenizer)

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def from_pretrained(
        cls,
        path_or_hub_id: str | Path,
        *,
        device: str | torch.device = "cpu",
        strict: bool = True,
        max_len: int | None = None,
        quantize: str | None = None,
        backend: str = "torch",
    ) -> NERModel:
        """Load a gliner-format checkpoint directory or hub id.

        ``strict=False`` loads despite missing or unexpected state-dict keys (logged); shapes
        must always match. ``max_len`` overrides the window length in words. ``quantize="int8"``
        (CPU only) runs the encoders' and heads' linear layers in int8 (``modeling/int8.py``).
        ``backend="onnx"`` loads a directory written by ``biomedner export --format onnx`` and
        runs it on onnxruntime, without torch (``onnx/``); its precision was fixed at export."""
        if backend == "onnx":
            if quantize is not None or str(device) != "cpu" or not strict:
                raise InputError(
                    "backend='onnx' runs on CPU as exported: quantize at export "
                    "(biomedner export --quantize int8) and leave device and strict unset"
                )
            from biomedner.onnx.model import OnnxNERModel

            return OnnxNERModel.load(path_or_hub_id, max_len=max_len)
        if backend != "torch":
            raise InputError(f"unknown backend {backend!r}; choose torch or onnx")
        check_quantize(quantize, device)
        model_dir = resolve_model_dir(path_or_hub_id)
        config = ckpt.read_config(model_dir)
        if max_len is not None:
            config = config.model_copy(update={"max_len": int(max_len)})
        state = ckpt.read_state_dict(model_dir)
        config = _sync_vocab_sizes(_fill_encoder_configs(config), state)
        from biomedner.io.tokenizers import load_tokenizer
        from biomedner.modeling.registry import build_model

        tokenizer = load_tokenizer(model_dir, config.model_name)
        labels_tokenizer = None
        if config.is_bi_encoder:
            local = model_dir / ckpt.LABELS_TOKENIZER_DIR
            labels_tokenizer = load_tokenizer(
                local if (local / "tokenizer_config.json").is_file() else None,
                config.labels_encoder,
            )
        module = build_model(config)
        ckpt.load_weights(module, state, strict=strict)
        if quantize == "int8":
            from biomedner.modeling.int8 import quantize_int8

            logger.info("int8: %d linear layers quantized", quantize_int8(module))
        return cls(
            module, config, tokenizer, labels_tokenizer, name=str(path_or_hub_id), device=device
        )

    @classmethod
    def from_backbone(
        cls,
        backbone: str,
        *,
        labels_encoder: str | None = None,
        device: str | torch.device = "cpu",
        **options: Any,
    ) -> NERModel:
        """A new, untrained span model on a pretrained encoder (hub id or local HF directory);
        ``labels_encoder`` makes it a bi-encoder. ``options``: hidden_size, max_width, max_len,
        dropout, num_rnn_layers, words_splitter_type, seed (see ``modeling/init.py``)."""
        from biomedner.modeling.init import new_span_model

        parts = new_span_model(backbone, labels_encoder=labels_encoder, **options)
        return cls(
            parts.module,
            parts.config,
            parts.tokenizer,
            parts.labels_tokenizer,
            name=f"init:{backbone}",
            device=device,
        )

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """Write the checkpoint in the gliner layout (safetensors); ``gliner`` loads it too."""
        from biomedner.modeling.int8 import is_quantized

        if is_quantized(self.module):
            raise InputError(
                "an int8-quantized model cannot be saved as a checkpoint; save the model loaded "
                "without quantize"
            )
        out = Path(out_dir)
        ckpt.write_checkpoint(self.module, self.config, out)
        self.tokenizer.save_pretrained(str(out))
        if self.labels_tokenizer is not None:
            self.labels_tokenizer.save_pretrained(str(out / ckpt.LABELS_TOKENIZER_DIR))
        return out

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Upload the checkpoint and a model card (README.md) to the hub in one commit; see
        ``biomedner.io.hub_upload.push_model`` for the options (private, token, card, reports)."""
        from biomedner.io.hub_upload import push_model

        return push_model(self, repo_id, **kwargs)

    # ------------------------------------------------------------------ prediction
    def predict(
        self,
        text: str,
        labels: Labels,
        *,
        threshold: float = 0.5,
        mode: DecodeMode = "flat",
    ) -> list[Entity]:
        """Entities in ``text`` for the given labels, sorted by start offset."""
        return self.predict_batch([text], labels, threshold=threshold, mode=mode, batch_size=1)[0]

    def predict_batch(
        self,
        texts: Sequence[str],
        labels: Labels | Sequence[Labels],
        *,
        threshold: float = 0.5,
        mode: DecodeMode = "flat",
        batch_size: int = 8,
        autocast_dtype: torch.dtype | None = None,
        progress: bool | None = None,
    ) -> list[list[Entity]]:
        """One entity list per text. ``labels`` is one label list (or LabelSet) for all texts,
        or one per text. Long texts are windowed, never truncated. ``progress``: a bar of
        windows on stderr (None: only when logging at INFO or DEBUG)."""
        if isinstance(texts, str):
            raise InputError("predict_batch takes a list of texts; use predict() for one text")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"text #{i} is {type(text).__name__}, expected str")
            check_characters(text, f"text #{i}")
        mode = check_mode(mode)
        threshold = check_threshold(threshold)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
        labels, renames = descriptions_to_prompts(labels, len(texts))
        if autocast_dtype is not None:
            from biomedner.modeling.int8 import is_quantized

            if is_quantized(self.module):
                raise InputError("an int8-quantized model runs in fp32: drop autocast_dtype")
        label_lists, label_sets = self._label_lists(labels, len(texts))
        if not texts:
            return []
        vectors = None
        if self.config.is_bi_encoder:
            vectors = self._label_vectors(label_lists, label_sets)
        found = self._predict(
            texts, label_lists, threshold, mode, batch_size, vectors, autocast_dtype, progress
        )
        if renames is None:
            return found
        return [
            [dataclasses.replace(e, label=rename.get(e.label, e.label)) for e in entities]
            for entities, rename in zip(found, renames)
        ]

    def _predict(
        self,
        texts: list[str],
        label_lists: list[list[str]],
        threshold: float,
        mode: DecodeMode,
        batch_size: int,
        vectors: dict[str, Any] | None,
        autocast_dtype: torch.dtype | None,
        progress: bool | None = None,
    ) -> list[list[Entity]]:
        from biomedner.inference.predictor import predict_windows

        return predict_windows(
            self.module,
            self.pipeline,
            texts,
            label_lists,
            threshold=threshold,
            mode=mode,
            batch_size=batch_size,
            device=self.device,
            label_vectors=vectors,
            autocast_dtype=autocast_dtype,
            progress=progress,
        )

    def encode_labels(
        self, labels: Sequence[str] | Mapping[str, str], *, batch_size: int = 64
    ) -> LabelSet:
        """Bi-encoder only: encode labels once; pass the LabelSet to predict as the labels.
        With a name→description mapping the descriptions are encoded under the names."""
        if not self.config.is_bi_encoder:
            raise InputError(
                "encode_labels needs a bi-encoder; a uni-encoder reads its labels in the prompt, "
                "so pass the label list to predict() directly"
            )
        normalized = normalize_labels(labels)
        labels = list(normalized.prompts)
        return LabelSet(
            normalized.names,
            self._encode_labels(labels, batch_size),
            owner=id(self.module),
            fingerprint_of=lambda: self.label_encoder_fingerprint,
            model_name=self.name,
            descriptions=normalized.prompts if normalized.has_descriptions else None,
        )

    def load_labels(self, path: str | Path) -> LabelSet:
        """A LabelSet saved by ``LabelSet.save``, if this model's label encoder computed it."""
        mine = self.label_encoder_fingerprint
        saved = read_label_set(path)
        if saved.fingerprint != mine:
            raise InputError(
                f"label set {path} was encoded by model {saved.model_name!r} (label encoder "
                f"{saved.fingerprint}), not by this model {self.name!r} (label encoder "
                f"{mine}); encode the labels with this model"
            )
        return LabelSet(
            saved.labels,
            saved.vectors.to(self.device),
            owner=id(self.module),
            fingerprint_of=saved.fingerprint,
            model_name=saved.model_name,
            descriptions=saved.descriptions,
        )

    @cached_property
    def label_encoder_fingerprint(self) -> str:
        """Identifies the label encoder's weights and tokenizer (computed once per model)."""
        if not self.config.is_bi_encoder:
            raise InputError("only a bi-encoder has a label encoder (and saved label sets)")
        return label_encoder_fingerprint(self.module, self.labels_tokenizer)

    def _encode_labels(self, labels: list[str], batch_size: int) -> Any:
        import torch

        chunks = []
        with torch.inference_mode():
            for i in range(0, len(labels), batch_size):
                ids, mask = self.pipeline.label_tokens(labels[i : i + batch_size])
                chunks.append(self.module.encode_labels(ids.to(self.device), mask.to(self.device)))
        return torch.cat(chunks)

    # ------------------------------------------------------------------ helpers
    def _label_lists(
        self, labels: Labels | Sequence[Labels], n: int
    ) -> tuple[list[list[str]], list[LabelSet]]:
        """One label list per text (validated) and the LabelSets among the inputs. A list of
        strings or a LabelSet is shared by all texts; anything else must be one per text."""
        shared = (
            isinstance(labels, (str, LabelSet))
            or not isinstance(labels, Sequence)
            or len(labels) == 0
            or isinstance(labels[0], str)
        )
        items = [labels] if shared else list(labels)
        if not shared and len(items) != n:
            raise InputError(
                f"got {len(items)} label lists for {n} texts; give one list for all texts "
                "or exactly one per text"
            )
        reserved = (self.config.ent_token, self.config.sep_token)
        lists: list[list[str]] = []
        sets: list[LabelSet] = []
        validated: dict[int, list[str]] = {}  # the same list object passed for many texts
        for item in items:
            if isinstance(item, LabelSet):
                if item.owner != id(self.module):
                    raise InputError("this LabelSet was encoded by another model; re-encode it")
                sets.append(item)
                lists.append(list(item.labels))
            else:
                if id(item) not in validated:
                    validated[id(item)] = validate_labels(item, reserved=reserved)
                lists.append(validated[id(item)])
        return (lists * n if shared else lists), sets

    def _label_vectors(
        self, label_lists: list[list[str]], label_sets: list[LabelSet]
    ) -> dict[str, Any]:
        vectors: dict[str, Any] = {}
        for ls in label_sets:
            for label, vec in zip(ls.labels, ls.vectors):
                vectors[label] = vec
        missing = list(dict.fromkeys(l for ll in label_lists for l in ll if l not in vectors))
        if missing:
            fresh = self.encode_labels(missing)
            for label, vec in zip(fresh.labels, fresh.vectors):
                vectors[label] = vec
        return vectors

    def __repr__(self) -> str:
        return (
            f"NERModel({self.name!r}, {self.config.architecture}, hidden={self.config.hidden_size}, "
            f"max_width={self.config.max_width}, max_len={self.config.max_len}, device={self.device})"
        )


def check_quantize(quantize: str | None, device: str | torch.device) -> None:
    """Checked before anything loads."""
    if quantize is None:
        return
    import torch

    if quantize != "int8":
        raise InputError(f"unknown quantization {quantize!r}; the one supported is 'int8'")
    if torch.device(device).type != "cpu":
        raise InputError("int8 quantization runs on CPU only; use bf16/fp16 on a GPU")


def _fill_encoder_configs(config: ModelConfig) -> ModelConfig:
    """Old checkpoints may lack the embedded encoder configs; fetch them by model name."""
    updates: dict[str, Any] = {}
    for field, ref in (
        ("encoder_config", config.model_name),
        ("labels_encoder_config", config.labels_encoder),
    ):
        if ref and getattr(config, field) is None:
            from transformers import AutoConfig

            updates[field] = AutoConfig.from_pretrained(
                str(resolve_model_dir(ref, tokenizer_only=True))
            ).to_dict()
    return config.model_copy(update=updates) if updates else config


def _sync_vocab_sizes(config: ModelConfig, state: dict[str, torch.Tensor]) -> ModelConfig:
    """Legacy configs may predate the prompt tokens' resize; the embedding matrix is the truth."""
    updates: dict[str, Any] = {}
    for prefix, field in (
        ("encoder.backbone.", "encoder_config"),
        ("label_encoder.backbone.", "labels_encoder_config"),
    ):
        emb = state.get(prefix + "embeddings.word_embeddings.weight")
        cfg = getattr(config, field)
        if emb is not None and cfg is not None and cfg.get("vocab_size") != emb.shape[0]:
            updates[field] = {**cfg, "vocab_size": int(emb.shape[0])}
    return config.model_copy(update=updates) if updates else config
