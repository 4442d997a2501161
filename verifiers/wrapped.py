"""Scoring code that is not a Verifier, run under the verifier contract.

A task generator's ``verify`` (or any ``fn(task, response) -> Verdict``) is wrapped as a
:class:`Verifier`, never called around it: the response is size-capped, the call runs under a time
limit, and an exception, a hang or a result that is not a Verdict becomes an unscored Verdict
(``error`` set), never a crash and never a silent 0.

The call runs in a daemon thread that the caller stops waiting for at the time limit. A Python
thread cannot be killed, so a hung call keeps its thread (and its CPU) until it returns; code that
may spin forever on model text belongs in a :class:`~agentgym.verifiers.limits.WorkerPool`
process as well (reasoning-gym's scorers run in one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Protocol

from agentgym.core.errors import VerifierError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import MAX_RESPONSE_CHARS, Verifier

#: The default time limit of a wrapped call (seconds).
DEFAULT_TIMEOUT_S = 10.0

ScoreFn = Callable[[Task, str], Verdict]


class VerifiesTasks(Protocol):
    """What :class:`GeneratorVerifier` needs of a task generator."""

    id: str

    def verify(self, task: Task, response: str) -> Verdict:
        """Score ``response`` to ``task``."""
        ...


def _in_thread(fn: ScoreFn, task: Task, response: str) -> concurrent.futures.Future[Verdict]:
    """Start ``fn(task, response)`` in a daemon thread; its future holds the result or exception."""
    future: concurrent.futures.Future[Verdict] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(task, response))
        except BaseException as exc:  # handed to the caller, who turns it into an unscored verdict
            future.set_exception(exc)

    threading.Thread(target=run, name="agentgym-verify", daemon=True).start()
    return future


class FunctionVerifier(Verifier):
    """A function ``fn(task, response) -> Verdict`` under the contract (size cap, time limit, errors)."""

    kind = "rule"

    def __init__(
        self,
        fn: ScoreFn,
        name: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_response_chars: int = MAX_RESPONSE_CHARS,
    ) -> None:
        if timeout_s <= 0:
            raise VerifierError(f"timeout_s must be > 0, got {timeout_s}")
        self.fn, self.name = fn, name
        self.timeout_s, self.max_response_chars = float(timeout_s), int(max_response_chars)

    def _checked(self, value: Any) -> Verdict:
        if not isinstance(value, Verdict):
            raise VerifierError(f"{self.name} returned {type(value).__name__}, not a Verdict")
        return value

    def _precheck(self, response: Any) -> Verdict | None:
        if not isinstance(response, str):
            return Verdict.failed(self.name, f"response must be text, got {type(response).__name__}")
        return self._too_long(response)

    def _failure(self, exc: BaseException) -> Verdict:
        if isinstance(exc, TimeoutError):
            return Verdict.failed(self.name, f"verifier timed out after {self.timeout_s:g}s")
        return Verdict.failed(self.name, f"{type(exc).__name__}: {exc}"[:500])

    def verify(self, task: Task, response: str) -> Verdict:
        """Score ``response`` from sync code (no event loop): the caller waits at most ``timeout_s``."""
        early = self._precheck(response)
        if early is not None:
            return early
        try:
            return self._checked(_in_thread(self.fn, task, response).result(self.timeout_s))
        except Exception as exc:  # a failing verifier is unscored, never a silent 0
            return self._failure(exc)

    async def averify(self, task: Task, response: str) -> Verdict:
        """Score ``response`` without blocking the event loop; same limits as :meth:`verify`."""
        early = self._precheck(response)
        if early is not None:
            return early
        future = asyncio.wrap_future(_in_thread(self.fn, task, response))
        try:
            return self._checked(await asyncio.wait_for(future, self.timeout_s))
        except Exception as exc:
            return self._failure(exc)


class GeneratorVerifier(FunctionVerifier):
    """A task generator's ``verify`` as a Verifier: the one way an env scores a generator's task."""

    def __init__(
        self,
        generator: VerifiesTasks,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_response_chars: int = MAX_RESPONSE_CHARS,
    ) -> None:
        super().__init__(
            generator.verify, generator.id, timeout_s=timeout_s, max_response_chars=max_response_chars
        )
        self.generator = generator
