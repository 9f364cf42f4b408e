"""biomedner: open biomedical named entity recognition with GLiNER-style span models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biomedner.types import Entity

__version__ = "0.1.0"
__all__ = ["Entity", "NERModel", "__version__", "load"]

if TYPE_CHECKING:
    from biomedner.model import NERModel


def __getattr__(name: str) -> Any:
    # torch and transformers load only when the model is first asked for
    if name == "NERModel":
        from biomedner.model import NERModel

        return NERModel
    raise AttributeError(name)


def load(path_or_hub_id: str, **kwargs: Any) -> NERModel:
    from biomedner.model import NERModel

    return NERModel.from_pretrained(path_or_hub_id, **kwargs)
