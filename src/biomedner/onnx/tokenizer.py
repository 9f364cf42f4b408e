"""The exported tokenizer, read with the ``tokenizers`` library alone.

``transformers`` imports torch with its tokenizer classes, so the ONNX backend reads the
runtime tokenizer that export wrote (``tokenizer.json``: the very object transformers ran) and
answers the few calls the text pipeline makes, as transformers would answer them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class _Encoded:
    def __init__(self, encodings: list[Any], single: bool, arrays: dict[str, Any]):
        self.encodings = encodings
        self._single = single
        self._arrays = arrays

    def __getitem__(self, key: str) -> Any:
        return self._arrays[key]

    def word_ids(self, index: int = 0) -> list[int | None]:
        return self.encodings[index].word_ids


class JsonTokenizer:
    """A fast tokenizer from its ``tokenizer.json`` and the few attributes the pipeline reads."""

    def __init__(
        self,
        path: Path,
        *,
        pad_token_id: int | None,
        unk_token_id: int | None,
        padding_side: str = "right",
    ):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        # transformers resets both on every call unless asked: so does this
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.pad_token_id = pad_token_id
        self.unk_token_id = unk_token_id
        self.padding_side = padding_side

    def convert_tokens_to_ids(self, token: str) -> int | None:
        found = self._tokenizer.token_to_id(token)
        return self.unk_token_id if found is None else found

    def __call__(
        self,
        texts: Sequence[Any],
        *,
        is_split_into_words: bool = False,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        return_tensors: str | None = None,
        **_ignored: Any,
    ) -> _Encoded:
        # a list of words with is_split_into_words is one sequence, as in transformers
        single = is_split_into_words and (not texts or isinstance(texts[0], str))
        batch = [list(texts)] if single else [list(t) if is_split_into_words else t for t in texts]
        encodings = self._tokenizer.encode_batch(
            batch, is_pretokenized=is_split_into_words, add_special_tokens=add_special_tokens
        )
        ids = [e.ids for e in encodings]
        if padding:
            if return_tensors != "np":
                raise ValueError("padded output is built as numpy arrays only")
            width = max((len(row) for row in ids), default=0)
            input_ids = np.full((len(ids), width), self.pad_token_id, dtype=np.int64)
            mask = np.zeros((len(ids), width), dtype=np.int64)
            for i, row in enumerate(ids):
                cols = (
                    slice(width - len(row), width)
                    if self.padding_side == "left"
                    else slice(0, len(row))
                )
                input_ids[i, cols] = row
                mask[i, cols] = 1
            return _Encoded(encodings, single, {"input_ids": input_ids, "attention_mask": mask})
        if single:
            return _Encoded(encodings, single, {"input_ids": ids[0]})
        return _Encoded(encodings, single, {"input_ids": ids})
