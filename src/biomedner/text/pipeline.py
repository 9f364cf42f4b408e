"""The one text pipeline: text -> words -> windows -> label groups and prompt -> encoded rows.

Built once per model from its config and tokenizer(s). Training (``training/examples.py``,
``training/sampling.py``) and inference (``inference/predictor.py``) both call it, so every rule
about what the encoder sees exists once:

- words come from the model's splitter; words without sub-tokens are dropped (``text/align.py``);
- a label costs its sub-tokens plus its ``<<ENT>>`` marker, a prompt adds ``<<SEP>>``;
- a window holds at most ``max_len`` words and, for encoders with absolute positions, what fits
  next to the special tokens and the prompt; windows overlap by ``2 x max_width`` words
  (``text/chunk.py``);
- a uni-encoder reads its labels from the prompt, a bi-encoder has no prompt and encodes its labels
  with the label tokenizer (truncation refused, see :meth:`label_tokens`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from biomedner.config import ModelConfig
from biomedner.errors import CheckpointError, InputError
from biomedner.logging import get_logger
from biomedner.text.align import drop_words_without_tokens
from biomedner.text.chunk import window_ranges
from biomedner.text.encoding import (
    EncodedRow,
    TokenizerInfo,
    collate,
    collate_rows,
    encode_row,
    tokenize_words,
    word_token_counts,
)
from biomedner.text.prompt import prompt_words
from biomedner.text.words import Words, WordSplitter

if TYPE_CHECKING:  # the ONNX backend prepares numpy rows without torch
    import torch

    from biomedner.modeling.batch import EncodedBatch

logger = get_logger(__name__)


@dataclass(frozen=True)
class LabelGroup:
    """A slice of one text's label list that fits one prompt; ``offset`` maps its local label
    indices back to the full list."""

    labels: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class Prompt:
    """A label group's prompt words (none for the bi-encoder) and their sub-token count."""

    group: LabelGroup
    words: list[str]
    num_tokens: int


@dataclass
class Window:
    """Words ``[lo, hi)`` of text ``text`` under one prompt; ``num_tokens`` counts both."""

    text: int
    prompt: Prompt
    lo: int
    hi: int
    num_tokens: int

    @property
    def group(self) -> LabelGroup:
        return self.prompt.group


@dataclass
class Prepared:
    """Everything host-side for a list of texts: their words, their windows, each window's row."""

    words: list[Words]
    windows: list[Window]
    rows: list[EncodedRow]


class TextPipeline:
    def __init__(
        self, config: ModelConfig, tokenizer: Any, labels_tokenizer: Any | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.labels_in_prompt = not config.is_bi_encoder
        if not self.labels_in_prompt and labels_tokenizer is None:
            raise CheckpointError("a bi-encoder needs its label tokenizer")
        self.splitter = WordSplitter(config.words_splitter_type)
        self.info = _tokenizer_info(config, tokenizer)
        self.max_words = config.max_len
        self.max_width = config.max_width
        self.max_tokens = config.max_input_tokens  # incl. special tokens; None if unlimited
        self.num_special_tokens = _num_special_tokens(tokenizer)
        self.ent_token = config.ent_token
        self.sep_token = config.sep_token
        self.max_label_tokens = config.max_label_tokens
        self._ent_cost, self._sep_cost = 0, 0
        if self.labels_in_prompt:
            costs = word_token_counts(tokenizer, [[config.ent_token, config.sep_token]])[0]
            self._ent_cost, self._sep_cost = (int(n) for n in costs)
        self._label_cost: dict[str, int] = {}

    # ------------------------------------------------------------------ words
    def token_counts(self, word_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Sub-tokens per word (no special tokens)."""
        return word_token_counts(self.tokenizer, word_lists)

    def words(self, texts: Sequence[str]) -> tuple[list[Words], list[np.ndarray], list[int]]:
        """Training path: each text's words, their sub-token counts, and how many words were
        dropped for having no sub-token."""
        split = [self.splitter(t) for t in texts]
        counts = self.token_counts([w.tokens for w in split])
        words, kept_counts, dropped = [], [], []
        for w, c in zip(split, counts):
            kept, c_kept = drop_words_without_tokens(w, c)
            words.append(kept)
            kept_counts.append(c_kept)
            dropped.append(len(w) - len(kept))
        return words, kept_counts, dropped

    # ------------------------------------------------------------------ labels and prompts
    def label_costs(self, labels: Sequence[str]) -> list[int]:
        """Prompt sub-tokens of each label: its own plus its ``<<ENT>>`` marker's."""
        missing = [l for l in dict.fromkeys(labels) if l not in self._label_cost]
        if missing:
            for label, n in zip(missing, self.token_counts([missing])[0].tolist()):
                self._label_cost[label] = int(n) + self._ent_cost
        return [self._label_cost[l] for l in labels]

    def prompt_tokens(self, labels: Sequence[str]) -> int:
        if not self.labels_in_prompt:
            return 0
        return sum(self.label_costs(labels)) + self._sep_cost

    def prompt(self, group: LabelGroup) -> Prompt:
        if not self.labels_in_prompt:
            return Prompt(group, [], 0)
        words = prompt_words(group.labels, self.ent_token, self.sep_token)
        return Prompt(group, words, self.prompt_tokens(group.labels))

    def label_groups(self, labels: Sequence[str]) -> list[LabelGroup]:
        """One group unless the prompt would take more than half of an absolute-position
        encoder's token limit; then consecutive groups that each fit (never a silent cut)."""
        if not self.labels_in_prompt or self.max_tokens is None:
            return [LabelGroup(tuple(labels), 0)]
        limit = self.max_tokens // 2
        groups: list[LabelGroup] = []
        start, used = 0, self._sep_cost
        for i, cost in enumerate(self.label_costs(labels)):
            if cost + self._sep_cost > limit:
                raise InputError(
                    f"label {labels[i]!r} needs {cost - self._ent_cost} sub-tokens, too many for "
                    "the encoder"
                )
            if used + cost > limit and i > start:
                groups.append(LabelGroup(tuple(labels[start:i]), start))
                start, used = i, self._sep_cost
            used += cost
        groups.append(LabelGroup(tuple(labels[start:]), start))
        if len(groups) > 1:
            logger.info(
                "%d labels do not fit one prompt of the %d-token encoder; running %d label groups",
                len(labels),
                self.max_tokens,
                len(groups),
            )
        return groups

    def prompts(self, label_lists: Sequence[Sequence[str]]) -> list[list[Prompt]]:
        """The prompts of each text's label groups, built once per distinct label list."""
        cache: dict[tuple[str, ...], list[Prompt]] = {}
        out = []
        for labels in label_lists:
            key = tuple(labels)
            if key not in cache:
                cache[key] = [self.prompt(g) for g in self.label_groups(labels)]
            out.append(cache[key])
        return out

    def label_tokens(self, labels: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Bi-encoder: label token ids and mask [C, L] for the label encoder. A label longer
        than the label encoder accepts is refused, never cut."""
        import torch

        ids, mask = self.label_token_arrays(labels)
        return torch.from_numpy(ids), torch.from_numpy(mask)

    def label_token_arrays(self, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`label_tokens` as int64 numpy arrays."""
        enc = self.labels_tokenizer(list(labels), padding="longest", return_tensors="np")
        ids = np.asarray(enc["input_ids"], dtype=np.int64)
        mask = np.asarray(enc["attention_mask"], dtype=np.int64)
        limit = self.max_label_tokens
        if limit is not None and ids.shape[1] > limit:
            lengths = mask.sum(1).tolist()
            i = max(range(len(lengths)), key=lengths.__getitem__)
            raise InputError(
                f"label {labels[i]!r} is {lengths[i]} tokens long; the label encoder takes at most "
                f"{limit}: shorten the label"
            )
        return ids, mask

    # ------------------------------------------------------------------ windows
    def token_budget(self, prompt_tokens: int) -> int | None:
        """Sub-tokens left for a window's words next to the special tokens and the prompt."""
        if self.max_tokens is None:
            return None
        return self.max_tokens - self.num_special_tokens - prompt_tokens

    def windows(self, counts: np.ndarray, prompt_tokens: int) -> list[tuple[int, int]]:
        return window_ranges(
            counts, self.max_words, self.token_budget(prompt_tokens), self.max_width
        )

    # ------------------------------------------------------------------ inference encoding
    def prepare(self, texts: Sequence[str], label_lists: Sequence[Sequence[str]]) -> Prepared:
        """Words, windows and encoded rows of ``texts`` under their label lists.

        Each text is tokenized once, with its first label group's prompt; a window that is the
        whole text under that group (the common case) reuses that row, and only the other
        windows are tokenized again, in one call."""
        prompts = self.prompts(label_lists)
        words, counts, text_rows = self._encode_texts(texts, [p[0] for p in prompts])
        windows = self._plan(words, counts, prompts)
        return Prepared(words, windows, self._window_rows(windows, words, text_rows))

    def _encode_texts(
        self, texts: Sequence[str], prompts: Sequence[Prompt]
    ) -> tuple[list[Words], list[np.ndarray], dict[int, EncodedRow]]:
        words = [self.splitter(t) for t in texts]
        filled = [i for i, w in enumerate(words) if len(w)]
        encoded = tokenize_words(
            self.tokenizer, [prompts[i].words + words[i].tokens for i in filled]
        )
        counts = [np.zeros(0, dtype=np.int64) for _ in texts]
        rows: dict[int, EncodedRow] = {}
        for i, (input_ids, word_ids) in zip(filled, encoded):
            prompt_len = len(prompts[i].words)
            in_text = word_ids >= prompt_len
            c = np.bincount(word_ids[in_text] - prompt_len, minlength=len(words[i]))
            words[i], counts[i] = drop_words_without_tokens(words[i], c)
            rows[i] = encode_row(
                input_ids, word_ids, prompt_len, len(prompts[i].group.labels), self.info
            )
        return words, counts, rows

    def _plan(
        self,
        words: Sequence[Words],
        counts: Sequence[np.ndarray],
        prompts: Sequence[Sequence[Prompt]],
    ) -> list[Window]:
        windows: list[Window] = []
        for t, (w, c, text_prompts) in enumerate(zip(words, counts, prompts)):
            if len(w) == 0:
                continue
            cumulative = np.concatenate([[0], np.cumsum(c)])
            for prompt in text_prompts:
                for lo, hi in self.windows(c, prompt.num_tokens):
                    tokens = int(cumulative[hi] - cumulative[lo]) + prompt.num_tokens
                    windows.append(Window(t, prompt, lo, hi, tokens))
        return windows

    def _window_rows(
        self,
        windows: Sequence[Window],
        words: Sequence[Words],
        text_rows: dict[int, EncodedRow],
    ) -> list[EncodedRow]:
        # with is_split_into_words a word's sub-tokens do not depend on its neighbours, so
        # dropping zero-token words left the others' tokens unchanged: the text row is reusable
        reuse = [w.lo == 0 and w.hi == len(words[w.text]) and w.group.offset == 0 for w in windows]
        others = [w for w, r in zip(windows, reuse) if not r]
        encoded = tokenize_words(
            self.tokenizer, [w.prompt.words + words[w.text].tokens[w.lo : w.hi] for w in others]
        )
        fresh = iter(
            [
                encode_row(ids, word_ids, len(w.prompt.words), len(w.group.labels), self.info)
                for w, (ids, word_ids) in zip(others, encoded)
            ]
        )
        return [text_rows[w.text] if r else next(fresh) for w, r in zip(windows, reuse)]

    def collate_rows(self, rows: Sequence[EncodedRow]) -> EncodedBatch:
        return collate_rows(rows, self.info)

    # ------------------------------------------------------------------ training encoding
    def collate_windows(
        self, word_lists: Sequence[Sequence[str]], label_lists: Sequence[Sequence[str]]
    ) -> EncodedBatch:
        """Training batch: each window's words under its label list (one shared list for a
        bi-encoder, whose label tokens travel in the batch)."""
        if not self.labels_in_prompt:
            batch = collate(
                self.tokenizer,
                [list(w) for w in word_lists],
                [0] * len(word_lists),
                [len(ls) for ls in label_lists],
                self.info,
            )
            batch.label_input_ids, batch.label_attention_mask = self.label_tokens(label_lists[0])
            return batch
        sequences, prompt_lengths = [], []
        for words, labels in zip(word_lists, label_lists):
            prompt = prompt_words(labels, self.ent_token, self.sep_token)
            sequences.append(prompt + list(words))
            prompt_lengths.append(len(prompt))
        return collate(
            self.tokenizer, sequences, prompt_lengths, [len(ls) for ls in label_lists], self.info
        )


def _num_special_tokens(tokenizer: Any) -> int:
    probe = tokenizer(["x"], is_split_into_words=True)["input_ids"]
    plain = tokenizer(["x"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    return len(probe) - len(plain)


def _tokenizer_info(config: ModelConfig, tokenizer: Any) -> TokenizerInfo:
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        raise CheckpointError("the tokenizer has no padding token, so batches cannot be padded")
    padding = {"pad_token_id": pad_id, "pad_left": tokenizer.padding_side == "left"}
    if config.is_bi_encoder:
        return TokenizerInfo(class_token_id=None, label_offset=0, **padding)
    ent_id = tokenizer.convert_tokens_to_ids(config.ent_token)
    unk = getattr(tokenizer, "unk_token_id", None)
    if ent_id is None or ent_id == unk:
        raise CheckpointError(f"the tokenizer does not know the prompt token {config.ent_token!r}")
    if config.class_token_index not in (-1, ent_id):
        raise CheckpointError(
            f"config class_token_index={config.class_token_index} but the tokenizer maps "
            f"{config.ent_token!r} to {ent_id}"
        )
    return TokenizerInfo(
        class_token_id=ent_id, label_offset=0 if config.embed_ent_token else 1, **padding
    )
