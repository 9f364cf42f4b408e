"""Tokenizer loading with the reference library's special-token settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from biomedner.errors import CheckpointError
from biomedner.io.hub import resolve_model_dir


def load_tokenizer(local_dir: Path | None, fallback_ref: str | None) -> Any:
    from transformers import AutoTokenizer

    source: Path
    if local_dir is not None and (local_dir / "tokenizer_config.json").is_file():
        source = local_dir
    else:
        if not fallback_ref:
            raise CheckpointError(f"no tokenizer in {local_dir} and no model name to fetch one")
        source = resolve_model_dir(fallback_ref, tokenizer_only=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source))
    except Exception as exc:
        raise CheckpointError(f"could not load the tokenizer in {source}: {exc}") from exc
    # transformers 5 stopped adding [CLS]/[SEP] for sentencepiece tokenizers unless asked;
    # the reference asks whenever the tokenizer defines them, and so must we
    if hasattr(tokenizer, "add_bos_token") and tokenizer.bos_token_id is not None:
        tokenizer.add_bos_token = True
    if hasattr(tokenizer, "add_eos_token") and tokenizer.eos_token_id is not None:
        tokenizer.add_eos_token = True
    _no_length_warning(tokenizer)
    return tokenizer


def _no_length_warning(tokenizer: Any) -> None:
    """transformers warns "Token indices sequence length is longer than the specified maximum
    ... will result in indexing errors" whenever a whole text or label list is tokenized. Here it
    is false: texts are cut into windows that fit the encoder and over-long labels are refused
    before they reach it. The warning is marked as already shown, the tokenizer's limit is kept."""
    shown = getattr(tokenizer, "deprecation_warnings", None)
    if isinstance(shown, dict):
        shown["sequence-length-is-longer-than-the-specified-maximum"] = True
