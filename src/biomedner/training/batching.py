"""Length-bucketed, weighted, resumable micro-batch streams.

Each source is read in epochs. An epoch is a seeded permutation of the source's examples, cut
into pools of ``bucket_batches * batch_size`` examples; each pool is sorted by length and cut
into batches, and the batches of an epoch are shuffled, so a batch holds examples of similar
length (little padding) while the order stays random. Every micro-batch comes from one source,
chosen by the stage's mixing weights with a generator seeded by (seed, stage, micro-batch index).

The whole position is ``{micro-batch index, per-source (epoch, batch)}``: small, saved in every
checkpoint, and enough to rebuild the exact same stream on resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from biomedner.training.examples import Example


def _rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng([int(k) & 0xFFFFFFFF for k in keys])


def epoch_batches(
    lengths: Sequence[int], batch_size: int, bucket_batches: int, seed: int, epoch: int
) -> list[list[int]]:
    rng = _rng(seed, 7919, epoch)
    order = rng.permutation(len(lengths))
    pool = batch_size * bucket_batches
    batches: list[list[int]] = []
    for lo in range(0, len(order), pool):
        chunk = order[lo : lo + pool]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


@dataclass
class SourceCursor:
    epoch: int = 0
    batch: int = 0


@dataclass
class StageStream:
    """Micro-batches of examples for one stage, mixing ``sources`` by ``weights``."""

    sources: list[list[Example]]
    weights: list[float]
    batch_size: int
    bucket_batches: int
    seed: int
    stage: int
    micro: int = 0
    cursors: list[SourceCursor] = field(default_factory=list)
    _cache: dict[int, tuple[int, list[list[int]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.cursors:
            self.cursors = [SourceCursor() for _ in self.sources]
        w = np.asarray(self.weights, dtype=np.float64)
        self._p = w / w.sum()
        self._lengths = [[ex.num_tokens for ex in src] for src in self.sources]

    def _batches(self, s: int, epoch: int) -> list[list[int]]:
        cached = self._cache.get(s)
        if cached is None or cached[0] != epoch:
            cached = (
                epoch,
                epoch_batches(
                    self._lengths[s],
                    self.batch_size,
                    self.bucket_batches,
                    self.seed * 1000003 + self.stage * 101 + s,
                    epoch,
                ),
            )
            self._cache[s] = cached
        return cached[1]

    def next(self) -> tuple[int, list[Example]]:
        """(source index, examples) of the next micro-batch."""
        choice = _rng(self.seed, 104729, self.stage, self.micro)
        s = int(choice.choice(len(self.sources), p=self._p)) if len(self.sources) > 1 else 0
        cur = self.cursors[s]
        batches = self._batches(s, cur.epoch)
        if cur.batch >= len(batches):
            cur.epoch += 1
            cur.batch = 0
            batches = self._batches(s, cur.epoch)
        ids = batches[cur.batch]
        cur.batch += 1
        self.micro += 1
        return s, [self.sources[s][i] for i in ids]

    def state_dict(self) -> dict:
        return {"micro": self.micro, "cursors": [[c.epoch, c.batch] for c in self.cursors]}

    def load_state_dict(self, state: dict) -> None:
        if len(state["cursors"]) != len(self.sources):
            raise ValueError(
                f"checkpoint has {len(state['cursors'])} sources, this stage {len(self.sources)}"
            )
        self.micro = int(state["micro"])
        self.cursors = [SourceCursor(int(e), int(b)) for e, b in state["cursors"]]
