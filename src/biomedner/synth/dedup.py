"""Exact and near-duplicate removal (MinHash + LSH, numpy only).

Texts are compared as sets of normalised word ``shingle``-grams. Jaccard similarity is estimated
from ``num_perm`` MinHash values; LSH banding proposes candidate pairs, and a pair counts as a
duplicate when its estimated Jaccard similarity is at least ``threshold``. Duplicates form connected
components; the first text of each component (in input order) is kept, so listing a preferred
source first makes it win.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from biomedner.synth.textnorm import fingerprint, norm_words

_PRIME = np.uint64((1 << 61) - 1)
_ALL_PAIRS_MAX = 32


class DedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exact: bool = True
    near: bool = True
    threshold: float = Field(default=0.8, gt=0, le=1)
    num_perm: int = Field(default=128, ge=8, le=1024)
    shingle: int = Field(default=5, ge=1, le=20)
    seed: int = 1


@dataclass(frozen=True)
class Duplicate:
    index: int  # the dropped text
    kept: int  # the text kept in its place
    similarity: float  # 1.0 for exact (normalised) duplicates


def shingle_hashes(text: str, n: int) -> np.ndarray:
    words = norm_words(text)
    if not words:
        return np.zeros(0, dtype=np.uint64)
    grams = {" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}
    # crc32 is deterministic across processes (Python's hash() is salted), and 32-bit values keep
    # a*x + b below 2**64 in the permutation below.
    return np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64)


class MinHasher:
    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, 1 << 32, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64)
        self.num_perm = num_perm

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        if hashes.size == 0:
            return np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        # (k, 1) * (P,) -> (k, P); values < 2**64 since a, x < 2**32 and b < 2**32
        permuted = (hashes[:, None] * self.a[None, :] + self.b[None, :]) % _PRIME
        return permuted.min(axis=0)


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm whose S-curve midpoint (1/b)^(1/r) lies closest
    below ``threshold`` (erring toward recall; candidates are verified afterwards)."""
    best: tuple[float, int, int] | None = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        midpoint = (1.0 / bands) ** (1.0 / rows)
        gap = threshold - midpoint
        score = gap if gap >= 0 else 1.0 + (-gap)  # prefer midpoints at or below the threshold
        if best is None or score < best[0]:
            best = (score, bands, rows)
    assert best is not None
    return best[1], best[2]


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def find_duplicates(texts: Sequence[str], config: DedupConfig | None = None) -> list[Duplicate]:
    """Indices of texts to drop, each with the index kept in its place; input order decides."""
    config = config or DedupConfig()
    n = len(texts)
    parent = list(range(n))
    best_sim: dict[int, float] = {}

    def union(i: int, j: int, sim: float) -> None:
        ri, rj = _find(parent, i), _find(parent, j)
        if ri == rj:
            return
        keep, drop = (ri, rj) if ri < rj else (rj, ri)  # the earliest text survives
        parent[drop] = keep
        best_sim[drop] = sim

    alive = list(range(n))
    if config.exact:
        seen: dict[str, int] = {}
        alive = []
        for i, text in enumerate(texts):
            fp = fingerprint(text)
            if fp in seen:
                union(seen[fp], i, 1.0)
            else:
                seen[fp] = i
                alive.append(i)

    if config.near and len(alive) > 1:
        hasher = MinHasher(config.num_perm, config.seed)
        sigs = np.stack([hasher.signature(shingle_hashes(texts[i], config.shingle)) for i in alive])
        bands, rows = lsh_params(config.threshold, config.num_perm)
        candidates: set[tuple[int, int]] = set()
        for b in range(bands):
            buckets: dict[bytes, list[int]] = defaultdict(list)
            block = sigs[:, b * rows : (b + 1) * rows]
            for pos in range(len(alive)):
                buckets[block[pos].tobytes()].append(pos)
            for members in buckets.values():
                if len(members) > _ALL_PAIRS_MAX:
                    # huge buckets (boilerplate) get a star, keeping the pair count linear
                    candidates.update((members[0], other) for other in members[1:])
                elif len(members) > 1:
                    candidates.update(
                        (p, q) for k, p in enumerate(members) for q in members[k + 1 :]
                    )
        for p, q in sorted(candidates):
            sim = float(np.mean(sigs[p] == sigs[q]))
            if sim >= config.threshold:
                union(alive[p], alive[q], sim)

    out = []
    for i in range(n):
        root = _find(parent, i)
        if root != i:
            out.append(Duplicate(index=i, kept=root, similarity=round(best_sim.get(i, 1.0), 4)))
    return out
