"""A bi-encoder's labels, encoded once and reused for every prediction call, and saved to a
file that another process (a server, a cluster worker) loads instead of re-encoding."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from biomedner.errors import InputError

FORMAT = "biomedner.label_set"
FORMAT_VERSION = "1"


@dataclass(frozen=True, eq=False)
class LabelSet:
    """Immutable: ``labels[i]``'s vector is ``vectors[i]`` (already through the label MLP).
    ``owner`` identifies the model that computed it; another model refuses it.
    ``fingerprint`` identifies the label encoder's weights and tokenizer, so a saved set is
    checked against the model that loads it; ``descriptions[i]``, when given, is the text that
    was encoded for ``labels[i]``."""

    labels: tuple[str, ...]
    vectors: Any  # [C, D]: a torch tensor, or a numpy array for the ONNX backend
    owner: int
    # a string, or a function giving it: hashing the label encoder costs a pass over its
    # weights, paid only when a set is saved or loaded
    fingerprint_of: str | Callable[[], str] = field(default="", repr=False)
    model_name: str = ""
    descriptions: tuple[str, ...] | None = None

    @property
    def fingerprint(self) -> str:
        return self.fingerprint_of() if callable(self.fingerprint_of) else self.fingerprint_of

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"LabelSet({len(self.labels)} labels: {list(self.labels[:5])}{'...' if len(self) > 5 else ''})"

    def save(self, path: str | Path) -> Path:
        """One safetensors file: the vectors, and in its header (JSON) the labels, their
        descriptions and the label encoder's fingerprint. Written atomically."""
        from safetensors.torch import save_file

        if not self.fingerprint:
            raise InputError("this LabelSet has no label-encoder fingerprint; encode it again")
        path = Path(path)
        metadata = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "labels": json.dumps(list(self.labels), ensure_ascii=False),
            "descriptions": json.dumps(
                None if self.descriptions is None else list(self.descriptions), ensure_ascii=False
            ),
            "fingerprint": self.fingerprint,
            "model": self.model_name,
        }
        import torch  # here only: the ONNX backend's label sets run without torch

        vectors = self.vectors.detach().to("cpu", torch.float32).contiguous()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        os.close(fd)
        try:
            save_file({"vectors": vectors}, tmp, metadata=metadata)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def read_label_set(path: str | Path) -> LabelSet:
    """A saved LabelSet, owned by no model yet (``NERModel.load_labels`` checks and adopts it)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(f"label set file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta: dict[str, Any] = f.metadata() or {}
            vectors = f.get_tensor("vectors") if "vectors" in f.keys() else None  # noqa: SIM118
    except Exception as exc:
        raise InputError(f"{path} is not a label set file ({type(exc).__name__}: {exc})") from None
    if meta.get("format") != FORMAT or vectors is None:
        raise InputError(f"{path} is not a label set file written by LabelSet.save")
    if meta.get("version") != FORMAT_VERSION:
        raise InputError(f"{path}: label set format version {meta.get('version')!r} is unknown")
    labels = json.loads(meta["labels"])
    descriptions = json.loads(meta["descriptions"])
    if vectors.dim() != 2 or vectors.shape[0] != len(labels):
        raise InputError(
            f"{path}: {len(labels)} labels but vectors of shape {tuple(vectors.shape)}"
        )
    return LabelSet(
        tuple(labels),
        vectors,
        owner=0,
        fingerprint_of=meta["fingerprint"],
        model_name=meta.get("model", ""),
        descriptions=None if descriptions is None else tuple(descriptions),
    )


def label_encoder_fingerprint(module: torch.nn.Module, labels_tokenizer: Any) -> str:
    """sha256 over the label tower's tensors (label encoder and label MLP, names, shapes and
    float32 values) and the label tokenizer's class and vocabulary: equal exactly when two
    models turn the same label text into the same vector. Paths play no part, so a copy of a
    checkpoint on another machine has the same fingerprint."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        if not name.startswith(("label_encoder.", "label_mlp.")):
            continue
        digest.update(f"{name}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    digest.update(type(labels_tokenizer).__name__.encode())
    vocab = sorted(labels_tokenizer.get_vocab().items())
    digest.update(json.dumps(vocab, ensure_ascii=False).encode())
    return digest.hexdigest()[:32]
