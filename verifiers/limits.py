"""Time and memory limits for verifier code, enforced outside the parsing library.

A Python thread cannot be stopped, and sympy can spin for hours on ``2^{30^{5}}``: work that may
hang runs in a :class:`WorkerPool` of separate processes. A call that overruns its time limit gets
its worker killed (SIGKILL) and replaced; the caller gets :class:`LimitExceeded`, never a hang.
Workers run under an address-space limit, so a memory blow-up is a MemoryError in the worker.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from agentgym.core.errors import VerifierError

DEFAULT_MEMORY_MB = 2048


class LimitExceeded(VerifierError):
    """The call overran its time limit (its worker was killed) or its worker died."""


def _worker_main(recv: Connection, send: Connection, preload: Sequence[str], memory_mb: int) -> None:
    """Worker loop: run ``(module, qualname, args)`` requests until the pipe closes."""
    try:
        import resource

        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform without rlimits
        pass
    for name in preload:
        importlib.import_module(name)
    while True:
        try:
            module, qualname, args = recv.recv()
        except (EOFError, OSError):
            return
        try:
            fn: Any = importlib.import_module(module)
            for part in qualname.split("."):
                fn = getattr(fn, part)
            send.send(("ok", fn(*args)))
        except MemoryError:
            send.send(("error", "MemoryError: the verifier ran out of its memory limit"))
        except Exception as exc:  # reported to the caller, who decides what an error means
            send.send(("error", f"{type(exc).__name__}: {exc}"[:2000]))


class _Worker:
    """One worker: a fresh ``python -m agentgym.verifiers.limits`` process on two pipes.

    A separate interpreter (not fork/spawn of this one) inherits no locks or threads and never
    re-imports the caller's ``__main__``, so it works from scripts, notebooks and servers alike.
    """

    def __init__(self, preload: Sequence[str], memory_mb: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        args = [
            sys.executable,
            "-m",
            "agentgym.verifiers.limits",
            str(to_child_r),
            str(from_child_w),
            str(memory_mb),
        ]
        self.process = subprocess.Popen(
            [*args, *preload],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.recv_conn = Connection(from_child_r, writable=False)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        self.send_conn.close()
        self.recv_conn.close()


class WorkerPool:
    """A few long-lived worker processes that run module-level functions under a time limit.

    Thread-safe; ``call`` blocks the calling thread, ``acall`` awaits in a worker thread. Workers
    start on first use.
    """

    def __init__(
        self, workers: int = 2, preload: Sequence[str] = (), memory_mb: int = DEFAULT_MEMORY_MB
    ) -> None:
        if workers < 1:
            raise VerifierError(f"workers must be >= 1, got {workers}")
        self.size, self.preload, self.memory_mb = workers, tuple(preload), memory_mb
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = False
        self.kills = 0

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            for _ in range(self.size):
                self._spawn()
            self._started = True

    def _spawn(self) -> None:
        worker = _Worker(self.preload, self.memory_mb)
        self._all.append(worker)
        self._idle.put(worker)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float) -> Any:
        """Run ``fn(*args)`` in a worker; raise LimitExceeded after ``timeout`` seconds.

        ``fn`` must be a module-level function (it is sent by name). Its exceptions come back as
        VerifierError with the original type and message.
        """
        self._start()
        worker = self._idle.get()
        try:
            worker.send_conn.send((fn.__module__, fn.__qualname__, args))
            if not worker.recv_conn.poll(timeout):
                raise LimitExceeded(f"{fn.__qualname__} took longer than {timeout:g}s")
            status, value = worker.recv_conn.recv()
        except LimitExceeded:
            self._replace(worker)
            raise
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._replace(worker)
            raise LimitExceeded(f"the verifier worker died ({type(exc).__name__})") from None
        self._idle.put(worker)
        if status == "error":
            raise VerifierError(value)
        return value

    async def acall(self, fn: Callable[..., Any], *args: Any, timeout: float) -> Any:
        """Async :meth:`call` (the wait happens in a worker thread)."""
        return await asyncio.to_thread(self.call, fn, *args, timeout=timeout)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self.kills += 1
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            self._spawn()

    def close(self) -> None:
        """Stop every worker (idempotent)."""
        with self._lock:
            for worker in self._all:
                worker.kill()
            self._all.clear()
            self._started = False
            self._idle = queue.Queue()


_POOLS: dict[tuple[str, ...], WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(preload: Sequence[str] = ()) -> WorkerPool:
    """The process-wide pool for ``preload`` (one per distinct preload list), closed at exit."""
    key = tuple(preload)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            workers = max(1, min(4, (os.cpu_count() or 2)))
            pool = _POOLS[key] = WorkerPool(workers=workers, preload=key)
        return pool


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS.values()):
        pool.close()


if (
    __name__ == "__main__"
):  # a worker: python -m agentgym.verifiers.limits RECV_FD SEND_FD MEMORY_MB [MODULE ...]
    _worker_main(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        sys.argv[4:],
        int(sys.argv[3]),
    )
