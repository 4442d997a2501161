"""One command through the Engine API's exec: stream both outputs into capped buffers, under a deadline.

The exec's output arrives multiplexed on one socket (an 8-byte header per frame: stream id, three
zero bytes, big-endian length). :func:`stream_exec` reads it with a ``select`` loop in 64 KiB
chunks and parses frames incrementally (:class:`FrameDemux`), so a gigabyte writer costs time,
not memory: each stream keeps its first ``cap`` bytes and counts the rest. At the deadline it
calls ``on_deadline`` once (which should kill the command), then gives up on the socket after
``grace`` seconds.
"""

from __future__ import annotations

import contextlib
import selectors
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentgym.sandbox.capture import CappedBuffer

READ_CHUNK = 1 << 16
HEADER = struct.Struct(">BxxxL")
POLL_INTERVAL = 0.1


class FrameDemux:
    """Incremental parser of Docker's multiplexed stdout/stderr stream."""

    def __init__(self, stdout: CappedBuffer, stderr: CappedBuffer) -> None:
        self._buffers = {1: stdout, 2: stderr}
        self._header = bytearray()
        self._left = 0  # payload bytes still due for the current frame
        self._target = stdout

    def feed(self, chunk: bytes) -> None:
        """Consume a chunk of raw socket data (any size, any alignment to frames)."""
        view = memoryview(chunk)
        while view:
            if self._left == 0:
                need = HEADER.size - len(self._header)
                self._header += view[:need]
                view = view[need:]
                if len(self._header) < HEADER.size:
                    return
                stream, self._left = HEADER.unpack(self._header)
                self._header.clear()
                # stream 0 is stdin (never sent back); treat anything unknown as stderr
                self._target = self._buffers.get(stream, self._buffers[2])
                continue
            take = view[: self._left]
            self._target.feed(bytes(take))
            self._left -= len(take)
            view = view[len(take) :]


@dataclass
class ExecOutcome:
    """What one exec did: its exit code (None if unknown), both outputs, and how it ended."""

    exit_code: int | None
    stdout: CappedBuffer
    stderr: CappedBuffer
    killed_at_deadline: bool
    duration: float


def stream_exec(
    api: Any,
    container_id: str,
    argv: Sequence[str],
    *,
    user: str,
    env: Mapping[str, str],
    workdir: str,
    cap: int,
    timeout: float,
    on_deadline: Callable[[], None],
    grace: float = 3.0,
) -> ExecOutcome:
    """Run ``argv`` in the container via exec and collect its capped output within ``timeout``."""
    started = time.monotonic()
    created = api.exec_create(
        container_id,
        list(argv),
        stdout=True,
        stderr=True,
        tty=False,
        user=user,
        environment=dict(env),
        workdir=workdir,
    )
    exec_id = created["Id"]
    out, err = CappedBuffer(cap), CappedBuffer(cap)
    demux = FrameDemux(out, err)
    sock = api.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    killed = _pump(raw, demux, started + timeout, on_deadline, grace)
    _close(sock)
    code = _exit_code(api, exec_id, wait=0.2 if killed else 2.0)
    return ExecOutcome(code, out, err, killed, time.monotonic() - started)


def _pump(
    raw: Any, demux: FrameDemux, deadline: float, on_deadline: Callable[[], None], grace: float
) -> bool:
    """Read ``raw`` into ``demux`` until EOF; past the deadline kill once, then stop after ``grace``."""
    killed = False
    give_up_at: float | None = None
    selector = selectors.DefaultSelector()
    selector.register(raw, selectors.EVENT_READ)
    try:
        while True:
            now = time.monotonic()
            if not killed and now >= deadline:
                killed = True
                give_up_at = now + grace
                on_deadline()
            if give_up_at is not None and now >= give_up_at:
                return killed
            if selector.select(min(POLL_INTERVAL, max(0.0, (give_up_at or deadline) - now))):
                try:
                    chunk = raw.recv(READ_CHUNK)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    return killed
                if not chunk:
                    return killed
                demux.feed(chunk)
    finally:
        selector.close()


def _close(sock: Any) -> None:
    """Close the exec's socket and the HTTP response docker-py keeps alive beside it."""
    response = getattr(sock, "_response", None)
    with contextlib.suppress(Exception):
        sock.close()
    if response is not None:
        with contextlib.suppress(Exception):
            response.close()


def _exit_code(api: Any, exec_id: str, wait: float) -> int | None:
    """The exec's exit code once the engine marks it finished (None if it still runs after ``wait``)."""
    until = time.monotonic() + wait
    while True:
        info = api.exec_inspect(exec_id)
        if not info.get("Running"):
            code = info.get("ExitCode")
            return int(code) if code is not None else None
        if time.monotonic() >= until:
            return None
        time.sleep(0.01)
