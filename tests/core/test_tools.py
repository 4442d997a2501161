import json

import pytest

from agentgym.core.messages import Message, ToolCall
from agentgym.core.tools import (
    MAX_TOOL_CALL_CHARS,
    ToolCallError,
    ToolSpec,
    extract_text_calls,
    parse_tool_calls,
    tools_prompt,
    validate_arguments,
)

SEARCH = ToolSpec(
    "search",
    "Search the corpus.",
    {
        "type": "object",
        "properties": {
            "query": {"type": "string", "maxLength": 50},
            "k": {"type": "integer", "minimum": 1},
        },
        "required": ["query"],
        "additionalProperties": False,
    },
)


def test_native_tool_calls_are_parsed_and_validated():
    m = Message("assistant", "", tool_calls=(ToolCall("c1", "search", '{"query": "cats", "k": 3}'),))
    (call,) = parse_tool_calls(m, [SEARCH])
    assert call.id == "c1" and call.arguments == {"query": "cats", "k": 3}


def test_text_form_is_the_fallback():
    m = Message(
        "assistant",
        'thinking <tool_call>{"name": "search", "arguments": {"query": "dogs"}}</tool_call>',
    )
    (call,) = parse_tool_calls(m, [SEARCH])
    assert call.name == "search" and call.arguments == {"query": "dogs"}


def test_no_calls_gives_empty_list():
    assert parse_tool_calls(Message("assistant", "plain answer"), [SEARCH]) == []


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ('{"k": 2}', "missing required field 'query'"),
        ('{"query": 5}', "must be of type string"),
        ('{"query": "x", "extra": 1}', "unknown field 'extra'"),
        ('{"query": "x", "k": 0}', ">= 1"),
        ('{"query": "x", "k": true}', "type integer"),
        ('{"query": "' + "a" * 60 + '"}', "longer than 50"),
        ('{"query": ', "not valid JSON"),
    ],
)
def test_bad_arguments_raise_tool_call_error(arguments, match):
    m = Message("assistant", "", tool_calls=(ToolCall("c1", "search", arguments),))
    with pytest.raises(ToolCallError, match=match):
        parse_tool_calls(m, [SEARCH])


def test_unknown_tool_names_the_available_ones():
    m = Message("assistant", '<tool_call>{"name": "serch", "arguments": {}}</tool_call>')
    with pytest.raises(ToolCallError, match=r"unknown tool 'serch'.*search"):
        parse_tool_calls(m, [SEARCH])


def test_text_calls_are_capped_in_size_and_count():
    huge = (
        '<tool_call>{"name": "search", "arguments": {"query": "'
        + "a" * MAX_TOOL_CALL_CHARS
        + '"}}</tool_call>'
    )
    with pytest.raises(ToolCallError, match="longer than"):
        extract_text_calls(huge)
    many = '<tool_call>{"name": "search", "arguments": {"query": "a"}}</tool_call>' * 17
    with pytest.raises(ToolCallError, match="too many"):
        extract_text_calls(many)
    with pytest.raises(ToolCallError, match="JSON object"):
        extract_text_calls("<tool_call>[1, 2]</tool_call>")


def test_validate_nested_arrays_and_enums():
    schema = {
        "type": "object",
        "properties": {"moves": {"type": "array", "items": {"enum": ["up", "down"]}}},
    }
    validate_arguments(schema, {"moves": ["up", "down"]})
    with pytest.raises(ToolCallError, match=r"moves\[1\]"):
        validate_arguments(schema, {"moves": ["up", "left"]})


def test_tools_prompt_and_openai_form():
    assert SEARCH.to_openai()["function"]["name"] == "search"
    text = tools_prompt([SEARCH])
    assert "<tool_call>" in text and json.dumps(dict(SEARCH.parameters)) in text
