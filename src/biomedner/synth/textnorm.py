"""Text normalisation shared by deduplication and decontamination: two texts that differ only in
case, punctuation, whitespace or Unicode compatibility forms normalise to the same word list."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def norm_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).split()


def fingerprint(text: str) -> str:
    """A hash of the normalised word sequence: equal for texts equal up to case/punctuation/space."""
    return hashlib.sha1(" ".join(norm_words(text)).encode("utf-8")).hexdigest()
