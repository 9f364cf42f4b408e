"""Reading and writing the gliner checkpoint layout, with strict state-dict loading.

Layout: ``gliner_config.json``, ``model.safetensors`` (or a legacy ``pytorch_model.bin``, read
with ``weights_only=True``), the text tokenizer's files, and for bi-encoders the label tokenizer
in ``labels_tokenizer/``. State-dict keys on disk are the reference library's; inside biomedner
modules have their own names, mapped by ``KEY_MAP``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from biomedner.config import ModelConfig
from biomedner.errors import CheckpointError

if TYPE_CHECKING:  # torch loads with the weights: reading a config needs none of it
    import torch

# (name on disk, name in biomedner), by prefix
KEY_MAP: tuple[tuple[str, str], ...] = (
    ("token_rep_layer.bert_layer.model.", "encoder.backbone."),
    ("token_rep_layer.projection.", "encoder.projection."),
    ("token_rep_layer.labels_encoder.model.", "label_encoder.backbone."),
    ("token_rep_layer.labels_projection.", "label_encoder.projection."),
    ("rnn.lstm.", "word_lstm.lstm."),
    ("span_rep_layer.span_rep_layer.", "span_head."),
    ("prompt_rep_layer.", "label_mlp."),
)
# buffers that some transformers versions save and others do not; never learned
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")

CONFIG_FILE = "gliner_config.json"
SAFETENSORS_FILE = "model.safetensors"
PICKLE_FILE = "pytorch_model.bin"
LABELS_TOKENIZER_DIR = "labels_tokenizer"


def read_config(model_dir: Path) -> ModelConfig:
    path = model_dir / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{model_dir} is not a gliner-format checkpoint: {CONFIG_FILE} is missing"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object")
    return ModelConfig.from_gliner_dict(data, source=str(path))


def read_state_dict(model_dir: Path) -> dict[str, torch.Tensor]:
    """The state dict on disk, with keys renamed to biomedner's."""
    safetensors_path = model_dir / SAFETENSORS_FILE
    pickle_path = model_dir / PICKLE_FILE
    if safetensors_path.is_file():
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            raw = load_file(str(safetensors_path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{safetensors_path} is corrupt or truncated: {exc}") from exc
    elif pickle_path.is_file():
        try:
            import torch

            raw = torch.load(pickle_path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(
                f"{pickle_path} could not be read as plain tensors (weights_only=True): {exc}"
            ) from exc
    else:
        raise CheckpointError(
            f"{model_dir} has no weights: expected {SAFETENSORS_FILE} or {PICKLE_FILE}"
        )
    return {to_internal_key(k): v for k, v in raw.items() if not k.endswith(_IGNORED_SUFFIXES)}


def to_internal_key(key: str) -> str:
    key = key.removeprefix("_orig_mod.")
    for disk, ours in KEY_MAP:
        if key.startswith(disk):
            return ours + key[len(disk) :]
    return key


def to_disk_key(key: str) -> str:
    for disk, ours in KEY_MAP:
        if key.startswith(ours):
            return disk + key[len(ours) :]
    return key


def load_weights(
    module: torch.nn.Module, state: dict[str, torch.Tensor], *, strict: bool = True
) -> None:
    """Copy ``state`` into ``module``. With ``strict`` a missing, unexpected or misshapen tensor
    is an error that names the keys; without it, the mismatch is logged and loading goes on."""
    expected = {k: v for k, v in module.state_dict().items() if not k.endswith(_IGNORED_SUFFIXES)}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshapen = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(expected) & set(state)
        if state[k].shape != expected[k].shape
    )
    problems = []
    if missing:
        problems.append(
            f"{len(missing)} missing: {', '.join(map(to_disk_key, missing[:8]))}"
            + (" ..." if len(missing) > 8 else "")
        )
    if unexpected:
        problems.append(
            f"{len(unexpected)} unexpected: {', '.join(map(to_disk_key, unexpected[:8]))}"
            + (" ..." if len(unexpected) > 8 else "")
        )
    if misshapen:
        problems.append(f"{len(misshapen)} with wrong shape: {'; '.join(misshapen[:8])}")
    if problems and (strict or misshapen):
        raise CheckpointError(
            "the checkpoint does not match the model its config describes ("
            + "; ".join(problems)
            + ")"
            + ("; pass strict=False to load anyway" if strict and not misshapen else "")
        )
    if problems:
        from biomedner.logging import get_logger

        get_logger(__name__).warning("non-strict load: %s", "; ".join(problems))
    module.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)


def write_checkpoint(module: torch.nn.Module, config: ModelConfig, out_dir: Path) -> None:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        to_disk_key(k): v.detach().to("cpu").contiguous()
        for k, v in module.state_dict().items()
        if not k.endswith(_IGNORED_SUFFIXES)
    }
    # tied or shared tensors must be cloned for safetensors
    seen: dict[int, str] = {}
    for k, v in state.items():
        ptr = v.data_ptr()
        if ptr in seen:
            state[k] = v.clone()
        seen[ptr] = k
    from biomedner.io.atomic import atomic_path, write_text_atomic

    # weights first, config last: a directory whose config is new has its new weights too
    with atomic_path(out_dir / SAFETENSORS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt"})
    write_text_atomic(
        out_dir / CONFIG_FILE, json.dumps(config.to_gliner_dict(), indent=2, sort_keys=True) + "\n"
    )
