"""ServeSettings: everything ``biomedner serve`` can be told, checked before the model loads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Precision = Literal["fp32", "bf16", "fp16"]

API_KEY_ENV = "BIOMEDNER_API_KEY"


class ServeSettings(BaseModel):
    """Limits, batching and access settings of one server. Every limit is named after the CLI
    option that sets it, so an error message can tell the caller what was exceeded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: int = Field(
        default=2_000_000, gt=0, description="largest request body, in bytes (--max-body-bytes)"
    )
    max_texts: int = Field(
        default=64, gt=0, description="texts or documents per request (--max-texts)"
    )
    max_text_chars: int = Field(
        default=100_000, gt=0, description="characters per text or document (--max-text-chars)"
    )
    max_labels: int = Field(default=64, gt=0, description="labels per request (--max-labels)")
    max_batch_texts: int = Field(
        default=32, gt=0, description="texts the worker runs together at most (--max-batch-texts)"
    )
    max_wait_ms: float = Field(
        default=5.0, ge=0.0, description="how long a batch waits for more requests (--max-wait-ms)"
    )
    label_cache_size: int = Field(
        default=256, ge=0, description="bi-encoder label sets kept encoded (--label-cache-size)"
    )
    precision: Precision = "fp32"
    api_key: str | None = Field(default=None, description="required key; None lets anyone in")
