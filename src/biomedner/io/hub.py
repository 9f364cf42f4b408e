"""Resolve a model reference to a local directory: a path, the local HF cache, or the hub."""

from __future__ import annotations

from pathlib import Path

from biomedner.errors import CheckpointError, HubUnavailableError

_CHECKPOINT_PATTERNS = [
    "gliner_config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "*.json",
    "*.model",
    "*.txt",
    "labels_tokenizer/*",
]
_TOKENIZER_PATTERNS = ["*.json", "*.model", "*.txt"]

OFFLINE_HINT = (
    "Pass a local checkpoint directory instead (for example --model ./my-model); the README's "
    "'Offline use' section shows how to build one from the MiniLM encoder package."
)


def resolve_model_dir(ref: str | Path, *, tokenizer_only: bool = False) -> Path:
    """A local directory holding ``ref``. Local paths are used as they are; anything else is a
    hub id, looked up in the local cache first and downloaded otherwise."""
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise CheckpointError(
                f"{path} is a file; a model is a directory (gliner_config.json, ...)"
            )
        return path
    ref = str(ref)
    if ref.startswith((".", "/", "~")) or ref.count("/") > 1:
        raise CheckpointError(f"model directory {ref} does not exist")
    from huggingface_hub import snapshot_download

    patterns = _TOKENIZER_PATTERNS if tokenizer_only else _CHECKPOINT_PATTERNS
    try:
        return Path(snapshot_download(ref, allow_patterns=patterns, local_files_only=True))
    except Exception:
        pass
    try:
        return Path(snapshot_download(ref, allow_patterns=patterns))
    except Exception as exc:
        name = type(exc).__name__
        if "RepositoryNotFound" in name or "RevisionNotFound" in name:
            raise CheckpointError(f"no model {ref!r} on the hub ({name}). {OFFLINE_HINT}") from exc
        raise HubUnavailableError(
            f"could not reach the model hub to fetch {ref!r} and it is not in the local cache "
            f"({name}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}). {OFFLINE_HINT}"
        ) from exc
