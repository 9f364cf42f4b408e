"""The tensors one forward pass consumes. Built by ``biomedner.text.encoding``."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch


@dataclass
class EncodedBatch:
    """Shapes: B windows, T tokens, W words, C labels.

    ``word_index[b, w]`` is the token position of word ``w``'s first sub-token (0 where padded);
    ``label_index[b, c]`` is the token position of label ``c``'s ``<<ENT>>`` marker (uni-encoder
    only; empty for the bi-encoder, whose labels are encoded apart). Every architecture takes
    this one object (see ``modeling/registry.py``)."""

    input_ids: torch.Tensor  # [B, T] long
    attention_mask: torch.Tensor  # [B, T] long
    word_index: torch.Tensor  # [B, W] long
    word_mask: torch.Tensor  # [B, W] bool
    label_index: torch.Tensor  # [B, C] long
    label_mask: torch.Tensor  # [B, C] bool
    # bi-encoder labels, one of the two: vectors already encoded ([C, D] shared or [B, C, D]),
    # or label tokens [C, L] the model encodes in its forward pass (training)
    label_vectors: torch.Tensor | None = None
    label_input_ids: torch.Tensor | None = None
    label_attention_mask: torch.Tensor | None = None

    def read_positions(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every token position the span model reads, words first then labels: positions
        [B, W + C] and their mask (False at padding)."""
        return (
            torch.cat([self.word_index, self.label_index], dim=1),
            torch.cat([self.word_mask, self.label_mask], dim=1),
        )

    @property
    def num_words(self) -> list[int]:
        return self.word_mask.sum(-1).tolist()

    def to(self, device: torch.device | str) -> EncodedBatch:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return EncodedBatch(**{k: v if v is None else v.to(device) for k, v in moved.items()})
