"""Request and response bodies of the REST API (they are also its OpenAPI schema).

Labels, thresholds and modes are typed loosely on purpose: the library checks them and its own
message goes back to the caller, so the service and the Python API explain a mistake the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from biomedner.types import Entity

AnnotateFormat = Literal["bioc-json", "pubtator"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictionOptions(_Body):
    labels: list[str] = Field(description="entity types in plain language, e.g. ['disease']")
    threshold: float = Field(default=0.5, description="keep spans scoring above this, in [0, 1)")
    mode: str = Field(default="flat", description="flat, nested or multi_label")


class EntitiesRequest(PredictionOptions):
    """Give ``text`` (one text) or ``texts`` (several); results come back in the same order."""

    text: str | None = None
    texts: list[str] | None = None

    @model_validator(mode="after")
    def _one_input(self) -> EntitiesRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' (a string) or 'texts' (a list of strings)")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class EntityOut(BaseModel):
    """A predicted entity: ``text == input[start:end]`` (character offsets, end exclusive)."""

    start: int
    end: int
    text: str
    label: str
    score: float

    @classmethod
    def from_entity(cls, entity: Entity) -> EntityOut:
        return cls(
            start=entity.start,
            end=entity.end,
            text=entity.text,
            label=entity.label,
            score=float(entity.score if entity.score is not None else 0.0),
        )


class TextResult(BaseModel):
    entities: list[EntityOut]


class EntitiesResponse(BaseModel):
    results: list[TextResult] = Field(description="one per input text, in input order")


class AnnotateRequest(PredictionOptions):
    """Documents in a corpus format; the same documents come back with predicted annotations
    (any annotations they carried are replaced). BioC JSON is a collection object (or a list of
    them, or that JSON as a string); PubTator is the file's text."""

    format: AnnotateFormat
    content: str | dict[str, Any] | list[Any]


class AnnotateResponse(BaseModel):
    format: AnnotateFormat
    content: str | dict[str, Any] = Field(description="BioC JSON collection, or PubTator text")
    documents: int
    entities: int
    notes: dict[str, int] = Field(
        default_factory=dict,
        description="what the format could not hold, e.g. scores_dropped for PubTator",
    )


class LimitsInfo(BaseModel):
    max_body_bytes: int
    max_texts: int
    max_text_chars: int
    max_labels: int


class BatchingInfo(BaseModel):
    max_batch_texts: int
    max_wait_ms: float
    label_cache_size: int


class ModelInfo(BaseModel):
    name: str
    architecture: str
    backbone: str
    label_encoder: str | None
    max_span_width: int = Field(description="longest entity, in words")
    window_words: int = Field(description="words per window; longer texts are windowed")
    encoder_max_tokens: int | None
    words_splitter: str
    device: str
    precision: str
    biomedner_version: str
    limits: LimitsInfo
    batching: BatchingInfo


class Status(BaseModel):
    status: str


class ErrorBody(BaseModel):
    detail: str
    request_id: str | None = None
