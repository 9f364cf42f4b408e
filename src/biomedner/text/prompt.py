"""Label validation and the uni-encoder prompt ``<<ENT>> l1 <<ENT>> l2 ... <<SEP>>``.

Labels are used verbatim (no case folding or stripping) because the model was trained on the
exact strings; what is refused is refused loudly instead of silently de-duplicated or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from biomedner.errors import InputError
from biomedner.text.characters import check_characters


def validate_labels(labels: object, *, reserved: Sequence[str] = ()) -> list[str]:
    if isinstance(labels, str):
        raise InputError(
            f"labels must be a list of strings, got the single string {labels!r}; "
            f"write [{labels!r}] (or split a comma-separated list yourself)"
        )
    if not isinstance(labels, Sequence) or isinstance(labels, (bytes, bytearray)):
        raise InputError(f"labels must be a list of strings, got {type(labels).__name__}")
    if len(labels) == 0:
        raise InputError("labels is empty: give at least one entity type, e.g. ['disease']")
    out: list[str] = []
    seen: set[str] = set()
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise InputError(f"label #{i} is {type(label).__name__} {label!r}, expected a string")
        if not label.strip():
            raise InputError(f"label #{i} is empty or only whitespace")
        check_characters(label, f"label #{i}")
        for token in reserved:
            if token in label:
                raise InputError(f"label {label!r} contains the reserved prompt token {token!r}")
        if label in seen:
            raise InputError(f"label {label!r} is given twice; each label must be unique")
        seen.add(label)
        out.append(label)
    return out


def prompt_words(labels: Sequence[str], ent_token: str, sep_token: str) -> list[str]:
    words: list[str] = []
    for label in labels:
        words.append(ent_token)
        words.append(label)
    words.append(sep_token)
    return words
