"""Tool schemas and tool-call parsing: native OpenAI tool calls and a plain-text fallback.

Models without native tool calling write ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
in their reply. Parsing is bounded (size caps, a cap on the number of calls) and never evaluates
model text: arguments are JSON, checked against the tool's JSON schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.messages import Message, ToolCall, clean_text
from agentgym.core.safejson import MAX_DEPTH, UntrustedJSONError, loads_untrusted

MAX_TOOL_CALL_CHARS = 64_000
MAX_TOOL_CALLS_PER_TURN = 16
#: Deepest nesting of arrays/objects accepted in tool-call JSON (the call object itself included).
MAX_ARGUMENT_DEPTH = MAX_DEPTH
_TEXT_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


@dataclass(frozen=True)
class ToolSpec:
    """A tool the env offers: its name, a description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        """Return the OpenAI ``tools=[...]`` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


def object_schema(properties: Mapping[str, Any], required: Sequence[str] | None = None) -> dict[str, Any]:
    """A tool's arguments schema: an object of ``properties`` and nothing else.

    Every property is required unless ``required`` names which are.
    """
    names = list(properties) if required is None else list(required)
    schema = {"type": "object", "properties": dict(properties), "required": names}
    return {**schema, "additionalProperties": False}


@dataclass(frozen=True)
class ParsedCall:
    """A tool call whose arguments parsed and validated."""

    id: str
    name: str
    arguments: dict[str, Any]


class ToolCallError(ValueError):
    """A tool call that cannot be executed; the message is shown to the agent."""


def validate_arguments(schema: Mapping[str, Any], value: Any, path: str = "arguments") -> None:
    """Check ``value`` against the JSON-schema subset tools use; raise ToolCallError on mismatch.

    Supported keywords: ``type``, ``properties``, ``required``, ``additionalProperties`` (false),
    ``enum``, ``items``, ``minimum``, ``maximum``, ``maxLength``.
    """
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        ok = False
        for k in kinds:
            types = _JSON_TYPES.get(k, ())
            if isinstance(value, types) and not (k in ("integer", "number") and isinstance(value, bool)):
                ok = True
        if not ok:
            raise ToolCallError(f"{path} must be of type {kind}, got {type(value).__name__}")
    if "enum" in schema and value not in schema["enum"]:
        raise ToolCallError(f"{path} must be one of {schema['enum']}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise ToolCallError(f"{path} must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ToolCallError(f"{path} must be <= {schema['maximum']}")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        raise ToolCallError(f"{path} is longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                raise ToolCallError(f"{path} is missing required field {key!r}")
        for key, item in value.items():
            if key in props:
                validate_arguments(props[key], item, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                raise ToolCallError(f"{path} has unknown field {key!r} (allowed: {sorted(props)})")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate_arguments(schema["items"], item, f"{path}[{i}]")


def extract_text_calls(text: str) -> list[ToolCall]:
    """Find ``<tool_call>{json}</tool_call>`` blocks in ``text``; malformed JSON raises ToolCallError."""
    calls: list[ToolCall] = []
    for i, match in enumerate(_TEXT_CALL.finditer(text)):
        if i >= MAX_TOOL_CALLS_PER_TURN:
            raise ToolCallError(f"too many tool calls in one reply (at most {MAX_TOOL_CALLS_PER_TURN})")
        body = match.group(1).strip()
        if len(body) > MAX_TOOL_CALL_CHARS:
            raise ToolCallError(f"tool call is longer than {MAX_TOOL_CALL_CHARS} characters")
        try:
            data = loads_untrusted(
                body, max_bytes=MAX_TOOL_CALL_CHARS, max_depth=MAX_ARGUMENT_DEPTH, what="tool call"
            )
        except UntrustedJSONError as exc:
            raise ToolCallError(str(exc)) from None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ToolCallError('a tool call must be a JSON object {"name": ..., "arguments": {...}}')
        args = data.get("arguments", {})
        # ensure_ascii: a lone surrogate decoded from the model's JSON stays an escape, storable
        calls.append(ToolCall(id=f"text-{i}", name=data["name"], arguments=json.dumps(args)))
    return calls


def _clean_json(value: Any) -> Any:
    """``value`` with lone surrogates in its strings and keys replaced by U+FFFD (depth is bounded)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def parse_tool_calls(action: Message, tools: Sequence[ToolSpec]) -> list[ParsedCall]:
    """Return the validated tool calls of ``action``: native calls first, else the text form.

    Raises :class:`ToolCallError` with a message meant for the agent when a call names an unknown
    tool, carries broken JSON or arguments that do not fit the tool's schema.
    """
    raw = list(action.tool_calls) or extract_text_calls(action.text)
    if len(raw) > MAX_TOOL_CALLS_PER_TURN:
        raise ToolCallError(f"too many tool calls in one reply (at most {MAX_TOOL_CALLS_PER_TURN})")
    by_name = {t.name: t for t in tools}
    parsed: list[ParsedCall] = []
    for call in raw:
        spec = by_name.get(call.name)
        if spec is None:
            raise ToolCallError(f"unknown tool {call.name[:80]!r}; available tools: {sorted(by_name)}")
        if len(call.arguments) > MAX_TOOL_CALL_CHARS:
            raise ToolCallError(f"arguments of {call.name} exceed {MAX_TOOL_CALL_CHARS} characters")
        try:
            args = loads_untrusted(
                call.arguments or "{}",
                max_bytes=MAX_TOOL_CALL_CHARS,
                max_depth=MAX_ARGUMENT_DEPTH,
                what=f"the argument text of {call.name}",
            )
        except UntrustedJSONError as exc:
            raise ToolCallError(str(exc)) from None
        if "\\u" in call.arguments:  # JSON escapes may decode to lone surrogates: clean them
            args = _clean_json(args)
        validate_arguments(spec.parameters, args)
        parsed.append(ParsedCall(id=call.id, name=call.name, arguments=args))
    return parsed


def tools_prompt(tools: Sequence[ToolSpec]) -> str:
    """Describe ``tools`` and the text form of a call, for models without native tool calling."""
    lines = ["You can call these tools:"]
    for t in tools:
        lines.append(f"- {t.name}: {t.description} Arguments (JSON schema): {json.dumps(dict(t.parameters))}")
    lines.append(
        'To call a tool, write <tool_call>{"name": "<tool>", "arguments": {...}}</tool_call> in your reply.'
    )
    return "\n".join(lines)
