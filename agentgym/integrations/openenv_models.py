"""OpenEnv's wire types for AgentGym envs: a chat action, a chat observation, a state.

The mapping (OpenEnv 0.10 ``Action`` / ``Observation`` / ``State``, pydantic, ``extra="forbid"``):

- :class:`ChatAction` is the assistant's reply in the OpenAI chat format: ``content`` (text) and
  optional ``tool_calls`` (``[{"id", "type": "function", "function": {"name", "arguments"}}]``);
  ``role`` may be sent (only ``"assistant"``), so a chat-completion message passes as it is. A
  ``content`` that is not a string is coerced to text (text parts joined, anything else as JSON),
  never rejected: a malformed reply is the env's to judge, as in-process.
- :class:`ChatObservation` carries the messages new since the last call (OpenAI chat dicts, images
  as base64 PNG data URLs), the env's tools (OpenAI ``tools=[...]`` entries), ``reward``, ``done``
  (terminated or truncated, both also given), ``info`` (JSON-safe, the verdict left out) and
  ``metadata``: ``env_id``, ``task_id``, ``turn``, at the end ``verdict`` (the verifier's
  breakdown), and ``error`` when the env failed (the session's episode is over).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field, field_validator

from agentgym.core.messages import Message, ToolCall
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict


class ChatAction(Action):
    """The assistant's reply: text and optional OpenAI tool calls (``metadata`` is not read)."""

    role: Literal["assistant"] = Field(default="assistant", description="Always 'assistant'.")
    content: str = Field(default="", description="The reply text (non-string payloads become text).")
    tool_calls: list[dict[str, Any]] | None = Field(
        default=None, description="OpenAI tool calls: [{'id', 'type': 'function', 'function': {...}}]."
    )

    @field_validator("content", mode="before")
    @classmethod
    def _coerce_content(cls, value: Any) -> str:
        return coerce_text(value)

    @field_validator("tool_calls", mode="before")
    @classmethod
    def _coerce_tool_calls(cls, value: Any) -> list[dict[str, Any]] | None:
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, Mapping):  # one call sent bare
            return [dict(value)]
        raise ValueError("tool_calls must be a list of OpenAI tool-call objects")


class ChatObservation(Observation):
    """New chat messages, the env's tools, the step's info; ``reward``/``done``/``metadata`` inherited."""

    messages: list[dict[str, Any]] = Field(default_factory=list, description="New messages (OpenAI chat).")
    tools: list[dict[str, Any]] = Field(default_factory=list, description="The env's tools (OpenAI format).")
    terminated: bool = Field(default=False, description="The episode reached an end state.")
    truncated: bool = Field(default=False, description="The episode was cut short (turn cap, error).")
    info: dict[str, Any] = Field(default_factory=dict, description="The env's info, JSON-safe.")


class ChatState(State):
    """The session's episode: ids, seed, turn and whether it is over (``step_count`` = turns)."""

    env_id: str = ""
    task_id: str | None = None
    seed: int | None = None
    done: bool = False


def coerce_text(value: Any) -> str:
    """Text of a reply payload: strings as they are, text parts joined, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(
        isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in value
    ):
        return "".join(p["text"] for p in value)
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):  # e.g. circular structures built in-process
        return repr(value)


def to_agentgym_action(action: ChatAction) -> str | Message:
    """The AgentGym action for a :class:`ChatAction`: the text, or a message when it calls tools.

    Plain text stays a ``str`` (as an in-process agent's reply), so rewards match byte for byte.
    """
    if not action.tool_calls:
        return action.content
    calls = tuple(ToolCall.from_dict(c) for c in action.tool_calls)
    return Message("assistant", action.content, tool_calls=calls)


def action_payload(action: Any) -> dict[str, Any]:
    """The ``ChatAction`` JSON for an AgentGym action (text, message or message dict): for clients."""
    if isinstance(action, str):
        return {"content": action}
    if isinstance(action, Message):
        data = action.to_dict()
    elif isinstance(action, Mapping):
        data = dict(action)
    else:
        return {"content": coerce_text(action)}
    out: dict[str, Any] = {"content": data.get("content", "")}
    if data.get("tool_calls"):
        out["tool_calls"] = list(data["tool_calls"])
    return out


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON (the trajectory store's rules: verdicts as dicts, the rest as repr)."""

    def plain(obj: Any) -> Any:
        if isinstance(obj, Verdict):
            return obj.to_dict()
        if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
            try:
                return obj.item()
            except (TypeError, ValueError):
                pass
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        return repr(obj)

    text = json.dumps(value, default=plain, allow_nan=True)
    return _finite(json.loads(text))


def _finite(value: Any) -> Any:
    """NaN and infinities (which JSON cannot hold) as their repr."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def tools_payload(tools: tuple[ToolSpec, ...] | list[ToolSpec]) -> list[dict[str, Any]]:
    """The env's tools as OpenAI ``tools=[...]`` entries."""
    return [t.to_openai() for t in tools]
