"""Worker processes that host env sessions for the server, with per-call timeouts and restarts.

Each worker is ``python -m agentgym.server.worker_main FD`` talking over a socket pair: requests
``(op, session_id, body)`` go in, replies ``(status, json_bytes)`` come back in order. The server
sends several requests ahead (pipelining); because a worker answers in order, the server knows when
each call starts (when the one before it returned) and times each from there. A call that runs
past its timeout gets the worker killed (a hung thread cannot be stopped; a process can): that
call is answered ``timeout``, the worker's other sessions are lost (``session_lost``) and a fresh
worker takes its place. A worker that crashes is replaced the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import pickle
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

#: Seconds a new worker may take to import agentgym and the env families.
START_TIMEOUT_S = 120.0


class WorkerLost(Exception):
    """The worker died (crashed, killed, or killed for a timeout) before answering."""


class WorkerTimeout(WorkerLost):
    """The call ran past its timeout; its worker was killed."""


@dataclass
class _Pending:
    future: asyncio.Future[tuple[int, bytes]]
    timeout: float


@dataclass
class Worker:
    """One worker process and the calls sent to it, oldest first."""

    index: int
    env_patterns: tuple[str, ...]
    imports: tuple[str, ...] = ()
    on_death: Any = None
    generation: int = 0
    sessions: int = 0
    restarts: int = 0
    proc: subprocess.Popen[bytes] | None = None
    conn: socket.socket | None = None
    pending: collections.deque[_Pending] = field(default_factory=collections.deque)
    ready: asyncio.Future[None] | None = None
    _timer: asyncio.TimerHandle | None = None
    _timed_out: bool = False
    # Frames in multiprocessing.Connection's format ("!i" length, payload), written and read
    # without blocking the event loop: a worker that stops reading cannot stall the server.
    _out: bytearray = field(default_factory=bytearray)
    _in: bytearray = field(default_factory=bytearray)

    @property
    def alive(self) -> bool:
        """True when the process runs and said it is ready."""
        return self.conn is not None and self.ready is not None and self.ready.done() and not self._timed_out

    @property
    def pid(self) -> int | None:
        """The worker's process id (None between a death and the restart)."""
        return self.proc.pid if self.proc is not None and self.conn is not None else None

    async def start(self) -> None:
        """Start the process and wait until it has imported the env families."""
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair()
        env = {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
        config = json.dumps({"patterns": list(self.env_patterns), "imports": list(self.imports)})
        argv = [sys.executable, "-m", "agentgym.server.worker_main", str(child.fileno()), config]
        self.proc = subprocess.Popen(argv, pass_fds=(child.fileno(),), env=env, stdin=subprocess.DEVNULL)
        child.close()
        parent.setblocking(False)
        self.conn = parent
        self._out, self._in = bytearray(), bytearray()
        self.generation += 1
        self.sessions = 0
        self._timed_out = False
        self.ready = loop.create_future()
        loop.add_reader(self.conn.fileno(), self._on_readable)
        try:
            await asyncio.wait_for(asyncio.shield(self.ready), START_TIMEOUT_S)
        except (asyncio.TimeoutError, WorkerLost) as exc:
            self._die("did not start")
            raise WorkerLost(f"worker {self.index} did not start: {exc}") from None

    def call(
        self, op: str, session_id: str, body: bytes, timeout: float
    ) -> asyncio.Future[tuple[int, bytes]]:
        """Send one call; the future resolves to ``(status, json_bytes)`` or raises WorkerLost."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        if not self.alive or self.conn is None:
            fut.set_exception(WorkerLost(f"worker {self.index} is restarting"))
            return fut
        payload = pickle.dumps((op, session_id, body), protocol=pickle.HIGHEST_PROTOCOL)
        self.pending.append(_Pending(fut, timeout))
        if len(self.pending) == 1:
            self._arm()
        idle = not self._out
        self._out += struct.pack("!i", len(payload)) + payload
        if idle:
            self._flush()
            if self._out and self.conn is not None:
                loop.add_writer(self.conn.fileno(), self._on_writable)
        return fut

    def _flush(self) -> None:
        """Write what the socket takes now."""
        try:
            while self._out and self.conn is not None:
                sent = self.conn.send(self._out)
                del self._out[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._die("the socket broke")

    def _on_writable(self) -> None:
        self._flush()
        if not self._out and self.conn is not None:
            asyncio.get_running_loop().remove_writer(self.conn.fileno())

    def _arm(self) -> None:
        """Time the call at the head of the queue (it starts now)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.pending:
            self._timer = asyncio.get_running_loop().call_later(self.pending[0].timeout, self._on_timeout)

    def _on_timeout(self) -> None:
        self._timer = None
        if self.pending:
            self._timed_out = True
            self._die("a call timed out")

    def _on_readable(self) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            chunk = conn.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._die("the process exited")
            return
        buf = self._in
        buf += chunk
        while len(buf) >= 4:
            (size,) = struct.unpack_from("!i", buf)
            start = 4
            if size == -1:  # Connection's header for payloads of 2 GiB and more
                if len(buf) < 12:
                    return
                (size,) = struct.unpack_from("!Q", buf, 4)
                start = 12
            if len(buf) < start + size:
                return
            frame = bytes(buf[start : start + size])
            del buf[: start + size]
            self._on_frame(frame)
            if self.conn is None:
                return

    def _on_frame(self, data: bytes) -> None:
        if self.ready is not None and not self.ready.done():
            self.ready.set_result(None)
            return
        if not self.pending:
            return
        item = self.pending.popleft()
        if not item.future.done():
            item.future.set_result(pickle.loads(data))
        self._arm()

    def _die(self, reason: str) -> None:
        """Forget the process: kill it, fail every call sent to it, and ask the pool for a new one."""
        if self.conn is None:
            return
        # A worker that never became ready is retried by whoever started it, not by the pool.
        was_ready = self.ready is not None and self.ready.done() and self.ready.exception() is None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            loop.remove_reader(self.conn.fileno())
        with contextlib.suppress(Exception):
            loop.remove_writer(self.conn.fileno())
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = None
        self._out.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
        if proc is not None:
            loop.run_in_executor(None, proc.wait)
        timed_out = self._timed_out
        first = True
        while self.pending:
            item = self.pending.popleft()
            if item.future.done():
                continue
            if first and timed_out:
                exc: WorkerLost = WorkerTimeout(f"the call ran past its {item.timeout:g}s timeout")
            else:
                exc = WorkerLost(f"worker {self.index} died ({reason})")
            item.future.set_exception(exc)
            item.future.exception()  # mark retrieved: a caller may have gone
            first = False
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(WorkerLost(reason))
            self.ready.exception()
        if was_ready and self.on_death is not None:
            self.on_death(self, reason)

    async def stop(self, grace_s: float = 3.0) -> None:
        """Close the socket (the worker closes its sessions and exits); kill it if it lingers."""
        proc, conn = self.proc, self.conn
        if conn is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(conn.fileno())
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_writer(conn.fileno())
            conn.close()
            self.conn = None
        if proc is None:
            return
        deadline = time.monotonic() + grace_s
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            await asyncio.get_running_loop().run_in_executor(None, proc.wait)


class WorkerPool:
    """A fixed number of workers; a dead one is restarted in the background."""

    def __init__(self, size: int, env_patterns: tuple[str, ...] = (), imports: tuple[str, ...] = ()) -> None:
        self.workers = [
            Worker(i, env_patterns, imports, on_death=self._on_death) for i in range(max(1, size))
        ]
        self.restarts = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start every worker (in parallel) and wait until all are ready."""
        await asyncio.gather(*(w.start() for w in self.workers))

    def pick(self) -> Worker | None:
        """The live worker with the fewest sessions (None while every worker restarts)."""
        live = [w for w in self.workers if w.alive]
        return min(live, key=lambda w: (w.sessions, len(w.pending))) if live else None

    async def wait_for_worker(self, timeout: float) -> Worker | None:
        """A live worker, waiting up to ``timeout`` seconds for a restart to finish."""
        deadline = time.monotonic() + timeout
        while True:
            worker = self.pick()
            if worker is not None or time.monotonic() >= deadline or self._closing:
                return worker
            await asyncio.sleep(0.05)

    def _on_death(self, worker: Worker, reason: str) -> None:
        if self._closing:
            return
        self.restarts += 1
        worker.restarts += 1
        task = asyncio.get_running_loop().create_task(self._restart(worker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _restart(self, worker: Worker) -> None:
        for attempt in range(5):
            try:
                await worker.start()
                return
            except WorkerLost:
                await asyncio.sleep(min(5.0, 0.5 * 2**attempt))

    async def stop(self) -> None:
        """Stop every worker and any restart in progress."""
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in self.workers))

    def stats(self) -> list[dict[str, Any]]:
        """Per worker: pid, alive, sessions, calls queued, restarts."""
        return [
            {
                "index": w.index,
                "pid": w.pid,
                "alive": w.alive,
                "sessions": w.sessions,
                "queued": len(w.pending),
                "restarts": w.restarts,
                "generation": w.generation,
            }
            for w in self.workers
        ]
