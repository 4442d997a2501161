"""Chat messages in the OpenAI chat format: text and image parts, tool calls, tool results.

Observations and actions are lists of :class:`Message`. They are immutable, compare by value and
round-trip through :meth:`Message.to_dict` / :meth:`Message.from_dict` (the OpenAI wire format;
images travel as base64 PNG data URLs).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgym.core.errors import ConfigError

Role = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant", "tool"})
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})  # roles without required fields
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_DATA_URL_PREFIX = "data:image/png;base64,"


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    r"""Return ``text`` with lone surrogates replaced by U+FFFD, so it encodes as UTF-8.

    Lone surrogates (U+D800..U+DFFF) are the only code points of a Python ``str`` that UTF-8 cannot
    encode; they come from JSON ``\ud800`` escapes and from bytes decoded with ``surrogateescape``
    (U+DC80..U+DCFF). Each becomes one visible U+FFFD. Everything else is kept, NUL and the
    noncharacters U+FFFE/U+FFFF included (they are valid UTF-8). Clean text is returned as is.
    """
    if text.isascii():  # O(1) in CPython: ASCII text has no surrogates
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def _clean_field(value: Any) -> Any:
    """``clean_text`` for a str field (other values are left to the type checks)."""
    return clean_text(value) if isinstance(value, str) and not value.isascii() else value


@dataclass(frozen=True)
class TextPart:
    """A text part of a multi-part message."""

    text: str

    def __post_init__(self) -> None:
        # Text parts may carry model output: made storable here (see clean_text).
        object.__setattr__(self, "text", _clean_field(self.text))

    def to_dict(self) -> dict[str, Any]:
        """Return the OpenAI wire form."""
        return {"type": "text", "text": self.text}


@dataclass(frozen=True)
class ImagePart:
    """A PNG image part; ``png`` holds the raw PNG bytes."""

    png: bytes
    detail: str = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.png, bytes) or not self.png.startswith(PNG_MAGIC):
            raise ConfigError("ImagePart.png must be the bytes of a PNG file")

    def to_dict(self) -> dict[str, Any]:
        """Return the OpenAI wire form (a base64 data URL)."""
        url = _DATA_URL_PREFIX + base64.b64encode(self.png).decode("ascii")
        return {"type": "image_url", "image_url": {"url": url, "detail": self.detail}}

    def __repr__(self) -> str:
        return f"ImagePart(<{len(self.png)} bytes of PNG>)"


ContentPart = TextPart | ImagePart
Content = str | tuple[ContentPart, ...]


@dataclass(frozen=True)
class ToolCall:
    """A call of one tool: ``arguments`` is the JSON text the model produced, as in OpenAI's API.

    Lone surrogates in the id, name or arguments are replaced by U+FFFD on construction.
    """

    id: str
    name: str
    arguments: str = "{}"

    def __post_init__(self) -> None:
        for key in ("id", "name", "arguments"):
            value = getattr(self, key)
            cleaned = _clean_field(value)
            if cleaned is not value:
                object.__setattr__(self, key, cleaned)

    def to_dict(self) -> dict[str, Any]:
        """Return the OpenAI wire form."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        """Parse the OpenAI wire form (``{"id", "function": {"name", "arguments"}}``)."""
        fn = data.get("function", data)
        arguments = fn.get("arguments", "{}")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        return cls(id=str(data.get("id", "")), name=str(fn.get("name", "")), arguments=arguments)


@dataclass(frozen=True, init=False)
class Message:
    """One chat message: ``role``, ``content`` (text or parts), tool calls or a tool result id.

    Every message is storable: this is where text enters (from any agent, env or wire), so lone
    surrogates in the content, text parts, tool calls, ``name`` and ``tool_call_id`` are replaced
    by U+FFFD when the message is built (:func:`clean_text`), once, for every path.
    """

    role: Role
    content: Content = ""
    tool_calls: tuple[ToolCall, ...] = field(default_factory=tuple)
    tool_call_id: str | None = None
    name: str | None = None

    def __init__(
        self,
        role: Role,
        content: Content = "",
        tool_calls: tuple[ToolCall, ...] = (),
        tool_call_id: str | None = None,
        name: str | None = None,
    ) -> None:
        # Written out (not dataclass-generated) for speed: envs build one or more per step. Fields go
        # straight into the instance dict (the class is frozen); the common case, a plain-text
        # non-tool message, skips the checks that cannot fail for it.
        attrs = self.__dict__
        attrs["role"] = role
        # Text from models is untrusted: lone surrogates become U+FFFD here (str.isascii is O(1)).
        attrs["content"] = content if type(content) is not str or content.isascii() else clean_text(content)
        attrs["tool_calls"] = tool_calls
        attrs["tool_call_id"] = tool_call_id if tool_call_id is None else _clean_field(tool_call_id)
        attrs["name"] = name if name is None else _clean_field(name)
        if type(content) is not str or type(tool_calls) is not tuple or role not in _PLAIN_ROLES:
            self._validate()

    def _validate(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"message role must be one of {sorted(ROLES)}, got {self.role!r}")
        content = self.content
        if isinstance(content, list):
            content = tuple(content)
            object.__setattr__(self, "content", content)
        if isinstance(content, tuple):
            for part in content:
                if not isinstance(part, (TextPart, ImagePart)):
                    raise ConfigError(f"message content parts must be TextPart/ImagePart, got {part!r}")
        elif not isinstance(content, str):
            raise ConfigError(f"message content must be str or parts, got {type(content).__name__}")
        elif (cleaned := clean_text(content)) is not content:  # a str subclass
            object.__setattr__(self, "content", cleaned)
        if isinstance(self.tool_calls, list):
            object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if self.role == "tool" and not self.tool_call_id:
            raise ConfigError("a tool message needs the tool_call_id it answers")

    @property
    def text(self) -> str:
        """The message's text: the content string, or its text parts joined by newlines."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def images(self) -> list[bytes]:
        """The PNG bytes of the message's image parts."""
        if isinstance(self.content, str):
            return []
        return [p.png for p in self.content if isinstance(p, ImagePart)]

    def to_dict(self) -> dict[str, Any]:
        """Return the OpenAI chat-format dict (JSON-serializable)."""
        out: dict[str, Any] = {"role": self.role}
        if isinstance(self.content, str):
            out["content"] = self.content
        else:
            out["content"] = [p.to_dict() for p in self.content]
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """Parse an OpenAI chat-format dict; raises :class:`ConfigError` on malformed input."""
        if not isinstance(data, Mapping) or "role" not in data:
            raise ConfigError("a message must be a mapping with a 'role'")
        raw = data.get("content")
        content: Content
        if raw is None:
            content = ""
        elif isinstance(raw, str):
            content = raw
        elif isinstance(raw, Sequence):
            content = tuple(_part_from_dict(p) for p in raw)
        else:
            raise ConfigError(f"unsupported message content: {type(raw).__name__}")
        calls = tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ())
        return cls(
            role=data["role"],
            content=content,
            tool_calls=calls,
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
        )


def _part_from_dict(part: Mapping[str, Any]) -> ContentPart:
    kind = part.get("type")
    if kind == "text":
        return TextPart(str(part.get("text", "")))
    if kind == "image_url":
        url = part.get("image_url", {}).get("url", "")
        if not url.startswith(_DATA_URL_PREFIX):
            raise ConfigError("only base64 PNG data URLs are accepted as image parts")
        return ImagePart(base64.b64decode(url[len(_DATA_URL_PREFIX) :]))
    raise ConfigError(f"unknown content part type {kind!r}")


def system(text: str) -> Message:
    """Build a system message."""
    return Message("system", text)


def user(content: Content) -> Message:
    """Build a user message."""
    return Message("user", content)


def assistant(text: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
    """Build an assistant message."""
    return Message("assistant", text, tool_calls=tuple(tool_calls))


def tool_result(tool_call_id: str, text: str, name: str | None = None) -> Message:
    """Build a tool-result message answering ``tool_call_id``."""
    return Message("tool", text, tool_call_id=tool_call_id, name=name)


def to_openai(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Convert messages to the list of dicts an OpenAI-compatible endpoint takes."""
    return [m.to_dict() for m in messages]
