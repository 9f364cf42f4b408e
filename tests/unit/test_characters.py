"""The lone-surrogate rule (``text/characters.py``) that the library and the command line share:
it names the first bad character and its offset, and passes every real character."""

from __future__ import annotations

import pytest

from biomedner.errors import InputError
from biomedner.text.characters import check_characters, lone_surrogate


@pytest.mark.parametrize(
    ("text", "code", "offset"),
    [("\ud800", "D800", 0), ("a \udfff b \ud800", "DFFF", 2), ("🧬 \udbff", "DBFF", 2)],
)
def test_the_first_lone_surrogate_is_named_with_its_offset(text, code, offset):
    expected = f"a lone surrogate U+{code} at character {offset}, which is not valid Unicode"
    assert lone_surrogate(text) == expected
    with pytest.raises(InputError) as info:
        check_characters(text, "text #4")
    assert str(info.value) == f"text #4 holds {expected}"


@pytest.mark.parametrize("text", ["", "TNF-α in CD4⁺ cells", "🧬 gene 基因", "\U0010ffff"])
def test_valid_unicode_passes(text):
    assert lone_surrogate(text) is None
    check_characters(text, "text #0")
