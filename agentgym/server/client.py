"""HTTP client of the env server: :class:`ServerClient` (pooled connections) and :class:`RemoteEnv`.

``RemoteEnv(url, env_id, **kwargs)`` is an :class:`~agentgym.core.env.Env` whose episodes run on a
server: ``reset``/``step`` (and ``areset``/``astep``) send the action and return the observation
exactly as the env made it, so the rollout runner, wrappers and scripted agents use it unchanged.
The session is created on first use; a lost session raises :class:`SessionLostError` from ``step``
and is replaced by a fresh one on the next ``reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, Observation
from agentgym.core.errors import EnvError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict, as_verdict
from agentgym.server import http11, wire
from agentgym.server.wire import ServerBusyError, ServerError, SessionLostError


class ServerClient:
    """Keep-alive HTTP/1.1 connections to one env server, for sync and async callers.

    Connection failures before the request went out are retried ``retries`` times with exponential
    backoff; a busy server (503) is retried on session creation for up to ``busy_wait_s`` seconds,
    with capped exponential backoff and full jitter (:func:`busy_delay`), so clients refused
    together do not come back together. Calls other than ``step`` are also retried once when a
    reused keep-alive connection turns out dead before any answer (their repetition is harmless).
    """

    def __init__(
        self,
        url: str,
        timeout_s: float = 600.0,
        retries: int = 3,
        backoff_s: float = 0.2,
        busy_wait_s: float = 30.0,
        keepalive_s: float = 3.0,
        busy_backoff_cap_s: float = 8.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.origin = http11.Origin.parse(self.url)
        self.timeout_s, self.keepalive_s = timeout_s, keepalive_s
        self.retries, self.backoff_s, self.busy_wait_s = retries, backoff_s, busy_wait_s
        self.busy_backoff_cap_s = busy_backoff_cap_s
        self._jitter = np.random.default_rng()  # own generator: the global RNG is never used
        self._sync = http11.SyncPool(self.origin, keepalive_s)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, http11.AsyncPool] = (
            weakref.WeakKeyDictionary()
        )

    def _async_pool(self) -> http11.AsyncPool:
        loop = asyncio.get_running_loop()
        pool = self._async.get(loop)
        if pool is None:
            pool = self._async[loop] = http11.AsyncPool(self.origin, self.keepalive_s)
        return pool

    def request(self, method: str, path: str, payload: Any = None, busy_retry: bool = False) -> Any:
        """Send one call and return the decoded JSON body; errors raise typed ServerErrors."""
        body = b"" if payload is None else wire.dumps(payload)
        deadline = time.monotonic() + self.busy_wait_s
        attempt = busy = 0
        idempotent = not path.endswith("/step")
        while True:
            try:
                resp = self._sync.request(method, path, body, self.timeout_s, idempotent)
                return _decode(resp.status, resp.body)
            except http11.HttpError as exc:
                attempt += 1
                if exc.sent or attempt > self.retries:
                    raise ServerError("unreachable", f"{self.url}: {exc}", 0) from exc
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            except ServerBusyError as exc:
                delay = self._busy_delay(busy, exc.retry_after, deadline)
                if not busy_retry or delay is None:
                    raise
                busy += 1
                time.sleep(delay)

    async def arequest(self, method: str, path: str, payload: Any = None, busy_retry: bool = False) -> Any:
        """Async :meth:`request`."""
        body = b"" if payload is None else wire.dumps(payload)
        deadline = time.monotonic() + self.busy_wait_s
        attempt = busy = 0
        idempotent = not path.endswith("/step")
        while True:
            try:
                resp = await self._async_pool().request(method, path, body, self.timeout_s, idempotent)
                return _decode(resp.status, resp.body)
            except http11.HttpError as exc:
                attempt += 1
                if exc.sent or attempt > self.retries:
                    raise ServerError("unreachable", f"{self.url}: {exc}", 0) from exc
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            except ServerBusyError as exc:
                delay = self._busy_delay(busy, exc.retry_after, deadline)
                if not busy_retry or delay is None:
                    raise
                busy += 1
                await asyncio.sleep(delay)

    def _busy_delay(self, refusals: int, retry_after: float, deadline: float) -> float | None:
        """How long to wait after a 503 (None: the wait would pass ``busy_wait_s``)."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        return min(left, busy_delay(refusals, retry_after, self.busy_backoff_cap_s, self._jitter))

    def close(self) -> None:
        """Close the idle sync connections (async ones close with :meth:`aclose` in their loop)."""
        self._sync.close()

    async def aclose(self) -> None:
        """Close this loop's idle connections and the sync ones."""
        pool = self._async.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            pool.close()
        self.close()


def busy_delay(refusals: int, retry_after: float, cap_s: float, rng: np.random.Generator) -> float:
    """Seconds to wait after the ``refusals``-th 503 in a row (0-based): full jitter, capped.

    Uniform on ``[0, min(cap_s, retry_after * 2**refusals)]`` (AWS's "full jitter"): the server's
    ``Retry-After`` is the hint that scales the first window, each refusal in a row doubles it up
    to ``cap_s``, and the draw spreads clients refused at the same moment over the whole window
    instead of sending them all back one ``Retry-After`` later.
    """
    window = min(cap_s, max(0.05, retry_after) * 2.0 ** min(refusals, 30))
    return float(rng.uniform(0.0, window))


_shared: dict[str, ServerClient] = {}
_shared_lock = threading.Lock()


def shared_client(url: str) -> ServerClient:
    """The process-wide :class:`ServerClient` of ``url`` (so sessions share keep-alive connections)."""
    key = url.rstrip("/")
    with _shared_lock:
        client = _shared.get(key)
        if client is None:
            client = _shared[key] = ServerClient(key)
        return client


def _decode(status: int, content: bytes) -> Any:
    try:
        data = wire.loads(content, wire.MAX_RESPONSE_BYTES, "the server's answer") if content else {}
    except ValueError:
        raise ServerError("internal", f"HTTP {status}: the server's answer is not JSON", status) from None
    if status >= 400:
        wire.raise_for_error(status, data)
    return data


class RemoteEnv(Env):
    """An env served by an ``agentgym serve`` server, behind the ordinary Env API (sync and async)."""

    supports_pickle = False
    step_in_thread = False

    def __init__(self, url: str, env_id: str, client: ServerClient | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.url, self.env_id, self.env_kwargs = url.rstrip("/"), env_id, kwargs
        self.client = client or shared_client(url)
        self.session_id: str | None = None
        self.remote_class: str | None = None
        self._has_oracle = False

    # ----- session ---------------------------------------------------------------------------
    def _created(self, data: Mapping[str, Any]) -> None:
        self.session_id = data["session_id"]
        self.remote_class = data.get("env_class")
        self.tools = wire.decode_tools(data.get("tools", []))
        self._has_oracle = bool(data.get("has_oracle"))

    def _create_payload(self) -> dict[str, Any]:
        return {"env_id": self.env_id, "kwargs": self.env_kwargs}

    def connect(self) -> RemoteEnv:
        """Create the server-side session now (otherwise the first reset does)."""
        if self._closed:
            raise EnvError(f"RemoteEnv({self.env_id}) is closed")
        if self.session_id is None:
            self._created(self.client.request("POST", "/sessions", self._create_payload(), busy_retry=True))
        return self

    async def aconnect(self) -> RemoteEnv:
        """Async :meth:`connect`."""
        if self._closed:
            raise EnvError(f"RemoteEnv({self.env_id}) is closed")
        if self.session_id is None:
            data = await self.client.arequest("POST", "/sessions", self._create_payload(), busy_retry=True)
            self._created(data)
        return self

    def _path(self, op: str) -> str:
        if self.session_id is None:
            raise EnvError("call reset() before step()")
        return f"/sessions/{self.session_id}/{op}"

    def _lost(self, exc: SessionLostError) -> SessionLostError:
        sid, self.session_id = self.session_id, None
        return SessionLostError(
            exc.code,
            f"session {sid} of {self.env_id} on {self.url} was lost ({exc}); reset() starts a new one",
        )

    # ----- Env API -----------------------------------------------------------------------------
    def _reset_payload(self, seed: int | None, options: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"seed": seed, "options": wire.encode_options(options)}

    def _after_reset(self, data: Mapping[str, Any]) -> tuple[Observation, dict[str, Any]]:
        task = data.get("task")
        self.task = Task.from_dict(task) if task is not None else None
        self.tools = wire.decode_tools(data.get("tools", []))
        self.turn, self._episode_over, self._has_reset, self._verdict = 0, False, True, None
        obs = wire.decode_messages(data["observation"])
        self._last_observation = list(obs)
        return obs, data["info"]

    def _after_step(self, data: Mapping[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        obs = wire.decode_messages(data["observation"])
        info = data["info"]
        self.turn = int(info.get("turn", self.turn + 1))
        terminated, truncated = bool(data["terminated"]), bool(data["truncated"])
        if terminated or truncated:
            self._episode_over = True
            if isinstance(info.get("verdict"), Mapping):
                # typed, as an in-process env hands it over (the wire carries its dict)
                self._verdict = info["verdict"] = as_verdict(info["verdict"])
        self._last_observation = list(obs)
        return obs, float(data["reward"]), terminated, truncated, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Reset the remote env (creating a session first, or again after a lost one)."""
        self.connect()
        payload = self._reset_payload(seed, options)
        try:
            data = self.client.request("POST", self._path("reset"), payload)
        except SessionLostError:
            self.session_id = None
            self.connect()
            data = self.client.request("POST", self._path("reset"), payload)
        return self._after_reset(data)

    async def areset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Async :meth:`reset`."""
        await self.aconnect()
        payload = self._reset_payload(seed, options)
        try:
            data = await self.client.arequest("POST", self._path("reset"), payload)
        except SessionLostError:
            self.session_id = None
            await self.aconnect()
            data = await self.client.arequest("POST", self._path("reset"), payload)
        return self._after_reset(data)

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Send one action; the server's env parses it (malformed ones come back as observations)."""
        try:
            data = self.client.request("POST", self._path("step"), {"action": wire.encode_action(action)})
        except SessionLostError as exc:
            raise self._lost(exc) from None
        return self._after_step(data)

    async def astep(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Async :meth:`step`."""
        payload = {"action": wire.encode_action(action)}
        try:
            data = await self.client.arequest("POST", self._path("step"), payload)
        except SessionLostError as exc:
            raise self._lost(exc) from None
        return self._after_step(data)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """The remote env's random action, drawn with ``rng`` (whose state moves as if drawn here)."""
        data = self.client.request("POST", self._path("sample_action"), {"rng_state": wire.encode_rng(rng)})
        wire.set_rng_state(rng, data["rng_state"])
        return wire.decode_action(data["action"])

    def oracle_action(self) -> Action:
        """The remote env's scripted solver's next action."""
        return wire.decode_action(self.client.request("POST", self._path("oracle_action"))["action"])

    @property
    def has_oracle(self) -> bool:
        """True when the remote env has a scripted solver."""
        return self._has_oracle

    def verdict(self) -> Verdict:
        """The remote verifier's judgement of the episode so far."""
        if self._verdict is not None:
            return self._verdict
        return Verdict.from_dict(self.client.request("GET", self._path("verdict"))["verdict"])

    def close(self) -> None:
        """Close the remote session (a session already lost counts as closed)."""
        sid, self.session_id = self.session_id, None
        super().close()
        if sid is not None:
            with contextlib.suppress(ServerError):
                self.client.request("DELETE", f"/sessions/{sid}")

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        sid, self.session_id = self.session_id, None
        super().close()
        if sid is not None:
            with contextlib.suppress(ServerError):
                await self.client.arequest("DELETE", f"/sessions/{sid}")

    def __repr__(self) -> str:
        return f"RemoteEnv({self.url!r}, {self.env_id!r}, session={self.session_id})"
