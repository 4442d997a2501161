"""The env server's wire format: JSON bodies that carry messages exactly, and typed errors.

Messages travel in the OpenAI chat format (:meth:`Message.to_dict`; images as base64 PNG data
URLs), ``info`` dicts as JSON with non-JSON values written as their ``repr`` (as the trajectory
store writes them), so a trajectory recorded over HTTP or Ray is byte-identical to one recorded
in-process. Bodies are written by the standard library with the store's rules and read by
:func:`agentgym.core.safejson.loads_untrusted` (orjson when installed, the standard library for what
orjson refuses: lone surrogates, integers beyond 64 bits, NaN), which bounds size and nesting depth:
a body nested deeper than :data:`MAX_DEPTH` is a 400, never a ``RecursionError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from agentgym.core.env import Action
from agentgym.core.errors import AgentGymError, ConfigError, EnvError
from agentgym.core.messages import Message
from agentgym.core.safejson import loads_untrusted
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict

#: Largest request body the server reads (bytes); bigger bodies get 413.
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Deepest nesting of arrays and objects read from a body (server side and client side).
MAX_DEPTH = 64
#: Largest answer body a client decodes (bytes).
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class ServerError(EnvError):
    """An error answered by the env server (``code`` names it, ``status`` is the HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class SessionLostError(ServerError):
    """The session is gone: its worker crashed or was restarted, or it sat idle past the TTL."""


class ServerTimeoutError(ServerError):
    """A call ran past the server's per-call timeout (the session is lost with its worker)."""


class ServerBusyError(ServerError):
    """The server holds ``--max-sessions`` sessions; retry after ``retry_after`` seconds."""

    def __init__(self, code: str, message: str, status: int = 503, retry_after: float = 1.0) -> None:
        super().__init__(code, message, status)
        self.retry_after = retry_after


#: Error code -> (HTTP status, client-side exception class).
ERROR_CODES: dict[str, tuple[int, type[ServerError]]] = {
    "bad_request": (400, ServerError),
    "not_found": (404, ServerError),
    "unknown_env": (404, ServerError),
    "env_not_allowed": (403, ServerError),
    "method_not_allowed": (405, ServerError),
    "payload_too_large": (413, ServerError),
    "invalid_config": (422, ServerError),
    "env_state": (409, ServerError),
    "session_lost": (410, SessionLostError),
    "env_error": (500, ServerError),
    "internal": (500, ServerError),
    "busy": (503, ServerBusyError),
    "timeout": (504, ServerTimeoutError),
}


def dumps(value: Any) -> bytes:
    """JSON bytes of ``value``; values JSON cannot hold are written as their ``repr``.

    The standard library writes them, with the trajectory store's rules (``default=repr``), so what
    crosses the wire is stored exactly as an in-process run stores it.
    """
    return json.dumps(value, default=_plain, ensure_ascii=True).encode("ascii")


def _plain(value: Any) -> Any:
    """A :class:`Verdict` (``info["verdict"]``) as its dict, as the store writes it; else ``repr``."""
    return value.to_dict() if isinstance(value, Verdict) else repr(value)


def loads(data: bytes | str, max_bytes: int = MAX_BODY_BYTES, what: str = "the request body") -> Any:
    """Parse untrusted JSON bytes (bounded size and depth); raises :class:`ConfigError` on bad input."""
    try:
        return loads_untrusted(data, max_bytes=max_bytes, max_depth=MAX_DEPTH, what=what)
    except ValueError as exc:  # UntrustedJSONError, and anything a decoder raises on odd input
        raise ConfigError(str(exc)) from None


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The typed JSON error: ``{"error": {"code", "type", "message", ...}}``."""
    return {"error": {"code": code, "message": message[:4000], **extra}}


def raise_for_error(status: int, body: Any) -> None:
    """Raise the typed client-side error an error response describes."""
    err = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(err, Mapping):
        raise ServerError("internal", f"server answered HTTP {status}: {str(body)[:500]}", status)
    code = str(err.get("code", "internal"))
    cls = ERROR_CODES.get(code, (status, ServerError))[1]
    message = str(err.get("message", ""))
    if cls is ServerBusyError:
        raise ServerBusyError(code, message, status, float(err.get("retry_after", 1.0)))
    raise cls(code, message, status)


def code_of(exc: BaseException) -> str:
    """The error code an exception raised by an env or the registry is answered with."""
    from agentgym.core.errors import UnknownIdError

    if isinstance(exc, UnknownIdError):
        return "unknown_env"
    if isinstance(exc, ConfigError):
        return "invalid_config"
    if isinstance(exc, EnvError):
        return "env_state"
    if isinstance(exc, AgentGymError):
        return "env_error"
    return "env_error"


# ----- actions ---------------------------------------------------------------------------------
class _Foreign:
    """Stands for an action of a type the wire cannot carry (the env rejects it by type name)."""


def encode_action(action: Action) -> dict[str, Any]:
    """The wire form of an action (text, a message, a mapping, or the type name of anything else)."""
    if isinstance(action, str):
        return {"text": action}
    if isinstance(action, Message):
        return {"message": action.to_dict()}
    if isinstance(action, Mapping):
        return {"mapping": dict(action)}
    return {"foreign": type(action).__name__}


def decode_action(data: Any) -> Any:
    """Rebuild the action :func:`encode_action` wrote, of the same type."""
    if not isinstance(data, Mapping):
        raise ConfigError("'action' must be an object with one of 'text', 'message', 'mapping'")
    if "text" in data and isinstance(data["text"], str):
        return data["text"]
    if "message" in data:
        return Message.from_dict(data["message"])
    if "mapping" in data and isinstance(data["mapping"], Mapping):
        return dict(data["mapping"])
    if "foreign" in data:
        return type(str(data["foreign"])[:100], (_Foreign,), {})()
    raise ConfigError("'action' must be an object with one of 'text', 'message', 'mapping'")


# ----- observations, options, tools, rng ------------------------------------------------------
def encode_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages in the OpenAI chat format."""
    return [m.to_dict() for m in messages]


def decode_messages(data: Any) -> list[Message]:
    """Messages from their OpenAI chat-format dicts."""
    return [Message.from_dict(m) for m in data]


def encode_options(options: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Reset options; a :class:`Task` under ``"task"`` travels as its dict."""
    if options is None:
        return None
    out = dict(options)
    if isinstance(out.get("task"), Task):
        out["task"] = {"__task__": out["task"].to_dict()}
    return out


def decode_options(data: Any) -> dict[str, Any] | None:
    """Rebuild reset options written by :func:`encode_options`."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ConfigError("'options' must be an object")
    out = dict(data)
    task = out.get("task")
    if isinstance(task, Mapping) and "__task__" in task:
        out["task"] = Task.from_dict(task["__task__"])
    return out


def encode_tools(tools: Any) -> list[dict[str, Any]]:
    """Tool specs as plain dicts."""
    return [{"name": t.name, "description": t.description, "parameters": dict(t.parameters)} for t in tools]


def decode_tools(data: Any) -> tuple[ToolSpec, ...]:
    """Tool specs from :func:`encode_tools` output."""
    return tuple(ToolSpec(d["name"], d["description"], d["parameters"]) for d in data)


def encode_rng(rng: np.random.Generator) -> dict[str, Any]:
    """A generator's full state (big integers as strings, so any JSON reader keeps them)."""
    return _stringify(rng.bit_generator.state)


def decode_rng(state: Mapping[str, Any]) -> np.random.Generator:
    """A generator in the state :func:`encode_rng` wrote."""
    name = str(state.get("bit_generator", ""))
    if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
        raise ConfigError(f"unsupported bit generator {name!r}")
    bitgen = getattr(np.random, name)()
    bitgen.state = _unstringify(dict(state))
    return np.random.Generator(bitgen)


def set_rng_state(rng: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Move ``rng`` to the state the server's copy ended in."""
    rng.bit_generator.state = _unstringify(dict(state))


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, np.integer)):
        return {"__int__": str(int(value))}
    if isinstance(value, np.ndarray):
        return {"__array__": [str(int(x)) for x in value.ravel()], "dtype": str(value.dtype)}
    return value


def _unstringify(value: Any) -> Any:
    if isinstance(value, dict):
        if "__int__" in value:
            return int(value["__int__"])
        if "__array__" in value:
            return np.array([int(x) for x in value["__array__"]], dtype=value["dtype"])
        return {k: _unstringify(v) for k, v in value.items()}
    return value
