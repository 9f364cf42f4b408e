"""Labels given as names or as ``{"name": "description"}``.

With a mapping, the model reads the *description* in place of the name (in the uni-encoder's
prompt, or through the bi-encoder's label encoder), and entities carry the *name*, which is
what gliner 0.2.29 does with such a mapping (``gliner/model.py``, ``_normalize_label_set``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from biomedner.errors import InputError
from biomedner.text.prompt import validate_labels

LabelSpec = Sequence[str] | Mapping[str, str]


@dataclass(frozen=True)
class NormalizedLabels:
    """``prompts[i]`` is what the model reads for the entity type named ``names[i]``."""

    prompts: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def has_descriptions(self) -> bool:
        return self.prompts != self.names

    def name_of(self) -> dict[str, str]:
        return dict(zip(self.prompts, self.names))


def normalize_labels(labels: LabelSpec, *, reserved: Sequence[str] = ()) -> NormalizedLabels:
    """Check a label list or name→description mapping. Names and descriptions must be
    non-empty and unique: two names sharing one description could not be told apart."""
    if not isinstance(labels, Mapping):
        names = tuple(validate_labels(labels, reserved=reserved))
        return NormalizedLabels(names, names)
    if not labels:
        raise InputError("labels is empty: give at least one entity type, e.g. {'disease': ...}")
    for name, description in labels.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"label name {name!r} must be a non-empty string")
        if not isinstance(description, str):
            raise InputError(
                f"the description of label {name!r} is {type(description).__name__}, "
                "expected a string"
            )
    owners: dict[str, str] = {}
    for name, description in labels.items():
        if description in owners:
            raise InputError(
                f"labels {owners[description]!r} and {name!r} have the same description "
                f"{description!r}; each description must be unique"
            )
        owners[description] = name
    prompts = validate_labels(list(labels.values()), reserved=reserved)
    return NormalizedLabels(tuple(prompts), tuple(labels.keys()))


def descriptions_to_prompts(labels: Any, n_texts: int) -> tuple[Any, list[dict[str, str]] | None]:
    """Replace every name→description mapping in ``labels`` (shared, or one entry per text) by
    its descriptions. Returns the labels the model reads and, when there was a mapping, one
    {description: name} map per text to rename the entities with (empty where no mapping)."""
    if isinstance(labels, Mapping):
        normalized = normalize_labels(labels)
        return list(normalized.prompts), [normalized.name_of()] * n_texts
    if (
        isinstance(labels, Sequence)
        and not isinstance(labels, str)
        and any(isinstance(item, Mapping) for item in labels)
    ):
        per_text: list[Any] = []
        renames: list[dict[str, str]] = []
        for item in labels:
            if isinstance(item, Mapping):
                normalized = normalize_labels(item)
                per_text.append(list(normalized.prompts))
                renames.append(normalized.name_of())
            else:
                per_text.append(item)
                renames.append({})
        return per_text, renames
    return labels, None
