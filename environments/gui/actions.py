"""The unified GUI action space: tool schemas, the text form, and parsing into :class:`GuiAction`.

Actions (as native tool calls, ``<tool_call>{json}</tool_call>``, or plain text calls):

``click(x, y)`` | ``click(element_id)`` | ``type(text)`` | ``press(key)`` | ``scroll(dx, dy)`` |
``select(element_id, option)`` | ``wait`` | ``done``

The plain text form is one call per line, e.g. ``click(12)``, ``click(40, 95)``, ``type("hello")``,
``press("Enter")``; arguments are Python/JSON literals (parsed with :func:`ast.literal_eval` under
a size cap, never evaluated). The last call in the reply counts, as in "reason, then act" replies.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from agentgym.core.messages import Message
from agentgym.core.tools import ToolCallError, ToolSpec, parse_tool_calls

ACTION_TYPES = ("click", "type", "press", "scroll", "select", "wait", "done")
MAX_TEXT = 2_000
MAX_SCROLL = 10_000
_KEY = re.compile(r"^(?:(?:Control|Shift|Alt|Meta)\+)*[A-Za-z0-9]{1,12}$|^[ -~]$")
_TEXT_CALL = re.compile(
    r"\b(click|type|press|scroll|select|wait|done)\s*(\((.{0,3900}?)\))?\s*[.!;]?\s*$", re.M
)


@dataclass(frozen=True)
class GuiAction:
    """One parsed action; fields unused by the action type are None."""

    kind: str
    x: float | None = None
    y: float | None = None
    element_id: int | None = None
    text: str | None = None
    dx: float = 0.0
    dy: float = 0.0
    tool_call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action as a JSON-able dict with only the fields that matter for its type."""
        out: dict[str, Any] = {"action": self.kind}
        if self.kind == "click":
            if self.element_id is not None:
                out["element_id"] = self.element_id
            else:
                out["x"], out["y"] = self.x, self.y
        elif self.kind in ("type", "press"):
            out["text" if self.kind == "type" else "key"] = self.text
        elif self.kind == "scroll":
            out["dx"], out["dy"] = self.dx, self.dy
        elif self.kind == "select":
            out["element_id"], out["option"] = self.element_id, self.text
        return out

    def to_text(self) -> str:
        """The action in the plain text form (what :func:`parse_action` reads back)."""
        if self.kind == "click":
            if self.element_id is not None:
                return f"click({self.element_id})"
            return f"click({_num(self.x)}, {_num(self.y)})"
        if self.kind in ("type", "press"):
            return f"{self.kind}({_quote(self.text or '')})"
        if self.kind == "scroll":
            return f"scroll({_num(self.dx)}, {_num(self.dy)})"
        if self.kind == "select":
            return f"select({self.element_id}, {_quote(self.text or '')})"
        return self.kind


def _num(v: float | None) -> str:
    v = float(v or 0.0)
    return str(int(v)) if v.is_integer() else repr(v)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _schema(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


_NUM = {"type": "number"}
GUI_TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "click",
        "Click an element by its id (from the page text) or a point (x, y) in screenshot pixels.",
        {
            "type": "object",
            "properties": {"element_id": {"type": "integer"}, "x": _NUM, "y": _NUM},
            "additionalProperties": False,
        },
    ),
    ToolSpec("type", "Type text into the focused element.", _schema({"text": {"type": "string"}}, ["text"])),
    ToolSpec(
        "press",
        "Press a key, e.g. Enter, Tab, Backspace, Control+a.",
        _schema({"key": {"type": "string"}}, ["key"]),
    ),
    ToolSpec(
        "scroll", "Scroll the page by (dx, dy) pixels.", _schema({"dx": _NUM, "dy": _NUM}, ["dx", "dy"])
    ),
    ToolSpec(
        "select",
        "Choose an option (by its text) in a <select> element.",
        _schema({"element_id": {"type": "integer"}, "option": {"type": "string"}}, ["element_id", "option"]),
    ),
    ToolSpec("wait", "Let one second of page time pass.", _schema({}, [])),
    ToolSpec("done", "Declare the task finished; the episode ends.", _schema({}, [])),
)

ACTION_HELP = (
    "Act with one of: click(element_id) | click(x, y) | type(text) | press(key) | scroll(dx, dy) | "
    "select(element_id, option) | wait | done. Use the tools, or write the call as the last line of your "
    'reply, e.g. click(12), click(40, 95), type("hello"), press("Enter"). Element ids are the [n] '
    "numbers in the page text; (x, y) are screenshot pixels from the top-left corner."
)


class ActionError(ValueError):
    """The reply is not a valid GUI action (the message is meant for the agent)."""


def parse_action(message: Message) -> GuiAction:
    """Parse the assistant's reply into one action; raises :class:`ActionError` with the reason."""
    if message.tool_calls or "<tool_call>" in message.text:
        try:
            calls = parse_tool_calls(message, GUI_TOOLS)
        except ToolCallError as exc:
            raise ActionError(str(exc)) from None
        if len(calls) != 1:
            raise ActionError(f"give exactly one action per turn, got {len(calls)}")
        call = calls[0]
        return _build(call.name, call.arguments, call.id)
    matches = list(_TEXT_CALL.finditer(message.text[-4000:]))
    if not matches:
        raise ActionError("no action found; " + ACTION_HELP)
    match = matches[-1]
    name, body = match.group(1), match.group(3)
    args = _literal_args(body) if body is not None and body.strip() else ()
    return _build(name, _positional(name, args), None)


def _literal_args(body: str) -> tuple[Any, ...]:
    if len(body) > MAX_TEXT + 100:
        raise ActionError(f"action arguments are longer than {MAX_TEXT} characters")
    try:
        value = ast.literal_eval(f"({body},)")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ActionError(
            f"cannot read the arguments ({body[:60]!r}); use numbers and quoted strings"
        ) from None
    return tuple(value)


def _positional(name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    names = {
        "click": ("x", "y") if len(args) == 2 else ("element_id",),
        "type": ("text",),
        "press": ("key",),
        "scroll": ("dx", "dy"),
        "select": ("element_id", "option"),
        "wait": (),
        "done": (),
    }[name]
    if len(args) != len(names):
        raise ActionError(
            f"{name} takes {len(names)} argument(s) ({', '.join(names) or 'none'}), got {len(args)}"
        )
    return dict(zip(names, args, strict=True))


def _build(name: str, args: dict[str, Any], call_id: str | None) -> GuiAction:
    if name == "click":
        if "element_id" in args and ("x" in args or "y" in args):
            raise ActionError("click takes either element_id or (x, y), not both")
        if "element_id" in args:
            return GuiAction("click", element_id=_int(args["element_id"], "element_id"), tool_call_id=call_id)
        if "x" not in args or "y" not in args:
            raise ActionError("click needs element_id or both x and y")
        return GuiAction("click", x=_float(args["x"], "x"), y=_float(args["y"], "y"), tool_call_id=call_id)
    if name == "type":
        return GuiAction("type", text=_str(args["text"], "text"), tool_call_id=call_id)
    if name == "press":
        key = _str(args["key"], "key")
        if not _KEY.match(key):
            raise ActionError(
                f"unknown key {key[:40]!r}; use names like Enter, Tab, Backspace, ArrowDown, Control+a"
            )
        return GuiAction("press", text=key, tool_call_id=call_id)
    if name == "scroll":
        dx, dy = _float(args["dx"], "dx"), _float(args["dy"], "dy")
        if abs(dx) > MAX_SCROLL or abs(dy) > MAX_SCROLL:
            raise ActionError(f"scroll distances must be within +-{MAX_SCROLL} pixels")
        return GuiAction("scroll", dx=dx, dy=dy, tool_call_id=call_id)
    if name == "select":
        element = _int(args["element_id"], "element_id")
        return GuiAction(
            "select", element_id=element, text=_str(args["option"], "option"), tool_call_id=call_id
        )
    return GuiAction(name, tool_call_id=call_id)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
        raise ActionError(f"{what} must be an integer, got {value!r:.40}")
    if not 0 <= int(value) < 1_000_000:
        raise ActionError(f"{what} {int(value)} is out of range")
    return int(value)


def _float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ActionError(f"{what} must be a number, got {value!r:.40}")
    if value != value or abs(value) > 1e6:  # NaN or absurd
        raise ActionError(f"{what} is out of range")
    return float(value)


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ActionError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise ActionError(f"{what} is longer than {MAX_TEXT} characters")
    return value
