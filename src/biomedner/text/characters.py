"""The one rule for characters no text may hold: a lone surrogate (``"\\ud800"``, which JSON and
Python strings allow) is no Unicode character, so no tokenizer or output file takes it. The
library and the command line refuse it with the same words."""

from __future__ import annotations

from biomedner.errors import InputError


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in ``text`` said for an error message ("a lone surrogate U+D800
    at character 2, which is not valid Unicode"), or None where ``text`` is valid Unicode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"a lone surrogate U+{ord(text[exc.start]):04X} at character {exc.start}, "
            "which is not valid Unicode"
        )
    return None


def check_characters(text: str, what: str) -> None:
    """InputError naming ``what`` if ``text`` holds a lone surrogate."""
    problem = lone_surrogate(text)
    if problem is not None:
        raise InputError(f"{what} holds {problem}")
