"""Benchmark decontamination (and exclusion of texts already annotated).

A :class:`ContaminationIndex` holds reference texts in named sets (``"bc5cdr/test"``,
``"already_annotated"``). A candidate text is contaminated when, checked in this order:

1. ``pmid``: its PMID is a reference PMID;
2. ``fingerprint``: its normalised text (case, punctuation and whitespace ignored) equals a
   reference text's;
3. ``ngram``: it contains a long word sequence of one reference text, namely either at least
   ``min_shared_ngrams`` distinct normalised ``ngram``-word n-grams of that reference, or *all* of
   them when the reference is shorter (a benchmark sentence quoted inside an abstract). References
   with fewer than ``ngram`` but at least ``min_reference_words`` words count when their whole word
   sequence occurs. This catches the usual partial overlaps: a benchmark storing title + abstract
   while the corpus has the abstract alone, re-wrapped lines, a truncated copy, sentence-level
   benchmark files.

Why these defaults: 13-word n-grams (the size of GPT-3's contamination study) rarely repeat
between unrelated abstracts, but statistical boilerplate does: checking the 6,129 raw abstracts
of ``../shared/data/raw_text`` against all benchmark texts gave one false hit sharing 4 n-grams
("p less than 0.05, p less than 0.01 and ...") and one containing a whole 9-word CRAFT sentence
("differences were considered significant when p < 0.05"). Requiring 5 shared n-grams, and at
least 17 words for a short reference matched whole, removes both, while a copied abstract shares
hundreds of n-grams. Lower ``min_reference_words`` to catch short sentences of sentence-level
benchmarks at the price of such boilerplate hits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from biomedner.synth.textnorm import fingerprint, norm_words


class DecontamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_pmid: bool = True
    check_fingerprint: bool = True
    check_ngrams: bool = True
    ngram: int = Field(default=13, ge=4, le=50)
    min_shared_ngrams: int = Field(default=5, ge=1)
    # References shorter than ngram + min_shared_ngrams - 1 words cannot share 5 n-grams; they
    # count when their whole word sequence occurs, if they have at least this many words.
    min_reference_words: int = Field(default=17, ge=1)


@dataclass(frozen=True)
class Contamination:
    reason: str  # "pmid" | "fingerprint" | "ngram"
    reference_set: str
    reference_id: str | None
    shared_ngrams: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason, "reference_set": self.reference_set}
        if self.reference_id is not None:
            out["reference_id"] = self.reference_id
        if self.reason == "ngram":
            out["shared_ngrams"] = self.shared_ngrams
        return out


def _keys(words: list[str], n: int) -> np.ndarray:
    """Distinct 64-bit keys of the word n-grams. Python's hash() is salted per process, which is
    fine here: the index is built and queried in one process, and 64-bit keys make accidental
    collisions negligible."""
    if len(words) < n:
        return np.zeros(0, dtype=np.int64)
    keys = {hash(" ".join(words[i : i + n])) for i in range(len(words) - n + 1)}
    return np.fromiter(keys, dtype=np.int64, count=len(keys))


class _KeyTable:
    """n-gram keys of one length -> reference index. Keys are gathered in lists and frozen into a
    sorted array on first lookup: ~16 bytes per n-gram instead of ~100 in a dict."""

    def __init__(self) -> None:
        self._pending: list[tuple[np.ndarray, int]] = []
        self.keys = np.zeros(0, dtype=np.int64)
        self.refs = np.zeros(0, dtype=np.int64)

    def add(self, keys: np.ndarray, ref: int) -> None:
        self._pending.append((keys, ref))

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Reference index of every key found (one per distinct key)."""
        self._freeze()
        if not self.keys.size or not keys.size:
            return np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        return self.refs[pos[self.keys[pos] == keys]]

    def _freeze(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self.keys, *(k for k, _ in self._pending)])
        refs = np.concatenate(
            [self.refs, *(np.full(k.size, r, dtype=np.int64) for k, r in self._pending)]
        )
        self._pending = []
        # one entry per distinct n-gram, credited to the first reference that contains it
        order = np.lexsort((refs, keys))
        keys, refs = keys[order], refs[order]
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        self.keys, self.refs = keys[first], refs[first]


class ContaminationIndex:
    def __init__(self, config: DecontamConfig | None = None) -> None:
        self.config = config or DecontamConfig()
        self._refs: list[tuple[str, str | None]] = []  # (set name, reference id)
        self._ref_ngrams: list[int] = []  # how many distinct n-grams each reference has
        self._pmids: dict[str, int] = {}
        self._fingerprints: dict[str, int] = {}
        self._tables: dict[int, _KeyTable] = {}  # n-gram length -> table
        self.sizes: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._refs)

    def add(
        self, set_name: str, text: str, pmid: str | None = None, ref_id: str | None = None
    ) -> None:
        ref = len(self._refs)
        self._refs.append((set_name, ref_id if ref_id is not None else pmid))
        self.sizes[set_name] += 1
        n_keys = 0
        if pmid:
            self._pmids.setdefault(str(pmid).strip(), ref)
        if text.strip():
            self._fingerprints.setdefault(fingerprint(text), ref)
            if self.config.check_ngrams:
                words = norm_words(text)
                n = self.config.ngram
                if len(words) < n:
                    n = len(words)  # short reference: its whole word sequence is the key
                if n >= min(self.config.min_reference_words, self.config.ngram):
                    keys = _keys(words, n)
                    n_keys = int(keys.size)
                    self._tables.setdefault(n, _KeyTable()).add(keys, ref)
        self._ref_ngrams.append(n_keys)

    def add_many(
        self, set_name: str, items: Iterable[tuple[str | None, str] | tuple[str | None, str, str]]
    ) -> int:
        """Add ``(pmid | None, text)`` or ``(pmid | None, text, id)`` items under one set name."""
        n = 0
        for item in items:
            ref_id = item[2] if len(item) > 2 else None  # type: ignore[misc]
            self.add(set_name, item[1], item[0], ref_id)
            n += 1
        return n

    def check(self, text: str, pmid: str | None = None) -> Contamination | None:
        cfg = self.config
        if cfg.check_pmid and pmid and str(pmid).strip() in self._pmids:
            return self._hit("pmid", self._pmids[str(pmid).strip()])
        if cfg.check_fingerprint:
            ref = self._fingerprints.get(fingerprint(text))
            if ref is not None:
                return self._hit("fingerprint", ref)
        if cfg.check_ngrams and self._tables:
            words = norm_words(text)
            found = [table.lookup(_keys(words, n)) for n, table in self._tables.items()]
            refs, counts = np.unique(np.concatenate(found), return_counts=True)
            best: tuple[int, int] | None = None
            for ref, count in zip(refs.tolist(), counts.tolist(), strict=True):
                if count >= min(cfg.min_shared_ngrams, self._ref_ngrams[ref]) and (
                    best is None or count > best[1]
                ):
                    best = (ref, count)
            if best is not None:
                return self._hit("ngram", best[0], best[1])
        return None

    def _hit(self, reason: str, ref: int, shared: int = 0) -> Contamination:
        set_name, ref_id = self._refs[ref]
        return Contamination(reason, set_name, ref_id, shared)
