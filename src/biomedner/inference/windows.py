"""The backend-free half of prediction: windows in, entities out.

Windows from ``text/pipeline.py`` are batched by length; a *scorer* (torch in
``inference/predictor.py``, onnxruntime in ``onnx/runtime.py``) turns each batch's rows into
candidates in window word and group label indices; those are shifted to document indices,
merged per text (``inference/merge.py``), decoded once per text (``decoding.py``) and mapped to
character offsets in the caller's string (``text/align.py``). Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from biomedner.decoding import Candidates, resolve
from biomedner.inference.merge import merge_text
from biomedner.logging import progress_enabled
from biomedner.text.align import char_span
from biomedner.text.encoding import EncodedRow
from biomedner.text.pipeline import TextPipeline, Window
from biomedner.text.words import Words
from biomedner.types import DecodeMode, Entity

# (the batch's windows, their encoded rows, whether every window is a whole text) -> candidates
Scorer = Callable[[Sequence[Window], Sequence[EncodedRow], bool], list[Candidates]]


def length_batches(windows: Sequence[Window], batch_size: int) -> list[list[int]]:
    """Window indices sorted by length, in batches, so padding stays small."""
    order = sorted(range(len(windows)), key=lambda i: windows[i].num_tokens)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def predict_with(
    score: Scorer,
    pipeline: TextPipeline,
    texts: Sequence[str],
    label_lists: Sequence[Sequence[str]],
    mode: DecodeMode,
    batch_size: int,
    progress: bool | None = None,
) -> list[list[Entity]]:
    """``progress``: a bar of windows on stderr (None: only when logging at INFO or DEBUG)."""
    prepared = pipeline.prepare(texts, label_lists)
    words, windows, rows = prepared.words, prepared.windows, prepared.rows
    parts: list[list[tuple[Candidates, int, int]]] = [[] for _ in texts]
    batches = length_batches(windows, batch_size)
    bar = None
    if (progress_enabled() if progress is None else progress) and len(batches) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(windows), desc="windows", unit="win", leave=False)
    for batch_ids in batches:
        chunk = [windows[i] for i in batch_ids]
        # one label per span suffices unless windows overlap: their merge keeps, per label,
        # the score from the window where the span sits farthest from an edge
        whole_texts = all(w.lo == 0 and w.hi == len(words[w.text]) for w in chunk)
        found = score(chunk, [rows[i] for i in batch_ids], whole_texts and mode != "multi_label")
        for w, cands in zip(chunk, found):
            shifted = Candidates(
                cands.starts + w.lo,
                cands.stops + w.lo,
                cands.labels + w.group.offset,
                cands.scores,
            )
            parts[w.text].append((shifted, w.lo, w.hi))
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    results: list[list[Entity]] = []
    for t, text in enumerate(texts):
        if not parts[t]:
            results.append([])
            continue
        merged = merge_text(parts[t], len(words[t]))
        chosen = resolve(merged, mode)
        results.append(_to_entities(text, words[t], label_lists[t], chosen))
    return results


def _to_entities(
    text: str, words: Words, labels: Sequence[str], chosen: Candidates
) -> list[Entity]:
    out = []
    for s, e, c, p in zip(
        chosen.starts.tolist(),
        chosen.stops.tolist(),
        chosen.labels.tolist(),
        chosen.scores.tolist(),
    ):
        start, end = char_span(words, s, e)
        out.append(Entity(start=start, end=end, text=text[start:end], label=labels[c], score=p))
    return out
