"""The parent side of the reasoning-gym worker: start it, call it under a time limit, replace it.

One worker process per parent process, shared by every rg generator and guarded by a lock (items
and scores take milliseconds; a few generators take seconds). A call that overruns its time limit
gets the worker killed (SIGKILL) and :class:`WorkerTimeout`; the next call starts a fresh worker.
A fresh interpreter (``python -m``, not fork) inherits no locks or threads of the caller, and a
forked child of the caller starts its own worker instead of sharing the parent's pipes.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from multiprocessing.connection import Connection
from typing import IO, Any

from agentgym.core.errors import AgentGymError

MEMORY_MB = 4096
START_TIMEOUT_S = 180.0


class WorkerError(AgentGymError):
    """The worker failed: it could not start, it died, or the request raised inside it."""


class WorkerTimeout(WorkerError):
    """The request overran its time limit (the worker was killed)."""


class _Process:
    """One running worker and its two pipes."""

    def __init__(self, memory_mb: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by kill())
        env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        env["MKL_NUM_THREADS"] = "1"
        command = [sys.executable, "-m", "agentgym.environments.rg.worker"]
        self.popen = subprocess.Popen(
            [*command, str(to_child_r), str(from_child_w), str(memory_mb)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal is the parent's to handle
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.send = Connection(to_child_w, readable=False)
        self.recv = Connection(from_child_r, writable=False)
        self.pid = os.getpid()  # the parent that owns the pipes

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-1500:]

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # a process stuck in the kernel
            self.popen.wait(timeout=10)
        for conn in (self.send, self.recv):
            conn.close()
        self.stderr.close()


class Worker:
    """The reasoning-gym worker of this process (see :func:`worker`)."""

    def __init__(self, memory_mb: int = MEMORY_MB) -> None:
        self.memory_mb = memory_mb
        self._process: _Process | None = None
        self._lock = threading.Lock()
        self.version: str | None = None
        self.kills = 0

    def call(self, op: str, *args: Any, timeout: float) -> Any:
        """Run ``op(*args)`` in the worker; raise WorkerTimeout after ``timeout`` seconds."""
        with self._lock:
            process = self._ensure_started()
            try:
                process.send.send((op, args))
                if not process.recv.poll(timeout):
                    self._discard(kill=True)
                    raise WorkerTimeout(f"{op} took longer than {timeout:g}s")
                status, value = process.recv.recv()
            except (EOFError, OSError) as exc:
                detail = process.stderr_tail()
                self._discard(kill=True)
                raise WorkerError(f"the reasoning-gym worker died ({type(exc).__name__}): {detail}") from None
        if status == "error":
            raise WorkerError(value)
        return value

    def _ensure_started(self) -> _Process:
        if self._process is not None and self._process.pid != os.getpid():
            self._process = None  # a forked child: the pipes belong to the parent's worker
        if self._process is not None and self._process.popen.poll() is None:
            return self._process
        if self._process is not None:
            self._discard(kill=True)
        process = _Process(self.memory_mb)
        try:
            if not process.recv.poll(START_TIMEOUT_S):
                raise WorkerError(f"the reasoning-gym worker did not start in {START_TIMEOUT_S:g}s")
            status, value = process.recv.recv()
        except (EOFError, OSError):
            status, value = "error", f"the reasoning-gym worker exited: {process.stderr_tail()}"
        except WorkerError:
            process.kill()
            raise
        if status != "ok":
            process.kill()
            raise WorkerError(str(value))
        self.version = str(value)
        self._process = process
        return process

    def _discard(self, kill: bool) -> None:
        if self._process is not None:
            if kill:
                self.kills += 1
            self._process.kill()
            self._process = None

    def close(self) -> None:
        """Stop the worker (idempotent); a later call starts a new one."""
        with self._lock:
            if self._process is not None and self._process.pid == os.getpid():
                self._process.kill()
            self._process = None


_WORKER: Worker | None = None
_WORKER_LOCK = threading.Lock()


def worker() -> Worker:
    """The process-wide worker (started on first call, stopped at exit)."""
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = Worker()
        return _WORKER


@atexit.register
def _close_worker() -> None:
    if _WORKER is not None:
        _WORKER.close()
