"""An OpenEnv ``Environment`` over any AgentGym env id: one session, one env, one thread.

OpenEnv's server builds one :class:`AgentGymEnvironment` per WebSocket session (and one per HTTP
``/reset`` or ``/step`` request). Building it is cheap: the AgentGym env is made on the first
``reset``, in the session's own thread, where every later call (reset, step, close) runs too, so
thread-bound envs (a sync Playwright browser) work. Guarantees, as ``agentgym serve`` gives them:

- **bounded**: a :class:`SessionBudget` shared by the app counts live envs; a reset beyond it is
  refused at once (:class:`CapacityError`; HTTP 503, a WebSocket error frame), never queued;
- **a failing env ends only its own episode**: an exception in ``reset``/``step`` becomes an error
  observation (``done``, ``truncated``, ``metadata["error"]``) and the env is closed; a call past
  its timeout (``timeout_s``, at most the server's ``call_timeout_s``) answers the same way, with
  code ``timeout``. A hung thread cannot be stopped in-process: it keeps its budget slot until it
  returns, so capacity stays honest (``agentgym serve`` without ``--protocol openenv`` runs envs in
  worker processes it can kill);
- protocol misuse (step before reset, after the end, unknown reset arguments) raises: OpenEnv
  answers it as an error frame and the session stays usable.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.task import Task
from agentgym.integrations import openenv_tasks as tasks
from agentgym.integrations.openenv_models import (
    ChatAction,
    ChatObservation,
    ChatState,
    json_safe,
    to_agentgym_action,
    tools_payload,
)

T = TypeVar("T")

#: Keyword arguments ``reset`` takes besides ``seed`` and ``episode_id``.
RESET_KWARGS = frozenset({"task", "split", "index", "options"})


class CapacityError(RuntimeError):
    """The server holds as many live envs as it may; retry later (HTTP 503)."""


class SessionBudget:
    """A bound on live envs across one app (all its env ids): taken on build, given back on close."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ConfigError(f"max sessions must be >= 1, got {limit}")
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Envs alive now (a hung one counts until its call returns)."""
        return self._used

    def acquire(self) -> None:
        """Take a slot or raise :class:`CapacityError` at once."""
        with self._lock:
            if self._used >= self.limit:
                raise CapacityError(
                    f"server at capacity: {self._used} of {self.limit} envs live; retry later"
                )
            self._used += 1

    def release(self) -> None:
        """Give a slot back."""
        with self._lock:
            self._used = max(0, self._used - 1)


class AgentGymEnvironment(Environment[ChatAction, ChatObservation, ChatState]):
    """One OpenEnv session over the AgentGym env ``env_id`` (see the module docstring)."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(
        self,
        env_id: str,
        env_kwargs: Mapping[str, Any] | None = None,
        *,
        budget: SessionBudget | None = None,
        call_timeout_s: float = 120.0,
    ) -> None:
        super().__init__()
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.budget = budget if budget is not None else SessionBudget(1)
        self.call_timeout_s = call_timeout_s
        self._env: Any = None
        self._executor: _SessionThread | None = None
        self._closed = False
        self._state = ChatState(env_id=env_id, done=True)

    # ----- OpenEnv API ----------------------------------------------------------------------
    def reset(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> ChatObservation:
        """Start an episode: ``task`` (a task dict), or ``split`` and ``index``, or the env's own draw."""
        return self._wait(self._submit(lambda: self._do_reset(seed, episode_id, kwargs)), self.call_timeout_s)

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> ChatObservation:
        """:meth:`reset` without blocking the event loop."""
        future = self._submit(lambda: self._do_reset(seed, episode_id, kwargs))
        return await self._await(future, self.call_timeout_s)

    def step(self, action: ChatAction, timeout_s: float | None = None, **kwargs: Any) -> ChatObservation:
        """Apply the assistant's reply; a failing or hung env gives an error observation."""
        self._check_step(kwargs)
        return self._wait(self._submit(lambda: self._do_step(action)), self._timeout(timeout_s))

    async def step_async(
        self, action: ChatAction, timeout_s: float | None = None, **kwargs: Any
    ) -> ChatObservation:
        """:meth:`step` without blocking the event loop."""
        self._check_step(kwargs)
        return await self._await(self._submit(lambda: self._do_step(action)), self._timeout(timeout_s))

    @property
    def state(self) -> ChatState:
        """The session's episode: ids, seed, turn, done."""
        return self._state.model_copy()

    def get_metadata(self) -> EnvironmentMetadata:
        """Name (the env id), description and version, from the env's spec."""
        from agentgym import __version__
        from agentgym.registry import spec

        return EnvironmentMetadata(
            name=self.env_id, description=spec(self.env_id).description or self.env_id, version=__version__
        )

    def close(self) -> None:
        """End the session: the env is closed in its own thread (after a running call, if any)."""
        self._closed = True
        self._drop_env("session closed")

    # ----- OpenEnv task provider (async: loading a suite must not block the event loop) -----
    async def list_splits(self) -> list[dict[str, Any]]:
        """``train`` (generator stream) and ``test`` (frozen suite), where the env has them."""
        return await asyncio.to_thread(tasks.list_splits, self.env_id)

    async def num_tasks(self, split: str) -> int:
        """How many tasks ``split`` holds."""
        return await asyncio.to_thread(tasks.num_tasks, self.env_id, split)

    async def list_tasks(self, split: str) -> list[dict[str, Any]]:
        """A preview of ``split``'s tasks (at most ``openenv_tasks.LIST_PREVIEW`` of them)."""
        return await asyncio.to_thread(tasks.list_tasks, self.env_id, split)

    async def get_task(self, split: str, index: int) -> dict[str, Any]:
        """Task ``index`` of ``split``: a dict ``reset(task=...)`` takes back."""
        return await asyncio.to_thread(tasks.get_task, self.env_id, split, index)

    async def get_task_range(
        self, split: str, start: int | None = None, stop: int | None = None
    ) -> list[Any]:
        """Tasks ``[start, stop)`` of ``split``."""
        return await asyncio.to_thread(tasks.list_tasks, self.env_id, split, start or 0, stop)

    # ----- running calls in the session's thread ------------------------------------------
    def _submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        if self._closed:
            raise EnvError("this session is closed (idle past the server's timeout, or closed); reconnect")
        if self._executor is None:
            self._executor = _SessionThread()
        return self._executor.submit(fn)

    def _wait(self, future: concurrent.futures.Future[ChatObservation], timeout: float) -> ChatObservation:
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            return self._timed_out(timeout)

    async def _await(
        self, future: concurrent.futures.Future[ChatObservation], timeout: float
    ) -> ChatObservation:
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except asyncio.TimeoutError:
            return self._timed_out(timeout)

    def _timeout(self, timeout_s: float | None) -> float:
        if timeout_s is None:
            return self.call_timeout_s
        return min(float(timeout_s), self.call_timeout_s)

    def _timed_out(self, timeout: float) -> ChatObservation:
        message = f"the env did not answer within {timeout:g} s; its episode is over (reset to start another)"
        self._drop_env(message)  # the hung thread keeps its slot until it returns, then closes the env
        return self._error_observation("timeout", message)

    def _drop_env(self, reason: str) -> None:
        """Close the env after whatever runs in its thread, give its slot back; a new one comes on reset."""
        env, executor = self._env, self._executor
        self._env, self._executor = None, None
        self._state = self._state.model_copy(update={"done": True})
        if executor is None:
            return
        if env is not None:
            executor.submit(_close_quietly, env, self.budget)
        executor.shutdown(wait=False)

    # ----- the calls themselves (in the session's thread) ---------------------------------
    def _do_reset(
        self, seed: int | None, episode_id: str | None, kwargs: Mapping[str, Any]
    ) -> ChatObservation:
        options = self._reset_options(seed, kwargs)
        if self._env is None:
            from agentgym.registry import make

            self.budget.acquire()
            try:
                self._env = make(self.env_id, **self.env_kwargs)
            except BaseException:
                self.budget.release()
                raise
        env = self._env
        try:
            obs, info = env.reset(seed=seed, options=options)
        except (ConfigError, KeyError, TypeError) as exc:  # the caller's task or options do not fit
            raise ConfigError(f"reset failed: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # the env failed: end its episode, not the server
            return self._env_failed(exc, env)
        self._state = ChatState(
            episode_id=episode_id or uuid.uuid4().hex,
            step_count=0,
            env_id=self.env_id,
            task_id=info.get("task_id"),
            seed=seed,
            done=False,
        )
        return self._observation(obs, None, False, False, info)

    def _do_step(self, action: ChatAction) -> ChatObservation:
        env = self._env
        if env is None or self._state.done:
            raise EnvError("no episode is running: call reset first (a new one after each end)")
        try:
            obs, reward, terminated, truncated, info = env.step(to_agentgym_action(action))
        except Exception as exc:
            return self._env_failed(exc, env)
        if self._env is not env:  # timed out meanwhile: the session moved on without this env
            return self._error_observation("timeout", "the step finished after its timeout")
        done = bool(terminated or truncated)
        self._state = self._state.model_copy(update={"step_count": self._state.step_count + 1, "done": done})
        return self._observation(obs, float(reward), bool(terminated), bool(truncated), info)

    def _reset_options(self, seed: int | None, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        unknown = sorted(set(kwargs) - RESET_KWARGS)
        if unknown:
            raise ConfigError(
                f"reset takes seed, episode_id, {', '.join(sorted(RESET_KWARGS))}; not {unknown}"
            )
        raw_options = kwargs.get("options")
        if raw_options is not None and not isinstance(raw_options, Mapping):
            raise ConfigError("reset's 'options' must be an object")
        options = dict(raw_options or {})
        task, split = kwargs.get("task"), kwargs.get("split")
        if task is not None and split is not None:
            raise ConfigError("reset takes a task or a split, not both")
        if task is not None:
            if not isinstance(task, Mapping):
                raise ConfigError("reset's 'task' must be a task object (Task.to_dict(), as get_task gives)")
            options["task"] = Task.from_dict(task)
        elif split is not None:
            index = kwargs.get("index")
            if index is None:  # a task of the split drawn from the seed
                index = int(np.random.default_rng(seed).integers(tasks.num_tasks(self.env_id, str(split))))
            try:
                options["task"] = tasks.task_at(self.env_id, str(split), index)
            except IndexError as exc:
                raise ConfigError(str(exc)) from None
        elif kwargs.get("index") is not None:
            raise ConfigError("reset's 'index' needs a 'split'")
        return options or None

    def _observation(
        self, obs: list[Any], reward: float | None, terminated: bool, truncated: bool, info: Mapping[str, Any]
    ) -> ChatObservation:
        from agentgym.registry import unwrap

        info = dict(info)
        verdict = info.pop("verdict", None)
        metadata: dict[str, Any] = {
            "env_id": self.env_id,
            "episode_id": self._state.episode_id,
            "task_id": info.get("task_id"),
            "turn": info.get("turn", self._state.step_count),
        }
        if verdict is not None:
            metadata["verdict"] = json_safe(verdict)
        return ChatObservation(
            messages=[m.to_dict() for m in obs],
            tools=tools_payload(unwrap(self._env).tools),
            reward=reward,
            done=terminated or truncated,
            terminated=terminated,
            truncated=truncated,
            info=json_safe(info),
            metadata=metadata,
        )

    def _env_failed(self, exc: BaseException, env: Any) -> ChatObservation:
        message = f"the env failed: {type(exc).__name__}: {str(exc)[:2000]}"
        if self._env is env:  # else a timeout dropped it already (its close is queued behind this call)
            self._env = None
            self._state = self._state.model_copy(update={"done": True})
            _close_quietly(env, self.budget)  # already in the session's thread
        return self._error_observation("env_error", message)

    def _error_observation(self, code: str, message: str) -> ChatObservation:
        return ChatObservation(
            messages=[],
            reward=None,
            done=True,
            truncated=True,
            metadata={
                "env_id": self.env_id,
                "episode_id": self._state.episode_id,
                "task_id": self._state.task_id,
                "turn": self._state.step_count,
                "error": {"code": code, "message": message},
            },
        )

    def _check_step(self, kwargs: Mapping[str, Any]) -> None:
        if kwargs:
            raise ConfigError(f"step takes an action and timeout_s; not {sorted(kwargs)}")


def _close_quietly(env: Any, budget: SessionBudget) -> None:
    """Close an env, whatever it raises, and give its slot back."""
    try:
        env.close()
    except Exception:  # a failing close must not take the session's thread down
        pass
    finally:
        budget.release()


__all__ = ["AgentGymEnvironment", "CapacityError", "SessionBudget"]


class _SessionThread:
    """One daemon thread running a session's calls in order.

    A ThreadPoolExecutor's worker is joined at interpreter exit, so one hung env would keep the
    whole server (or a test run) from ever exiting.
    """

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._run, name="openenv-session", daemon=True).start()

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args)`` after the calls already queued; its result comes back in the future."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._calls.put((future, functools.partial(fn, *args)))
        return future

    def shutdown(self, wait: bool = False) -> None:
        """Stop after the queued calls (never waits: a hung call must not block the caller)."""
        self._calls.put(None)

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            future, fn = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # delivered to the waiting caller
                future.set_exception(exc)
