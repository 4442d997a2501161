"""Untrusted model text: messages are storable when built; tool-call JSON is bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentgym.agents.chat_format import _json_or_text, template_dicts
from agentgym.core.env import Env, StepResult
from agentgym.core.messages import Message, TextPart, ToolCall, clean_text
from agentgym.core.task import Task
from agentgym.core.tools import ToolCallError, ToolSpec, extract_text_calls, object_schema, parse_tool_calls

TOOLS = (ToolSpec("f", "a tool", {"type": "object"}),)


def _storable(message: Message) -> bool:
    json.dumps(message.to_dict(), ensure_ascii=False).encode("utf-8")
    return True


@pytest.mark.parametrize(
    "raw",
    ["x\ud800", "\udfffy", b"\xff\xfe".decode("utf-8", "surrogateescape"), "a\ud83d b"],
    ids=["high", "low", "surrogateescape", "half-pair"],
)
def test_every_text_field_of_a_message_is_cleaned_when_built(raw):
    fixed = clean_text(raw)
    assert "\ufffd" in fixed and fixed.count("\ufffd") == sum(0xD800 <= ord(c) <= 0xDFFF for c in raw)
    call = ToolCall(raw, raw, raw)
    assert (call.id, call.name, call.arguments) == (fixed, fixed, fixed)
    assert TextPart(raw).text == fixed
    msg = Message("assistant", raw, tool_calls=(call,), name=raw)
    assert (msg.content, msg.name) == (fixed, fixed) and _storable(msg)
    assert Message("tool", raw, tool_call_id=raw).tool_call_id == fixed
    assert Message("user", (TextPart(raw),)).text == fixed
    wire = {"role": "assistant", "content": raw, "tool_calls": [call.to_dict() | {"id": raw}]}
    assert Message.from_dict(wire) == Message("assistant", fixed, tool_calls=(ToolCall(fixed, fixed, fixed),))

    class Sub(str):
        pass

    assert Message("user", Sub(raw)).content == fixed


def test_valid_text_is_kept_as_is_nul_and_noncharacters_included():
    for text in ("plain", "a\x00b", "\ufffe\uffff", "é 😀 \U0010ffff", "\ufffd"):
        assert clean_text(text) is text
        assert Message("assistant", text).content is text
        call = ToolCall("1", "f", text)
        assert call.arguments is text


def _nested_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "arguments", [_nested_array(100_000), _nested_object(70)], ids=["array-100000", "object-70"]
)
def test_deep_tool_call_arguments_are_a_tool_call_error(arguments):
    text = f'<tool_call>{{"name": "f", "arguments": {arguments}}}</tool_call>'
    if len(text) <= 64_000:
        with pytest.raises(ToolCallError, match="nested"):
            extract_text_calls(text)
    with pytest.raises(ToolCallError, match=r"nested|longer|exceed"):
        parse_tool_calls(Message("assistant", text), TOOLS)
    native = Message("assistant", "", tool_calls=(ToolCall("c", "f", arguments),))
    with pytest.raises(ToolCallError, match=r"nested|exceed"):
        parse_tool_calls(native, TOOLS)


def test_deep_text_tool_call_within_the_size_cap_says_nested():
    text = f'<tool_call>{{"name": "f", "arguments": {_nested_array(20_000)}}}</tool_call>'
    with pytest.raises(ToolCallError, match="nested"):
        extract_text_calls(text)


def test_escaped_surrogates_in_arguments_decode_clean():
    native = Message("assistant", "", tool_calls=(ToolCall("c", "f", '{"k\\udc80": ["\\ud800"]}'),))
    (call,) = parse_tool_calls(native, TOOLS)
    assert call.arguments == {"k\ufffd": ["\ufffd"]}


class ToolEnv(Env):
    """Calls its one tool; a bad call is an error observation."""

    step_in_thread = False
    tools = (ToolSpec("f", "a tool", object_schema({"x": {"type": "integer"}})),)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        self.task = Task("toy", {"tool": True})
        return [Message("user", "call f")], {}

    def _step(self, action: Message) -> StepResult:
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self.invalid_action(str(exc))
        return StepResult([Message("user", f"ok {calls[0].arguments}")])


@pytest.mark.parametrize("depth", [70, 100_000])
def test_a_deep_tool_call_is_an_error_observation_not_an_exception(depth):
    env = ToolEnv()
    env.reset(seed=0)
    arguments = _nested_object(depth) if depth == 70 else _nested_array(depth)
    obs, *_ = env.step(Message("assistant", "", tool_calls=(ToolCall("c", "f", arguments),)))
    assert obs[0].text.startswith("Invalid action:")
    text_obs, *_ = env.step(f'<tool_call>{{"name":"x","arguments":{_nested_array(30_000)}}}</tool_call>')
    assert text_obs[0].text.startswith("Invalid action:") and "nested" in text_obs[0].text


def test_a_tool_call_with_a_lone_surrogate_reaches_the_env_cleaned():
    env = ToolEnv()
    env.reset(seed=0)
    action = Message("assistant", "", tool_calls=(ToolCall("c\ud800", "f", '{"x": 1}'),))
    obs, *_ = env.step(action)
    assert obs[0].text == "ok {'x': 1}"


def test_chat_template_keeps_deep_arguments_as_text():
    deep = _nested_array(100_000)
    assert _json_or_text(deep) == deep
    assert _json_or_text('{"a": 1}') == {"a": 1}
    msg = Message("assistant", "", tool_calls=(ToolCall("c", "f", deep),))
    (entry,) = template_dicts([msg])
    assert "<tool_call>" in entry["content"]
