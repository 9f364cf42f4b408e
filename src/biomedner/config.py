"""ModelConfig: what the forward pass and preprocessing need, saved with the weights.

On disk it is the reference library's ``gliner_config.json``, so checkpoints move freely between
biomedner and ``gliner``. Keys that matter to the model are typed and validated here; the many
training-time keys ``gliner`` also writes (learning rates, step counts, ...) are kept verbatim in
``passthrough`` and written back unchanged, so nothing a checkpoint carried is lost on a round trip.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from biomedner.errors import CheckpointError

FORMAT_VERSION = 1

Architecture = Literal["uni_encoder", "bi_encoder"]

# the defaults of a new model, here only: ModelConfig, gliner_config.json reading, training's
# [model] table and NERModel.from_backbone all take them from this table
DEFAULT_MAX_WIDTH = 12
DEFAULT_MAX_LEN = 384
DEFAULT_DROPOUT = 0.4
DEFAULT_NUM_RNN_LAYERS = 1
WordSplitterType = Literal["whitespace", "biomedical"]

# gliner_config.json keys that have no effect on a span model's forward pass or decoding:
# training settings, unused switches and bookkeeping. Kept verbatim, never interpreted.
_PASSTHROUGH_KEYS = frozenset(
    {
        "name",
        "fine_tune",
        "max_neg_type_ratio",
        "max_types",
        "id_to_classes",
        "model_type",
        "neg_spans_ratio",
        "represent_spans",
        "span_loss_coef",
        "token_loss_coef",
        "transformers_version",
        "precomputed_prompts_mode",
        "labels_decoder",
        "relations_layer",
        "span_encoder_config",
        "num_post_fusion_layers",
        "_attn_implementation",
        "has_rnn",
        "lr_encoder",
        "lr_others",
        "num_steps",
        "warmup_ratio",
        "warmup_steps",
        "train_batch_size",
        "eval_every",
        "log_dir",
        "prev_path",
        "save_total_limit",
        "train_data",
        "val_data_dir",
        "root_dir",
        "scheduler_type",
        "loss_alpha",
        "loss_gamma",
        "loss_reduction",
        "label_smoothing",
        "weight_decay_encoder",
        "weight_decay_other",
        "max_grad_norm",
        "size_sup",
        "shuffle_types",
        "random_drop",
        "freeze_token_rep",
        "sep_token_index",
        "decoder_mode",
        "full_decoder_context",
        "blank_entity_prob",
        "decoder_loss_coef",
        "dtype",
        "torch_dtype",
        "labels_decoder_config",
        "architectures",
        "biomedner_version",
        "biomedner_format_version",
    }
)


class ModelConfig(BaseModel):
    """Typed model configuration. Unknown keys are rejected; use :meth:`from_gliner_dict` to read
    a ``gliner_config.json`` written by another tool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    architecture: Architecture
    model_name: str = Field(description="hub id or path the text encoder was initialised from")
    labels_encoder: str | None = Field(
        default=None, description="hub id or path of the label encoder (bi-encoder only)"
    )
    # strict: a JSON true or "two" must not become 1 or a traceback deep in model building
    hidden_size: int = Field(gt=0, strict=True, description="working dimension D of the span head")
    max_width: int = Field(
        default=DEFAULT_MAX_WIDTH, gt=0, strict=True, description="longest span, in words"
    )
    max_len: int = Field(
        default=DEFAULT_MAX_LEN, gt=0, strict=True, description="longest window, in words"
    )
    dropout: float = Field(default=DEFAULT_DROPOUT, ge=0.0, lt=1.0)
    num_rnn_layers: int = Field(
        default=DEFAULT_NUM_RNN_LAYERS,
        ge=0,
        strict=True,
        description="BiLSTM layers (uni-encoder path)",
    )
    embed_ent_token: bool = Field(default=True, strict=True)
    class_token_index: int = Field(default=-1, strict=True)
    ent_token: str = "<<ENT>>"
    sep_token: str = "<<SEP>>"
    vocab_size: int = Field(default=-1, strict=True)
    words_splitter_type: WordSplitterType = "whitespace"
    span_mode: Literal["markerV0"] = "markerV0"
    subtoken_pooling: Literal["first"] = "first"
    encoder_config: dict[str, Any] | None = None
    labels_encoder_config: dict[str, Any] | None = None
    passthrough: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_architecture(self) -> ModelConfig:
        if self.architecture == "bi_encoder" and not self.labels_encoder:
            raise ValueError(
                "a bi_encoder needs labels_encoder (hub id or path of the label model)"
            )
        if self.architecture == "uni_encoder" and self.labels_encoder:
            raise ValueError("a uni_encoder has no labels_encoder; use architecture='bi_encoder'")
        return self

    @property
    def is_bi_encoder(self) -> bool:
        return self.architecture == "bi_encoder"

    @property
    def max_input_tokens(self) -> int | None:
        """Longest token sequence the text encoder accepts, None when it has no hard limit."""
        return _max_tokens(self.encoder_config or {})

    @property
    def max_label_tokens(self) -> int | None:
        """Longest label (in tokens, special tokens included) the label encoder accepts."""
        return _max_tokens(self.labels_encoder_config or {})

    @classmethod
    def from_gliner_dict(
        cls, data: dict[str, Any], source: str = "gliner_config.json"
    ) -> ModelConfig:
        """Read a ``gliner_config.json`` dict, refusing variants whose forward pass we do not
        implement rather than running them wrongly."""
        data = dict(data)
        unsupported = {
            "span_mode": (data.get("span_mode", "markerV0"), {"markerV0"}),
            "fuse_layers": (bool(data.get("fuse_layers", False)), {False}),
            "post_fusion_schema": (data.get("post_fusion_schema") or "", {""}),
            "subtoken_pooling": (data.get("subtoken_pooling") or "first", {"first"}),
        }
        for key, (value, allowed) in unsupported.items():
            if value not in allowed:
                raise CheckpointError(
                    f"{source}: {key}={value!r} is not supported by biomedner "
                    f"(supported: {sorted(map(str, allowed))}); only span models with the markerV0 "
                    "head, first-sub-token pooling and no layer fusion can be loaded"
                )
        if data.get("labels_decoder"):
            raise CheckpointError(f"{source}: generative label decoders are not supported")
        if "num_rnn_layers" in data:
            num_rnn_layers = data["num_rnn_layers"]
        else:
            # checkpoints written by gliner <= 0.2.17 say has_rnn instead
            num_rnn_layers = 1 if data.get("has_rnn", True) else 0
        known = {
            "model_name",
            "labels_encoder",
            "hidden_size",
            "max_width",
            "max_len",
            "dropout",
            "embed_ent_token",
            "class_token_index",
            "ent_token",
            "sep_token",
            "vocab_size",
            "words_splitter_type",
            "encoder_config",
            "labels_encoder_config",
            "num_rnn_layers",
            "span_mode",
            "subtoken_pooling",
            "fuse_layers",
            "post_fusion_schema",
        }
        passthrough = {k: v for k, v in data.items() if k not in known}
        ignored = sorted(set(passthrough) - _PASSTHROUGH_KEYS)
        if ignored:
            from biomedner.logging import get_logger

            get_logger(__name__).info(
                "%s: keys not used by biomedner, kept verbatim: %s", source, ", ".join(ignored)
            )
        labels_encoder = data.get("labels_encoder")
        try:
            return cls(
                architecture="bi_encoder" if labels_encoder else "uni_encoder",
                model_name=data.get("model_name") or "microsoft/deberta-v3-small",
                labels_encoder=labels_encoder,
                hidden_size=data.get("hidden_size", 512),
                max_width=data.get("max_width", DEFAULT_MAX_WIDTH),
                max_len=data.get("max_len", DEFAULT_MAX_LEN),
                dropout=data.get("dropout", DEFAULT_DROPOUT),
                num_rnn_layers=num_rnn_layers,
                embed_ent_token=data.get("embed_ent_token", True),
                class_token_index=data.get("class_token_index", -1),
                ent_token=data.get("ent_token", "<<ENT>>"),
                sep_token=data.get("sep_token", "<<SEP>>"),
                vocab_size=data.get("vocab_size", -1),
                words_splitter_type=data.get("words_splitter_type", "whitespace"),
                encoder_config=data.get("encoder_config"),
                labels_encoder_config=data.get("labels_encoder_config"),
                passthrough=passthrough,
            )
        except ValidationError as exc:
            raise CheckpointError(
                f"{source}: invalid model configuration: {_reasons(exc)}"
            ) from None
        except ValueError as exc:
            raise CheckpointError(f"{source}: invalid model configuration: {exc}") from None

    def to_gliner_dict(self) -> dict[str, Any]:
        """The ``gliner_config.json`` content: loadable by ``gliner`` and by :meth:`from_gliner_dict`."""
        from biomedner import __version__

        out: dict[str, Any] = dict(self.passthrough)
        out.pop("has_rnn", None)  # num_rnn_layers below is authoritative
        out.update(
            {
                "model_name": self.model_name,
                "labels_encoder": self.labels_encoder,
                "hidden_size": self.hidden_size,
                "max_width": self.max_width,
                "max_len": self.max_len,
                "dropout": self.dropout,
                "num_rnn_layers": self.num_rnn_layers,
                "embed_ent_token": self.embed_ent_token,
                "class_token_index": self.class_token_index,
                "ent_token": self.ent_token,
                "sep_token": self.sep_token,
                "vocab_size": self.vocab_size,
                "words_splitter_type": self.words_splitter_type,
                "span_mode": self.span_mode,
                "subtoken_pooling": self.subtoken_pooling,
                "fuse_layers": False,
                "post_fusion_schema": "",
                "encoder_config": self.encoder_config,
                "labels_encoder_config": self.labels_encoder_config,
                "biomedner_format_version": FORMAT_VERSION,
                "biomedner_version": __version__,
            }
        )
        return out


def _max_tokens(encoder_config: dict[str, Any]) -> int | None:
    # relative-position DeBERTa-v2/v3 without absolute position embeddings has no hard limit
    if encoder_config.get("model_type") == "deberta-v2" and not encoder_config.get(
        "position_biased_input", False
    ):
        return None
    limit = encoder_config.get("max_position_embeddings")
    if limit is None:
        return None
    # RoBERTa-style models reserve padding_idx + 1 positions
    offset = 2 if encoder_config.get("model_type") in {"roberta", "xlm-roberta", "camembert"} else 0
    return int(limit) - offset


def _reasons(exc: ValidationError) -> str:
    """``"max_width": true is not accepted (Input should be a valid integer)``, one per key."""
    parts = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(x) for x in err["loc"]) or "config"
        value = err.get("input")
        shown = "true" if value is True else "false" if value is False else repr(value)
        parts.append(f"{key!r} = {shown} is not accepted ({err['msg']})")
    return "; ".join(parts)
