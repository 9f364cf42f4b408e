"""Tolerant parsing of an annotator's reply into ``[{"text", "type"}]``.

Servers without constrained decoding return JSON wrapped in code fences, followed by chatter, or
cut off at the token limit. :func:`parse_reply` recovers what it safely can and names what it saw,
so the caller can count every kind:

==================  =========================================================================
kind                meaning
==================  =========================================================================
``json``            the reply is exactly the expected JSON object
``bare_list``       a JSON list of entities without the ``{"entities": ...}`` wrapper
``code_fence``      the JSON sat inside a Markdown code fence
``surrounding_text`` the JSON was preceded or followed by other text
``truncated``       the JSON was cut off; the complete entity objects before the cut are kept
``empty``           failure: nothing but whitespace
``invalid_json``    failure: no JSON value could be recovered
``wrong_schema``    failure: JSON, but not an object with an ``entities`` list (or a list)
``truncated_empty`` failure: cut off before a single complete entity
==================  =========================================================================

Individual entity items that are not ``{"text": str, "type": str}`` objects are dropped and
counted in ``invalid_items``; extra keys on an item are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

SUCCESS_KINDS = ("json", "bare_list", "code_fence", "surrounding_text", "truncated")
FAILURE_KINDS = ("empty", "invalid_json", "wrong_schema", "truncated_empty")

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_DECODER = json.JSONDecoder()


@dataclass
class ParsedReply:
    kind: str
    entities: list[dict[str, str]] = field(default_factory=list)
    invalid_items: int = 0

    @property
    def ok(self) -> bool:
        return self.kind in SUCCESS_KINDS


def _clean_items(items: list[Any]) -> tuple[list[dict[str, str]], int]:
    out: list[dict[str, str]] = []
    bad = 0
    for item in items:
        if (
            isinstance(item, dict)
            and isinstance(item.get("text"), str)
            and isinstance(item.get("type"), str)
            and item["text"].strip()
            and item["type"].strip()
        ):
            out.append({"text": item["text"], "type": item["type"]})
        else:
            bad += 1
    return out, bad


def _from_value(value: Any, kind: str) -> ParsedReply:
    if isinstance(value, dict) and isinstance(value.get("entities"), list):
        items, bad = _clean_items(value["entities"])
        return ParsedReply(kind, items, bad)
    if isinstance(value, list):
        items, bad = _clean_items(value)
        return ParsedReply("bare_list" if kind == "json" else kind, items, bad)
    return ParsedReply("wrong_schema")


def _embedded_answer(text: str) -> ParsedReply | None:
    """The first JSON value inside ``text`` that looks like an answer: an object with an
    ``entities`` list, or a non-empty list of entity objects (so a "[1]" citation in a preamble
    is skipped)."""
    for m in re.finditer(r"[\[{]", text):
        try:
            value, _ = _DECODER.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("entities"), list):
            return _from_value(value, "surrounding_text")
        if isinstance(value, list) and value:
            parsed = _from_value(value, "surrounding_text")
            if parsed.invalid_items == 0:
                return parsed
    return None


def _salvage_truncated(text: str) -> list[Any] | None:
    """Complete items of an ``entities`` array (or a bare array) that was cut off mid-way; None
    when there is no array to salvage from."""
    m = re.search(r'"entities"\s*:\s*\[', text)
    if m is not None:
        pos = m.end()
    else:
        start = text.find("[")
        if start < 0:
            return None
        pos = start + 1
    items: list[Any] = []
    # each iteration consumes one item or returns, so the loop is bounded by len(text)
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return items
        try:
            item, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            return items
        items.append(item)


def parse_reply(content: str | None, finish_reason: str | None = None) -> ParsedReply:
    """Parse one reply. ``finish_reason == "length"`` (the server stopped at its token limit)
    only affects how an unrecoverable reply is named."""
    text = (content or "").strip()
    if not text:
        return ParsedReply("empty")
    try:
        return _from_value(json.loads(text), "json")
    except json.JSONDecodeError:
        pass
    fence = _FENCE.search(text)
    closed_fence = fence is not None and fence.group(0).rstrip().endswith("```")
    if fence is not None and closed_fence:
        try:
            return _from_value(json.loads(fence.group(1).strip()), "code_fence")
        except json.JSONDecodeError:
            pass
    embedded = _embedded_answer(text)
    if embedded is not None:
        return embedded
    # No complete value: keep the complete entities before the cut, if any.
    body = fence.group(1) if fence is not None else text
    items = _salvage_truncated(body)
    if items is None:
        return ParsedReply("invalid_json")
    entities, bad = _clean_items(items)
    if entities:
        return ParsedReply("truncated", entities, bad)
    if finish_reason == "length" or '"entities"' in body:
        return ParsedReply("truncated_empty", [], bad)
    return ParsedReply("invalid_json", [], bad)
