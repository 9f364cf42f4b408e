"""spaCy pipeline component: ``nlp.add_pipe("biomedner", config={...})``.

    import spacy
    nlp = spacy.blank("en")
    nlp.add_pipe("biomedner", config={"model": "Ihor/gliner-biomed-bi-small-v1.0",
                                      "labels": ["disease", "chemical"]})
    doc = nlp("Cisplatin causes nephrotoxicity.")   # doc.ents, each with ._.biomedner_score

spaCy finds the factory through the ``spacy_factories`` entry point (``pip install
biomedner[spacy]``); importing this module registers it too. The pipeline's config.cfg stores
the settings and the model reference only, so ``nlp.to_disk`` never copies the weights: the
model is loaded again from ``model`` (a hub id, or a directory that must still exist) by
``spacy.load``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import filter_spans, minibatch

from biomedner.errors import InputError
from biomedner.labels import normalize_labels
from biomedner.logging import get_logger

if TYPE_CHECKING:
    from biomedner.model import NERModel

logger = get_logger(__name__)

FACTORY = "biomedner"
SCORE_EXTENSION = "biomedner_score"
STATS_EXTENSION = "biomedner_stats"
# Scores live in doc.user_data under (_SCORE_KEY, start_char, end_char, label): a span extension
# keyed by offsets alone could not hold two labels of the same span (multi_label mode), and flat
# tuple keys survive Doc.to_bytes / DocBin, which nested dicts with tuple keys do not.
_SCORE_KEY = "biomedner.score"

Alignment = Literal["expand", "contract", "strict"]


class SpacyComponentConfig(BaseModel):
    """The component's settings, exactly as they are written to the pipeline's config.cfg."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(min_length=1, description="hub id or checkpoint directory")
    labels: list[str] | dict[str, str] = Field(min_length=1)
    threshold: float = Field(default=0.5, ge=0.0, lt=1.0)
    mode: Literal["flat", "nested", "multi_label"] = "flat"
    batch_size: int = Field(default=8, ge=1)
    spans_key: str = Field(default="biomedner", min_length=1)
    alignment: Alignment = "expand"
    overwrite_ents: bool = False
    device: str = "cpu"

    @field_validator("labels")
    @classmethod
    def _no_blank_labels(cls, value: list[str] | dict[str, str]) -> list[str] | dict[str, str]:
        names = list(value)
        if any(not name.strip() for name in names):
            raise ValueError("labels must be non-empty strings")
        if len(set(names)) != len(names):
            raise ValueError("labels must not repeat")
        return value


@Language.factory(
    FACTORY,
    default_config={
        "labels": [],
        "threshold": 0.5,
        "mode": "flat",
        "batch_size": 8,
        "spans_key": "biomedner",
        "alignment": "expand",
        "overwrite_ents": False,
        "device": "cpu",
    },
    assigns=["doc.ents", "doc.spans", "span._.biomedner_score"],
)
def make_biomedner(
    nlp: Language,
    name: str,
    model: str,
    labels: Any,
    threshold: float,
    mode: str,
    batch_size: int,
    spans_key: str,
    alignment: str,
    overwrite_ents: bool,
    device: str,
) -> BiomednerComponent:
    """spaCy factory. Settings are checked before the model loads."""
    try:
        settings = SpacyComponentConfig(
            model=model,
            labels=labels,
            threshold=threshold,
            mode=mode,
            batch_size=batch_size,
            spans_key=spans_key,
            alignment=alignment,
            overwrite_ents=overwrite_ents,
            device=device,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InputError(f"biomedner component {name!r}: {problems}") from None
    from biomedner.model import NERModel

    ner = NERModel.from_pretrained(settings.model, device=settings.device)
    return BiomednerComponent(ner, settings, name=name)


class BiomednerComponent:
    """Adds biomedner's entities to spaCy docs.

    ``flat`` mode writes ``doc.ents``; ``nested`` and ``multi_label`` write
    ``doc.spans[spans_key]`` (the group's ``attrs["scores"]`` lists each span's score). Every
    span has its score in ``span._.biomedner_score``. Entity offsets are characters; a span
    whose edges fall inside spaCy tokens is aligned by ``alignment`` (``expand`` to the tokens
    it touches, ``contract`` to the tokens fully inside it, ``strict``: only exact token edges),
    and a span that cannot be aligned is left out and counted in ``doc._.biomedner_stats``
    (also summed in ``self.stats``)."""

    def __init__(self, model: NERModel, settings: SpacyComponentConfig, *, name: str = FACTORY):
        self.model = model
        self.settings = settings
        self.name = name
        self.stats = {"entities": 0, "unaligned": 0, "overlapping": 0}
        # checked now rather than on the first doc
        normalize_labels(settings.labels, reserved=(model.config.ent_token, model.config.sep_token))
        self._labels: Any = settings.labels
        if model.config.is_bi_encoder:
            # encoded once here, not on every batch of docs
            self._labels = model.encode_labels(settings.labels)
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc], batch_size=1)))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Docs in groups of ``batch_size`` (spaCy passes ``nlp.pipe``'s), one
        ``predict_batch`` call per group."""
        for docs in minibatch(stream, size=batch_size or self.settings.batch_size):
            predictions = self.model.predict_batch(
                [doc.text for doc in docs],
                self._labels,
                threshold=self.settings.threshold,
                mode=self.settings.mode,  # type: ignore[arg-type]
                batch_size=self.settings.batch_size,
            )
            for doc, entities in zip(docs, predictions):
                self._annotate(doc, entities)
                yield doc

    # ------------------------------------------------------------------ writing to the doc
    def _annotate(self, doc: Doc, entities: list[Any]) -> None:
        spans: list[Span] = []
        span_scores: list[float] = []
        unaligned = 0
        for ent in entities:
            span = doc.char_span(
                ent.start, ent.end, label=ent.label, alignment_mode=self.settings.alignment
            )
            if span is None or len(span) == 0:
                unaligned += 1
                continue
            spans.append(span)
            span_scores.append(float(ent.score))
            # multi_label may give one span several labels: each keeps its own score
            key = (_SCORE_KEY, span.start_char, span.end_char, ent.label)
            doc.user_data[key] = max(doc.user_data.get(key, 0.0), float(ent.score))
        overlapping = 0
        if self.settings.mode == "flat":
            overlapping = self._set_ents(doc, spans, span_scores)
        else:
            group = SpanGroup(doc, name=self.settings.spans_key, spans=spans)
            group.attrs["scores"] = span_scores
            doc.spans[self.settings.spans_key] = group
        stats = {"entities": len(spans) - overlapping, "unaligned": unaligned}
        stats["overlapping"] = overlapping
        doc._.set(STATS_EXTENSION, stats)
        for key, value in stats.items():
            self.stats[key] += value
        if unaligned:
            logger.debug(
                "%d of %d entities did not align to spaCy tokens (alignment=%s)",
                unaligned,
                len(entities),
                self.settings.alignment,
            )

    def _set_ents(self, doc: Doc, spans: list[Span], span_scores: list[float]) -> int:
        """Sets doc.ents; returns how many predicted spans were left out because they overlap
        a kept one (aligned spans can overlap after ``expand``) or a pre-existing entity
        (unless ``overwrite_ents``)."""
        # best score first, so an overlap keeps the more confident span
        ranked = [s for _, s in sorted(zip(span_scores, spans), key=lambda p: -p[0])]
        new = _non_overlapping(ranked)
        dropped = len(spans) - len(new)
        existing = list(doc.ents)
        if self.settings.overwrite_ents:
            kept_old = [e for e in existing if not any(_overlap(e, s) for s in new)]
            doc.ents = filter_spans([*new, *kept_old])
        else:
            kept_new = [s for s in new if not any(_overlap(e, s) for e in existing)]
            dropped += len(new) - len(kept_new)
            doc.ents = filter_spans([*existing, *kept_new])
        return dropped

    # ------------------------------------------------------------------ serialization
    # Settings live in config.cfg and the model is referenced there, so there is nothing else
    # to write; these exist so that nlp.to_disk / spacy.load do not look for other state.
    def to_disk(self, path: Any, *, exclude: Iterable[str] = ()) -> None:
        return None

    def from_disk(self, path: Any, *, exclude: Iterable[str] = ()) -> BiomednerComponent:
        return self


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _non_overlapping(ranked: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in ranked:
        if not any(_overlap(span, other) for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def _span_score(span: Span) -> float | None:
    return span.doc.user_data.get((_SCORE_KEY, span.start_char, span.end_char, span.label_))


def _register_extensions() -> None:
    if not Span.has_extension(SCORE_EXTENSION):
        Span.set_extension(SCORE_EXTENSION, getter=_span_score)
    if not Doc.has_extension(STATS_EXTENSION):
        Doc.set_extension(STATS_EXTENSION, default=None)
