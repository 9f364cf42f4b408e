"""Versioned prompt templates for the teacher/student annotator.

A prompt version is a folder here (``ner_v1/``) holding ``system.md`` (the system message),
``user.jinja`` (the user turn; variables ``text`` and ``candidates``) and ``demos.json`` (few-shot
demonstrations, each ``{"text", "entities": [{"text", "type"}]}``, shown as earlier user/assistant
turns). Editing a prompt means adding a new version: outputs and caches are keyed by the version
*and* a digest of these files, so an edited prompt can never reuse stale cached answers.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from biomedner.errors import ConfigError

if TYPE_CHECKING:
    import jinja2

ENTITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "type": {"type": "string"}},
                "required": ["text", "type"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["entities"],
    "additionalProperties": False,
}


@functools.lru_cache(maxsize=16)
def _compile(template: str) -> jinja2.Template:
    import jinja2

    # plain text, not HTML: no autoescaping; a missing variable is an error, not ""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}
    return env.from_string(template)


def available_prompts() -> list[str]:
    root = resources.files(__name__)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "system.md").is_file())


def answer_json(entities: list[dict[str, str]]) -> str:
    """The exact assistant answer format used in demonstrations and SFT targets."""
    return json.dumps(
        {"entities": [{"text": e["text"], "type": e["type"]} for e in entities]},
        ensure_ascii=False,
    )


@dataclass(frozen=True)
class PromptTemplate:
    version: str
    system: str
    user_template: str
    demos: tuple[dict[str, Any], ...]

    @property
    def digest(self) -> str:
        blob = json.dumps([self.system, self.user_template, list(self.demos)], sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    @property
    def prompt_id(self) -> str:
        return f"{self.version}@{self.digest}"

    def render_user(self, text: str, candidates: list[str] | None = None) -> str:
        return _compile(self.user_template).render(text=text, candidates=candidates or [])

    def messages(
        self,
        text: str,
        few_shot: bool = True,
        candidate_fn: Callable[[str], list[str]] | None = None,
    ) -> list[dict[str, str]]:
        """Chat messages: system, then (optionally) the demonstrations as user/assistant pairs, then
        the user turn for ``text``. ``candidate_fn`` adds candidate phrases to every user turn
        (demonstrations included, so the model sees how hints relate to answers)."""
        out = [{"role": "system", "content": self.system}]
        if few_shot:
            for demo in self.demos:
                hints = candidate_fn(demo["text"]) if candidate_fn else None
                out.append({"role": "user", "content": self.render_user(demo["text"], hints)})
                out.append({"role": "assistant", "content": answer_json(demo["entities"])})
        hints = candidate_fn(text) if candidate_fn else None
        out.append({"role": "user", "content": self.render_user(text, hints)})
        return out


def load_prompt(version: str = "ner_v1") -> PromptTemplate:
    root = resources.files(__name__) / version
    if not (root / "system.md").is_file():
        raise ConfigError(
            f"unknown prompt version {version!r}; available: {', '.join(available_prompts())}"
        )
    demos = json.loads((root / "demos.json").read_text(encoding="utf-8"))
    return PromptTemplate(
        version=version,
        system=(root / "system.md").read_text(encoding="utf-8").strip(),
        user_template=(root / "user.jinja").read_text(encoding="utf-8"),
        demos=tuple(demos),
    )
