"""Decoding: span scores -> non-conflicting word spans. Pure functions, no model needed.

Semantics are the reference library's: a candidate is a (start word, width, label) cell whose
sigmoid score is strictly above the threshold and whose span ends inside the text; candidates are
visited by descending score (ties keep enumeration order: start, then width, then label) and
accepted unless they conflict with an already accepted span; the result is sorted by start.

Conflicts, by mode:
- ``flat``: any overlap; identical boundaries conflict too (one label per span).
- ``nested``: partial overlap only (one span fully inside another is allowed); identical
  boundaries conflict.
- ``multi_label``: as ``flat``, but the same boundaries may carry several labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from biomedner.errors import InputError
from biomedner.types import DECODE_MODES, DecodeMode

if TYPE_CHECKING:  # the ONNX backend decodes numpy scores without torch
    import torch


@dataclass(frozen=True, slots=True)
class Candidates:
    """Scored span candidates of one text, in word indices; ``stops`` are exclusive."""

    starts: np.ndarray  # [N] int64
    stops: np.ndarray  # [N] int64
    labels: np.ndarray  # [N] int64, index into the label list
    scores: np.ndarray  # [N] float32 probabilities

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    @staticmethod
    def empty() -> Candidates:
        z = np.zeros(0, dtype=np.int64)
        return Candidates(z, z.copy(), z.copy(), np.zeros(0, dtype=np.float32))

    @staticmethod
    def concat(parts: Sequence[Candidates]) -> Candidates:
        if not parts:
            return Candidates.empty()
        return Candidates(
            np.concatenate([p.starts for p in parts]),
            np.concatenate([p.stops for p in parts]),
            np.concatenate([p.labels for p in parts]),
            np.concatenate([p.scores for p in parts]),
        )

    def select(self, keep: np.ndarray) -> Candidates:
        return Candidates(self.starts[keep], self.stops[keep], self.labels[keep], self.scores[keep])


def check_mode(mode: str) -> DecodeMode:
    if mode not in DECODE_MODES:
        raise InputError(f"unknown decoding mode {mode!r}; choose one of {', '.join(DECODE_MODES)}")
    return mode  # type: ignore[return-value]


def check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise InputError(f"threshold must be a number in [0, 1), got {threshold!r}")
    if not 0.0 <= float(threshold) < 1.0:
        raise InputError(f"threshold must lie in [0, 1), got {threshold}")
    return float(threshold)


def find_candidates(
    probs: torch.Tensor,
    num_words: Sequence[int],
    threshold: float,
    num_labels: Sequence[int] | None = None,
    best_label_only: bool = False,
) -> list[Candidates]:
    """Cells above ``threshold`` of a ``[B, W, K, C]`` probability tensor, one list per row.

    Row ``b`` has ``num_words[b]`` real words and, if given, ``num_labels[b]`` real labels; cells
    past either are padding and never become candidates. Only the cells above the threshold
    leave the tensor, so the cost after the comparison grows with the number of candidates.

    ``best_label_only`` keeps, per span, only its highest-scoring label (the first on ties, as
    the enumeration order would). ``resolve`` gives the same result from that subset in the
    ``flat`` and ``nested`` modes, where identical boundaries conflict, so the reduction is
    exact there and cuts the candidates up to C-fold before they leave the tensor.
    """
    import torch

    if best_label_only:
        best, label = best_label_cells(probs, num_words, num_labels)
        return candidates_from_cells(best.cpu().numpy(), label.cpu().numpy(), threshold)
    span_ok, label_ok = _valid_cells(probs, num_words, num_labels)
    above = (probs > threshold) & span_ok[..., None]  # [B, W, K, C]
    if label_ok is not None:
        above &= label_ok
    b_idx, s_idx, k_idx, c_idx = (t.cpu().numpy() for t in torch.nonzero(above, as_tuple=True))
    scores = probs[above].float().cpu().numpy()
    return _split_rows(probs.size(0), b_idx, s_idx, k_idx, c_idx, scores)


def best_label_cells(
    probs: torch.Tensor, num_words: Sequence[int], num_labels: Sequence[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each span cell's best score and label (first on ties): ``[B, W, K]`` float32 and long.
    Padding cells score -1, so no threshold lets them through. Dense and small, so a GPU can
    hand it to the host without waiting (see ``candidates_from_cells``)."""
    span_ok, label_ok = _valid_cells(probs, num_words, num_labels)
    if label_ok is not None:
        probs = probs.masked_fill(~label_ok, -1.0)
    best, label = probs.float().max(dim=-1)
    return best.masked_fill_(~span_ok, -1.0), label


def candidates_from_cells(
    best: np.ndarray, label: np.ndarray, threshold: float
) -> list[Candidates]:
    """``best_label_cells`` output (as arrays) -> the cells above ``threshold``, one list per row.
    The comparison is made in float32, as torch makes it."""
    above = best > np.float32(threshold)
    b_idx, s_idx, k_idx = np.nonzero(above)
    return _split_rows(best.shape[0], b_idx, s_idx, k_idx, label[above], best[above])


def span_mask(
    num_words: Sequence[int], width: int, max_width: int, device: torch.device | None = None
) -> torch.Tensor:
    """[B, W, K]: True where span (start w, width k + 1) ends inside its row's words."""
    import torch

    lengths = torch.as_tensor(list(num_words), device=device)
    span_stop = torch.arange(width, device=device)[:, None] + torch.arange(max_width, device=device)
    return (span_stop + 1)[None] <= lengths[:, None, None]


def label_mask(
    num_labels: Sequence[int], classes: int, device: torch.device | None = None
) -> torch.Tensor:
    """[B, C]: True where label c is one of its row's labels."""
    import torch

    return (
        torch.arange(classes, device=device)[None]
        < torch.as_tensor(list(num_labels), device=device)[:, None]
    )


def _valid_cells(
    probs: torch.Tensor, num_words: Sequence[int], num_labels: Sequence[int] | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """[B, W, K] mask of spans that end inside their row; [B, 1, 1, C] mask of real labels."""
    _, width, max_width, classes = probs.shape
    span_ok = span_mask(num_words, width, max_width, probs.device)
    # checked on the host: no mask (and no pass over the scores) when every row has every label
    if num_labels is None or all(n >= classes for n in num_labels):
        return span_ok, None
    return span_ok, label_mask(num_labels, classes, probs.device)[:, None, None, :]


def find_candidates_numpy(
    probs: np.ndarray,
    num_words: Sequence[int],
    threshold: float,
    num_labels: Sequence[int] | None = None,
    best_label_only: bool = False,
) -> list[Candidates]:
    """:func:`find_candidates` on a numpy ``[B, W, K, C]`` float32 array (the ONNX backend)."""
    _, width, max_width, classes = probs.shape
    stops = np.arange(width)[:, None] + np.arange(max_width)[None, :] + 1  # [W, K]
    span_ok = stops[None] <= np.asarray(list(num_words))[:, None, None]  # [B, W, K]
    label_ok = None
    if num_labels is not None and not all(n >= classes for n in num_labels):
        label_ok = (np.arange(classes)[None] < np.asarray(list(num_labels))[:, None])[
            :, None, None, :
        ]
    if best_label_only:
        masked = probs if label_ok is None else np.where(label_ok, probs, np.float32(-1.0))
        label = masked.argmax(-1)
        best = np.take_along_axis(masked, label[..., None], -1)[..., 0].astype(np.float32)
        best[~span_ok] = -1.0
        return candidates_from_cells(best, label, threshold)
    above = (probs > np.float32(threshold)) & span_ok[..., None]
    if label_ok is not None:
        above &= label_ok
    b_idx, s_idx, k_idx, c_idx = np.nonzero(above)
    return _split_rows(probs.shape[0], b_idx, s_idx, k_idx, c_idx, probs[above])


def _split_rows(
    batch: int,
    b_idx: np.ndarray,
    s_idx: np.ndarray,
    k_idx: np.ndarray,
    c_idx: np.ndarray,
    scores: np.ndarray,
) -> list[Candidates]:
    out: list[Candidates] = []
    bounds = np.searchsorted(b_idx, np.arange(batch + 1))
    for b in range(batch):
        lo, hi = bounds[b], bounds[b + 1]
        starts = s_idx[lo:hi].astype(np.int64)
        out.append(
            Candidates(
                starts=starts,
                stops=starts + k_idx[lo:hi] + 1,
                labels=c_idx[lo:hi].astype(np.int64),
                scores=scores[lo:hi].astype(np.float32, copy=False),
            )
        )
    return out


def resolve(candidates: Candidates, mode: DecodeMode) -> Candidates:
    """Greedy conflict resolution (see module docstring); result sorted by start."""
    if len(candidates) == 0:
        return candidates
    order = np.argsort(-candidates.scores, kind="stable")
    starts = candidates.starts[order].tolist()
    stops = candidates.stops[order].tolist()
    accepted: list[int] = []
    if mode == "flat":
        # one label per word: an occupancy map answers "any overlap" with one C-level find,
        # and once every word is taken no later candidate can be accepted
        occupied = bytearray(max(stops))
        free = len(occupied)
        for i, (s, e) in enumerate(zip(starts, stops)):
            if occupied.find(1, s, e) == -1:
                occupied[s:e] = b"\x01" * (e - s)
                accepted.append(i)
                free -= e - s
                if free == 0:
                    break
    else:
        acc_s: list[int] = []
        acc_e: list[int] = []
        for i, (s, e) in enumerate(zip(starts, stops)):
            if _conflicts(s, e, acc_s, acc_e, mode):
                continue
            acc_s.append(s)
            acc_e.append(e)
            accepted.append(i)
    chosen = order[np.asarray(accepted, dtype=np.int64)]
    chosen = chosen[np.argsort(candidates.starts[chosen], kind="stable")]
    return candidates.select(chosen)


def _conflicts(s: int, e: int, acc_s: list[int], acc_e: list[int], mode: DecodeMode) -> bool:
    for a_s, a_e in zip(acc_s, acc_e):
        if s == a_s and e == a_e:
            if mode == "multi_label":
                continue
            return True
        overlap = s < a_e and a_s < e
        if not overlap:
            continue
        if mode == "nested" and ((a_s <= s and e <= a_e) or (s <= a_s and a_e <= e)):
            continue
        return True
    return False


def decode(
    probs: torch.Tensor,
    num_words: Sequence[int],
    threshold: float,
    mode: DecodeMode,
    num_labels: Sequence[int] | None = None,
) -> list[Candidates]:
    """``find_candidates`` then ``resolve`` for every row of a ``[B, W, K, C]`` tensor."""
    found = find_candidates(
        probs, num_words, threshold, num_labels, best_label_only=mode != "multi_label"
    )
    return [resolve(c, mode) for c in found]
