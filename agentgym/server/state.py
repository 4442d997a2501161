"""The env server's state: sessions placed on worker processes, the idle reaper, and metrics."""

from __future__ import annotations

import array
import asyncio
import collections
import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.server.host import env_allowed, error_reply
from agentgym.server.workers import Worker, WorkerLost, WorkerPool, WorkerTimeout

Reply = tuple[int, bytes]
#: How many recently lost session ids are remembered (to answer 410 instead of 404).
LOST_MEMORY = 4096
# Why a session was lost: one string each, not one per session.
_DIED = "its worker process died (crashed, killed or restarted)"
_TIMED_OUT = "timed out"
_CLOSED = "closed"


def _fresh(text: str) -> str:
    """An equal string that is a new object (see :meth:`ServerState.compact`)."""
    return text.encode().decode()


@dataclass(frozen=True)
class ServerConfig:
    """How an env server runs (``agentgym serve`` options)."""

    host: str = "127.0.0.1"
    port: int = 8000
    env_patterns: tuple[str, ...] = ()
    max_sessions: int = 1024
    workers: int = 0  # 0: one per CPU
    session_ttl_s: float = 300.0
    call_timeout_s: float = 60.0
    create_timeout_s: float = 120.0
    retry_after_s: float = 1.0
    imports: tuple[str, ...] = ()

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field."""
        from agentgym.core.errors import ConfigError

        if self.max_sessions < 1:
            raise ConfigError(f"max_sessions must be >= 1, got {self.max_sessions}")
        if self.workers < 0:
            raise ConfigError(f"workers must be >= 0, got {self.workers}")
        for name in ("session_ttl_s", "call_timeout_s", "create_timeout_s", "retry_after_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")

    @property
    def worker_count(self) -> int:
        """The number of worker processes to run."""
        return self.workers or max(1, os.cpu_count() or 1)


@dataclass
class Session:
    """One env instance on one worker."""

    id: str
    env_id: str
    worker: Worker
    generation: int
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    inflight: int = 0


class Latencies:
    """The last few thousand call durations of one operation, for p50/p99.

    A ring of C doubles, not a deque of float objects: thousands of floats made during a burst
    would outlive it scattered over the heap, and each pins a whole allocator arena (1 MiB).
    """

    def __init__(self, size: int = 4096) -> None:
        self.samples = array.array("d", bytes(8 * size))
        self.count = 0

    def add(self, seconds: float) -> None:
        """Record one call."""
        self.samples[self.count % len(self.samples)] = seconds
        self.count += 1

    def summary(self) -> dict[str, float]:
        """Call count and p50/p99/max in milliseconds over the recent window."""
        if not self.count:
            return {"count": self.count}
        xs = sorted(self.samples[: min(self.count, len(self.samples))])
        pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000  # noqa: E731
        return {"count": self.count, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": xs[-1] * 1000}


class ServerState:
    """Sessions, workers and counters of one server."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.pool = WorkerPool(config.worker_count, config.env_patterns, config.imports)
        self.sessions: dict[str, Session] = {}
        self.lost: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.creating = 0
        self.counters: collections.Counter[str] = collections.Counter()
        self.latency: dict[str, Latencies] = collections.defaultdict(Latencies)
        self.started = time.time()
        self._idle_reason = f"idle for more than the {config.session_ttl_s:g}s session TTL"
        self._forgotten = 0  # sessions forgotten since the last compaction
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Future[Reply]] = set()
        #: The refusal beyond capacity, built once: refusing must cost (almost) nothing.
        self.busy_reply: Reply = error_reply(
            "busy",
            f"the server holds its maximum of {config.max_sessions} sessions",
            retry_after=config.retry_after_s,
        )

    def full(self) -> bool:
        """True when a new session would exceed ``max_sessions`` (counting those being created)."""
        return len(self.sessions) + self.creating >= self.config.max_sessions

    async def start(self) -> None:
        """Start the workers and the idle reaper."""
        await self.pool.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def stop(self) -> None:
        """Stop the reaper and the workers (which close their sessions)."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        self.sessions.clear()
        await self.pool.stop()

    # ----- sessions ------------------------------------------------------------------------------
    def _forget(self, session: Session, why: str) -> None:
        if (
            self.sessions.pop(session.id, None) is not None
            and session.generation == session.worker.generation
        ):
            session.worker.sessions = max(0, session.worker.sessions - 1)
        self.lost[session.id] = why
        self._forgotten += 1
        while len(self.lost) > LOST_MEMORY:
            self.lost.popitem(last=False)

    def compact(self) -> None:
        """Rebuild the long-lived tables with fresh objects, so the heap a burst left can be freed.

        CPython's allocator frees a 1 MiB arena only when every object in it is gone. The few
        thousand ids and counts a burst leaves behind (lost-session ids, counter values) were
        allocated among its short-lived objects, one or two per arena, and would keep tens of MB
        resident after the load; copied now, they pack into a few arenas. Runs from the reaper.
        """
        if self._forgotten:
            self._forgotten = 0
            self.lost = collections.OrderedDict((_fresh(k), v) for k, v in self.lost.items())
        self.counters = collections.Counter({_fresh(k): int(str(v)) for k, v in self.counters.items()})

    def lookup(self, session_id: str) -> Session | Reply:
        """The live session, or the error reply for an unknown or lost one."""
        session = self.sessions.get(session_id)
        if session is None:
            why = self.lost.get(session_id)
            if why is not None:
                return error_reply("session_lost", f"session {session_id} was lost: {why}")
            return error_reply("not_found", f"no session {session_id!r} on this server")
        if session.generation != session.worker.generation or not session.worker.alive:
            self._forget(session, _DIED)
            self.counters["sessions_lost"] += 1
            return error_reply("session_lost", f"session {session_id} was lost: its worker process died")
        return session

    async def create(self, env_id: str, body: bytes) -> Reply:
        """Place a new session on the least-loaded worker (or answer busy / not allowed)."""
        if not env_allowed(env_id, self.config.env_patterns):
            patterns = ", ".join(self.config.env_patterns)
            return error_reply("env_not_allowed", f"env {env_id!r} is not served here (serving {patterns})")
        if self.full():
            self.counters["busy"] += 1
            return self.busy_reply
        self.creating += 1
        try:
            worker = await self.pool.wait_for_worker(self.config.create_timeout_s)
            if worker is None:
                return error_reply("busy", "no worker is running", retry_after=self.config.retry_after_s)
            session_id = secrets.token_hex(12)
            generation = worker.generation
            status, out = await self._call(worker, "create", session_id, body, self.config.create_timeout_s)
            if status == 200:
                if worker.generation != generation:
                    return error_reply("session_lost", "the worker died while the session was created")
                self.sessions[session_id] = Session(session_id, env_id, worker, generation)
                worker.sessions += 1
                self.counters["sessions_created"] += 1
            return status, out
        finally:
            self.creating -= 1

    async def call(self, session_id: str, op: str, body: bytes) -> Reply:
        """Run ``op`` on a session's worker, with the per-call timeout."""
        found = self.lookup(session_id)
        if not isinstance(found, Session):
            return found
        session = found
        session.inflight += 1
        try:
            status, out = await self._call(session.worker, op, session_id, body, self.config.call_timeout_s)
        finally:
            session.inflight -= 1
            session.last_used = time.monotonic()
        if status in (410, 504):
            self._forget(session, _TIMED_OUT if status == 504 else _DIED)
            self.counters["sessions_lost"] += 1
        elif op == "close":
            self._forget(session, _CLOSED)
            self.counters["sessions_closed"] += 1
        return status, out

    async def _call(self, worker: Worker, op: str, session_id: str, body: bytes, timeout: float) -> Reply:
        t0 = time.perf_counter()
        try:
            status, out = await worker.call(op, session_id, body, timeout)
        except WorkerTimeout as exc:
            self.counters["timeouts"] += 1
            status, out = error_reply(
                "timeout", f"{op} {exc}; the session is lost (its worker was restarted)"
            )
        except WorkerLost as exc:
            self.counters["worker_losses"] += 1
            status, out = error_reply("session_lost", f"{op} failed: {exc}")
        self.latency[op].add(time.perf_counter() - t0)
        self.counters[f"{op}_calls"] += 1
        if status >= 400:
            self.counters[f"http_{status}"] += 1
        return status, out

    # ----- reaping -------------------------------------------------------------------------------
    async def _reap_forever(self) -> None:
        interval = max(0.1, min(5.0, self.config.session_ttl_s / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reap()
                self.compact()  # both cheap (ms) every few seconds; they give back what a burst left
                release_memory()
            except Exception:  # the reaper must outlive any one failure
                self.counters["reaper_errors"] += 1

    async def reap(self) -> int:
        """Free sessions idle longer than the TTL and forget those whose worker died.

        An expired session is freed here at once (its slot counts towards ``max_sessions`` no
        more); the close it needs on its worker is queued there without waiting for it, so one busy
        or hung worker delays only its own closes, not the reaping of every other session.
        """
        now = time.monotonic()
        ttl = self.config.session_ttl_s
        reaped = 0
        for session in list(self.sessions.values()):
            if session.generation != session.worker.generation:
                self._forget(session, _DIED)
                self.counters["sessions_lost"] += 1
            elif session.inflight == 0 and now - session.last_used > ttl:
                self._forget(session, self._idle_reason)
                self.counters["sessions_reaped"] += 1
                reaped += 1
                if session.worker.alive:
                    closing = session.worker.call("close", session.id, b"", self.config.call_timeout_s)
                    self._closing.add(closing)
                    closing.add_done_callback(self._closed)
        return reaped

    def _closed(self, closing: asyncio.Future[Reply]) -> None:
        self._closing.discard(closing)
        if not closing.cancelled() and closing.exception() is not None:  # WorkerLost: gone anyway
            self.counters["reaper_close_errors"] += 1

    # ----- reporting -----------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        """Sessions, calls, errors, latencies (ms) and the process's resources."""
        return {
            "sessions": len(self.sessions),
            "max_sessions": self.config.max_sessions,
            "uptime_s": time.time() - self.started,
            "counters": dict(self.counters),
            "latency_ms": {op: lat.summary() for op, lat in self.latency.items()},
            "workers": self.pool.stats(),
            "worker_restarts": self.pool.restarts,
            "process": process_stats(),
        }


def release_memory() -> None:
    """Hand freed heap back to the OS (glibc ``malloc_trim``), after load has gone.

    CPython frees objects into glibc's arenas, which keep the pages: after a burst of thousands of
    connections and refusals the front's RSS would stay tens of MB above its baseline for good.
    """
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc: nothing to do
            _trim = False
    if _trim:
        _trim(0)


_trim: Any = None


def process_stats(pid: int | None = None) -> dict[str, Any]:
    """RSS, open file descriptors and child processes of ``pid`` (default: this process), Linux."""
    pid = pid or os.getpid()
    out: dict[str, Any] = {"pid": pid}
    with contextlib.suppress(OSError):
        out["open_fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_bytes"] = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError):
        out["children"] = len(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    return out
