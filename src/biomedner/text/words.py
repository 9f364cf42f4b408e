"""Word splitting with character offsets. Every span the library emits is built from these
offsets, so they always index the caller's original string.

``whitespace`` is the reference library's regex (its name there, although it splits punctuation
too); results are identical to ``gliner`` only with it. ``biomedical`` also breaks at hyphens and
underscores, so a gene inside a compound ("IL-2" in "IL-2-dependent") is reachable as a span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from biomedner.config import WordSplitterType

_PATTERNS: dict[str, re.Pattern[str]] = {
    "whitespace": re.compile(r"\w+(?:[-_]\w+)*|\S"),
    # [^\W_] is \w without the underscore: letters and digits only, so "_" and "-" stand alone
    "biomedical": re.compile(r"[^\W_]+|\S"),
}


@dataclass(frozen=True, slots=True)
class Words:
    """The words of one text: ``text[starts[i]:ends[i]]`` is word ``i``."""

    tokens: list[str]
    starts: list[int]
    ends: list[int]

    def __len__(self) -> int:
        return len(self.tokens)


class WordSplitter:
    """Splits text into words with character offsets."""

    def __init__(self, kind: WordSplitterType = "whitespace") -> None:
        if kind not in _PATTERNS:
            raise ValueError(f"unknown word splitter {kind!r}; choose one of {sorted(_PATTERNS)}")
        self.kind = kind
        self._pattern = _PATTERNS[kind]

    def __call__(self, text: str) -> Words:
        tokens: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for match in self._pattern.finditer(text):
            tokens.append(match.group())
            starts.append(match.start())
            ends.append(match.end())
        return Words(tokens, starts, ends)
