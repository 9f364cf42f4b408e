"""NERModel: the public facade. Holds a span model, its tokenizer(s) and config; predicts
entities with character offsets into the caller's text.

    model = NERModel.from_pretrained("Ihor/gliner-biomed-small-v1.0")   # or a local directory
    model.predict("BRCA1 mutations raise breast cancer risk.", ["gene", "disease"])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from biomedner.config import ModelConfig
from biomedner.decoding import check_mode, check_threshold
from biomedner.errors import CheckpointError, InputError
from biomedner.inference.collate import TokenizerInfo
from biomedner.inference.label_set import LabelSet
from biomedner.inference.predictor import PredictorSetup, predict_windows
from biomedner.io import checkpoint as ckpt
from biomedner.io.hub import resolve_model_dir
from biomedner.io.tokenizers import load_tokenizer
from biomedner.logging import get_logger
from biomedner.modeling.encoder import max_input_tokens
from biomedner.modeling.registry import build_model
from biomedner.text.prompt import validate_labels
from biomedner.text.words import WordSplitter
from biomedner.types import DecodeMode, Entity

logger = get_logger(__name__)

Labels = Sequence[str] | LabelSet


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
        self.module = module.eval()
        self.config = config
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.name = name
        self.device = torch.device(device)
        self.module.to(self.device)
        self.splitter = WordSplitter(config.words_splitter_type)
        if config.is_bi_encoder and labels_tokenizer is None:
            raise CheckpointError("a bi-encoder needs its label tokenizer")
        self.tokenizer_info = self._make_tokenizer_info()
        self._setup = self._build_setup()

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def from_pretrained(
        cls,
        path_or_hub_id: str | Path,
        *,
        device: str | torch.device = "cpu",
        strict: bool = True,
        max_len: int | None = None,
    ) -> NERModel:
        """Load a gliner-format checkpoint directory or hub id.

        ``strict=False`` loads despite missing or unexpected state-dict keys (logged); shapes
        must always match. ``max_len`` overrides the window length in words."""
        model_dir = resolve_model_dir(path_or_hub_id)
        config = ckpt.read_config(model_dir)
        if max_len is not None:
            config = config.model_copy(update={"max_len": int(max_len)})
        state = ckpt.read_state_dict(model_dir)
        config = _sync_vocab_sizes(_fill_encoder_configs(config), state)
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
        return cls(
            module, config, tokenizer, labels_tokenizer, name=str(path_or_hub_id), device=device
        )

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """Write the checkpoint in the gliner layout (safetensors); ``gliner`` loads it too."""
        out = Path(out_dir)
        ckpt.write_checkpoint(self.module, self.config, out)
        self.tokenizer.save_pretrained(str(out))
        if self.labels_tokenizer is not None:
            self.labels_tokenizer.save_pretrained(str(out / ckpt.LABELS_TOKENIZER_DIR))
        return out

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
    ) -> list[list[Entity]]:
        """One entity list per text. ``labels`` is one label list (or LabelSet) for all texts,
        or one per text. Long texts are windowed, never truncated."""
        if isinstance(texts, str):
            raise InputError("predict_batch takes a list of texts; use predict() for one text")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"text #{i} is {type(text).__name__}, expected str")
        mode = check_mode(mode)
        threshold = check_threshold(threshold)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
        label_lists, label_sets = self._label_lists(labels, len(texts))
        if not texts:
            return []
        vectors = None
        if self.config.is_bi_encoder:
            vectors = self._label_vectors(label_lists, label_sets)
        return predict_windows(
            self._setup,
            texts,
            label_lists,
            threshold=threshold,
            mode=mode,
            batch_size=batch_size,
            device=self.device,
            label_vectors=vectors,
            autocast_dtype=autocast_dtype,
        )

    @torch.inference_mode()
    def encode_labels(self, labels: Sequence[str], *, batch_size: int = 64) -> LabelSet:
        """Bi-encoder only: encode labels once; pass the LabelSet to predict as the labels."""
        if not self.config.is_bi_encoder:
            raise InputError(
                "encode_labels needs a bi-encoder; a uni-encoder reads its labels in the prompt, "
                "so pass the label list to predict() directly"
            )
        labels = validate_labels(labels)
        limit = max_input_tokens(self.config.labels_encoder_config or {})
        chunks = []
        for i in range(0, len(labels), batch_size):
            enc = self.labels_tokenizer(
                labels[i : i + batch_size], padding="longest", return_tensors="pt"
            )
            if limit is not None and enc["input_ids"].shape[1] > limit:
                lengths = enc["attention_mask"].sum(dim=1).tolist()
                n, label = max(zip(lengths, labels[i : i + batch_size], strict=True))
                raise InputError(
                    f"label {label!r} is {n} tokens long; the label encoder takes at most {limit}: "
                    "shorten the label"
                )
            chunks.append(
                self.module.encode_labels(
                    enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device)
                )
            )
        return LabelSet(tuple(labels), torch.cat(chunks), owner=id(self.module))

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
    ) -> dict[str, torch.Tensor]:
        vectors: dict[str, torch.Tensor] = {}
        for ls in label_sets:
            for label, vec in zip(ls.labels, ls.vectors):
                vectors[label] = vec
        missing = list(dict.fromkeys(l for ll in label_lists for l in ll if l not in vectors))
        if missing:
            fresh = self.encode_labels(missing)
            for label, vec in zip(fresh.labels, fresh.vectors):
                vectors[label] = vec
        return vectors

    def _make_tokenizer_info(self) -> TokenizerInfo:
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            raise CheckpointError("the tokenizer has no padding token, so batches cannot be padded")
        padding = {"pad_token_id": pad_id, "pad_left": self.tokenizer.padding_side == "left"}
        if self.config.is_bi_encoder:
            return TokenizerInfo(class_token_id=None, label_offset=0, **padding)
        ent_id = self.tokenizer.convert_tokens_to_ids(self.config.ent_token)
        unk = getattr(self.tokenizer, "unk_token_id", None)
        if ent_id is None or ent_id == unk:
            raise CheckpointError(
                f"the tokenizer does not know the prompt token {self.config.ent_token!r}"
            )
        if self.config.class_token_index not in (-1, ent_id):
            raise CheckpointError(
                f"config class_token_index={self.config.class_token_index} but the tokenizer maps "
                f"{self.config.ent_token!r} to {ent_id}"
            )
        return TokenizerInfo(
            class_token_id=ent_id, label_offset=0 if self.config.embed_ent_token else 1, **padding
        )

    def _build_setup(self) -> PredictorSetup:
        enc_cfg = self.config.encoder_config or {}
        probe = self.tokenizer(["x"], is_split_into_words=True)["input_ids"]
        plain = self.tokenizer(["x"], is_split_into_words=True, add_special_tokens=False)[
            "input_ids"
        ]
        return PredictorSetup(
            module=self.module,
            tokenizer=self.tokenizer,
            splitter=self.splitter,
            info=self.tokenizer_info,
            max_words=self.config.max_len,
            max_tokens=max_input_tokens(enc_cfg),
            max_width=self.config.max_width,
            is_bi_encoder=self.config.is_bi_encoder,
            ent_token=self.config.ent_token,
            sep_token=self.config.sep_token,
            num_special_tokens=len(probe) - len(plain),
        )

    def __repr__(self) -> str:
        return (
            f"NERModel({self.name!r}, {self.config.architecture}, hidden={self.config.hidden_size}, "
            f"max_width={self.config.max_width}, max_len={self.config.max_len}, device={self.device})"
        )


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
