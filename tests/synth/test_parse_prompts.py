"""Tolerant reply parsing (fixtures modelled on real LLM failure modes) and prompt templates."""

from __future__ import annotations

import json

import pytest

from biomedner.errors import ConfigError
from biomedner.synth.candidates import candidate_phrases
from biomedner.synth.parse import FAILURE_KINDS, SUCCESS_KINDS, parse_reply
from biomedner.synth.prompts import ENTITY_SCHEMA, answer_json, available_prompts, load_prompt

E1 = {"text": "BRCA1", "type": "gene"}
E2 = {"text": "breast cancer", "type": "disease"}
FULL = json.dumps({"entities": [E1, E2]})


@pytest.mark.parametrize(
    ("reply", "finish", "kind", "entities"),
    [
        (FULL, "stop", "json", [E1, E2]),
        (json.dumps([E1, E2]), "stop", "bare_list", [E1, E2]),
        (f"```json\n{FULL}\n```", "stop", "code_fence", [E1, E2]),
        (f"```\n{FULL}\n```\n", "stop", "code_fence", [E1, E2]),
        (
            f"Sure! Here is the JSON:\n{FULL}\nI hope this helps.",
            "stop",
            "surrounding_text",
            [E1, E2],
        ),
        (f"As noted in [1], the answer is {FULL}", "stop", "surrounding_text", [E1, E2]),
        (FULL[:-30], "length", "truncated", [E1]),
        (FULL[:-30], None, "truncated", [E1]),  # server did not say, the JSON shows it
        (f"```json\n{FULL[:-30]}", "length", "truncated", [E1]),
        ('{"entities": [{"text": "BR', "length", "truncated_empty", []),
        ("", "stop", "empty", []),
        ("   \n", "stop", "empty", []),
        ("I'm sorry, but I can't help with that request.", "stop", "invalid_json", []),
        (json.dumps({"mentions": [E1]}), "stop", "wrong_schema", []),
        ('"just a string"', "stop", "wrong_schema", []),
    ],
)
def test_parse_kinds(reply: str, finish: str | None, kind: str, entities: list) -> None:
    parsed = parse_reply(reply, finish)
    assert parsed.kind == kind
    assert parsed.entities == entities
    assert parsed.ok == (kind in SUCCESS_KINDS)
    assert kind in SUCCESS_KINDS + FAILURE_KINDS


def test_invalid_items_are_dropped_and_counted() -> None:
    reply = json.dumps(
        {
            "entities": [
                E1,
                {"text": "x"},
                {"text": 3, "type": "y"},
                "BRCA2",
                {"text": " ", "type": "z"},
                {"text": "TP53", "type": "gene", "id": 7},
            ]
        }
    )
    parsed = parse_reply(reply)
    assert parsed.kind == "json"
    assert parsed.entities == [E1, {"text": "TP53", "type": "gene"}]
    assert parsed.invalid_items == 4


def test_prompt_renders_system_demos_and_user_turn() -> None:
    prompt = load_prompt("ner_v1")
    assert "ner_v1" in available_prompts()
    text = "Metformin lowers hepatic glucose output."
    msgs = prompt.messages(text)
    assert msgs[0]["role"] == "system" and "JSON" in msgs[0]["content"]
    roles = [m["role"] for m in msgs[1:]]
    assert roles == ["user", "assistant"] * len(prompt.demos) + ["user"]
    assert f'"""\n{text}\n"""' in msgs[-1]["content"]
    assert "Candidate phrases" not in msgs[-1]["content"]
    zero = prompt.messages(text, few_shot=False)
    assert [m["role"] for m in zero] == ["system", "user"]
    hinted = prompt.messages(text, few_shot=False, candidate_fn=candidate_phrases)
    assert '["Metformin", "hepatic glucose output"]' in hinted[-1]["content"]
    assert prompt.prompt_id.startswith("ner_v1@")


def test_demonstrations_are_valid_answers() -> None:
    """Every demonstration mention is a verbatim substring and every answer parses cleanly."""
    prompt = load_prompt("ner_v1")
    for demo in prompt.demos:
        for ent in demo["entities"]:
            assert ent["text"] in demo["text"], ent
            assert ent["type"] == ent["type"].lower().strip()
        parsed = parse_reply(answer_json(demo["entities"]))
        assert parsed.kind == "json" and parsed.entities == demo["entities"]
    assert ENTITY_SCHEMA["required"] == ["entities"]


def test_unknown_prompt_version() -> None:
    with pytest.raises(ConfigError, match="unknown prompt version 'ner_v9'"):
        load_prompt("ner_v9")


def test_candidate_phrases_are_substrings() -> None:
    text = (
        "Serum IL-6 and C-reactive protein rose in 40 patients with sepsis, whereas ferritin fell."
    )
    # function words and common verbs split phrases; pure numbers are not offered
    assert candidate_phrases(text) == ["Serum IL-6", "C-reactive protein", "sepsis", "ferritin"]
    assert candidate_phrases(text, limit=2) == ["Serum IL-6", "C-reactive protein"]
