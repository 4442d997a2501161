"""A :class:`SessionHost` holds env sessions in one process and answers wire calls on them.

It is the part of the env server that touches environments: each worker process runs one (see
:mod:`agentgym.server.workers`). Calls are ``(op, session_id, body)`` with a JSON body in and
``(http_status, json_bytes)`` out, so the server's front process only moves bytes.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import gymnasium as gym

from agentgym.core.errors import ConfigError, EnvError
from agentgym.server import wire

Reply = tuple[int, bytes]


def env_allowed(env_id: str, patterns: tuple[str, ...]) -> bool:
    """True when ``env_id`` matches one of the glob ``patterns`` (no patterns: every id)."""
    return not patterns or any(fnmatch.fnmatchcase(env_id, p) for p in patterns)


def error_reply(code: str, message: str, **extra: Any) -> Reply:
    """A typed JSON error with its HTTP status."""
    status = wire.ERROR_CODES.get(code, (500, wire.ServerError))[0]
    return status, wire.dumps(wire.error_body(code, message, **extra))


class SessionHost:
    """Env sessions by id, and the operations the server offers on them."""

    def __init__(self, env_patterns: tuple[str, ...] = ()) -> None:
        self.env_patterns = env_patterns
        self.sessions: dict[str, gym.Env] = {}
        self._ops: dict[str, Callable[[str, Any], Any]] = {
            "create": self._create,
            "reset": self._reset,
            "step": self._step,
            "sample_action": self._sample_action,
            "oracle_action": self._oracle_action,
            "verdict": self._verdict,
            "tools": self._tools,
            "close": self._close,
        }

    def handle(self, op: str, session_id: str, body: bytes) -> Reply:
        """Run one call; every failure becomes a typed JSON error, never an exception."""
        fn = self._ops.get(op)
        if fn is None:
            return error_reply("not_found", f"unknown operation {op!r}")
        try:
            payload = wire.loads(body) if body else {}
            if not isinstance(payload, Mapping):
                raise ConfigError("the request body must be a JSON object")
        except ConfigError as exc:
            return error_reply("bad_request", str(exc))
        try:
            return 200, wire.dumps(fn(session_id, payload))
        except RecursionError:  # defence in depth: bodies are depth-bounded, env output is not
            return error_reply("env_error", f"{op} produced a value nested too deeply to answer")
        except _SessionMissing:
            return error_reply("session_lost", f"session {session_id!r} does not exist (closed or lost)")
        except _BadRequest as exc:
            return error_reply("bad_request", str(exc))
        except Exception as exc:  # an env failure is an answer, not a crash of the worker
            return error_reply(wire.code_of(exc), f"{type(exc).__name__}: {exc}", type=type(exc).__name__)

    def close_all(self) -> None:
        """Close every session (on shutdown)."""
        for sid in list(self.sessions):
            self._close(sid, {})

    # ----- operations ------------------------------------------------------------------------
    def _env(self, session_id: str) -> gym.Env:
        env = self.sessions.get(session_id)
        if env is None:
            raise _SessionMissing
        return env

    def _create(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        from agentgym.registry import make, unwrap

        env_id = payload.get("env_id")
        kwargs = payload.get("kwargs") or {}
        if not isinstance(env_id, str) or not isinstance(kwargs, Mapping):
            raise _BadRequest("create takes {'env_id': str, 'kwargs': object}")
        if not env_allowed(env_id, self.env_patterns):
            raise ConfigError(f"env {env_id!r} is not served here (patterns: {', '.join(self.env_patterns)})")
        if session_id in self.sessions:
            raise _BadRequest(f"session {session_id!r} exists already")
        try:
            env = make(env_id, **dict(kwargs))
        except (TypeError, ValueError) as exc:  # the caller's kwargs do not fit the env
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"invalid kwargs for {env_id}: {type(exc).__name__}: {exc}") from exc
        base = unwrap(env)
        self.sessions[session_id] = env
        return {
            "session_id": session_id,
            "env_id": env_id,
            "env_class": type(base).__name__,
            "tools": wire.encode_tools(base.tools),
            "has_oracle": base.has_oracle,
        }

    def _reset(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        from agentgym.registry import unwrap

        env = self._env(session_id)
        seed = payload.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise _BadRequest(f"'seed' must be a non-negative integer or null, got {seed!r}")
        with _bad_request("'options'"):
            options = wire.decode_options(payload.get("options"))
        obs, info = env.reset(seed=seed, options=options)
        task = unwrap(env).task
        return {
            "observation": wire.encode_messages(obs),
            "info": info,
            "task": task.to_dict() if task is not None else None,
            "tools": wire.encode_tools(unwrap(env).tools),
        }

    def _step(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        env = self._env(session_id)
        if "action" not in payload:
            raise _BadRequest("step takes {'action': {'text': str} | {'message': object} | ...}")
        with _bad_request("'action'"):
            action = wire.decode_action(payload["action"])
        obs, reward, terminated, truncated, info = env.step(action)
        return {
            "observation": wire.encode_messages(obs),
            "reward": float(reward),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "info": info,
        }

    def _sample_action(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        from agentgym.registry import unwrap

        env = self._env(session_id)
        state = payload.get("rng_state")
        if not isinstance(state, Mapping):
            raise _BadRequest("sample_action takes {'rng_state': the generator's state}")
        with _bad_request("'rng_state'"):
            rng = wire.decode_rng(state)
        action = unwrap(env).sample_action(rng)
        return {"action": wire.encode_action(action), "rng_state": wire.encode_rng(rng)}

    def _oracle_action(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        from agentgym.registry import unwrap

        return {"action": wire.encode_action(unwrap(self._env(session_id)).oracle_action())}

    def _verdict(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        from agentgym.registry import unwrap

        return {"verdict": unwrap(self._env(session_id)).verdict().to_dict()}

    def _tools(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        from agentgym.registry import unwrap

        return {"tools": wire.encode_tools(unwrap(self._env(session_id)).tools)}

    def _close(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        env = self.sessions.pop(session_id, None)
        if env is None:
            return {"closed": False}
        try:
            env.close()
        except Exception as exc:
            raise EnvError(f"close failed: {type(exc).__name__}: {exc}") from exc
        return {"closed": True}


class _SessionMissing(Exception):
    pass


@contextlib.contextmanager
def _bad_request(what: str) -> Iterator[None]:
    """Turn any failure to decode the caller's ``what`` into a 400 (it is the caller's input)."""
    try:
        yield
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise _BadRequest(f"invalid {what}: {type(exc).__name__}: {str(exc)[:500]}") from None


class _BadRequest(Exception):
    pass
