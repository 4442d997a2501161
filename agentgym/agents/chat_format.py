"""Render chat messages into the dicts a transformers chat template takes.

Models without native tool calling see tools described in the system message, their own tool calls
in the ``<tool_call>{...}</tool_call>`` text form, and tool results as user messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agentgym.core.messages import Message
from agentgym.core.safejson import UntrustedJSONError, loads_untrusted
from agentgym.core.tools import MAX_ARGUMENT_DEPTH, MAX_TOOL_CALL_CHARS, ToolSpec, tools_prompt


def template_dicts(
    messages: Sequence[Message], tools: Sequence[ToolSpec] = (), native_tools: bool = False
) -> list[dict[str, Any]]:
    """Turn messages into chat-template dicts: text only (image parts are dropped).

    With ``native_tools`` the OpenAI tool-call fields are kept for the template; without, tools
    are described in the system message, assistant tool calls are written in the
    ``<tool_call>{...}</tool_call>`` text form and tool results become user messages.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        entry: dict[str, Any] = {"role": m.role, "content": m.text}
        calls = [(c.id, c.name, _json_or_text(c.arguments)) for c in m.tool_calls]
        if m.role == "tool" and not native_tools:
            label = f"Tool result ({m.name})" if m.name else "Tool result"
            entry = {"role": "user", "content": f"{label}:\n{m.text}"}
        elif m.role == "tool":
            entry.update(tool_call_id=m.tool_call_id, **({"name": m.name} if m.name else {}))
        elif calls and native_tools:
            entry["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls
            ]
        elif calls and "<tool_call>" not in m.text:
            blocks = [json.dumps({"name": n, "arguments": a}) for _, n, a in calls]
            lines = [m.text, *(f"<tool_call>{b}</tool_call>" for b in blocks)]
            entry["content"] = "\n".join(lines).strip()
        out.append(entry)
    if tools and not native_tools:
        described = tools_prompt(tools)
        if out and out[0]["role"] == "system":
            out[0]["content"] = f"{out[0]['content']}\n\n{described}".strip()
        else:
            out.insert(0, {"role": "system", "content": described})
    return out


def _json_or_text(arguments: str) -> Any:
    """Tool-call arguments as a JSON value for the template, or the text itself when it will not parse.

    The text is the model's own (untrusted): bounded in size and depth like every tool-call parse.
    """
    try:
        return loads_untrusted(
            arguments, max_bytes=MAX_TOOL_CALL_CHARS, max_depth=MAX_ARGUMENT_DEPTH, what="tool-call arguments"
        )
    except UntrustedJSONError:
        return arguments
