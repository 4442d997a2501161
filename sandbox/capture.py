"""Drain a child's stdout and stderr concurrently into capped buffers, under a deadline.

A command may write a gigabyte, or nothing at all while it loops forever; either way the caller
must get control back. :func:`drain_process` reads both pipes with one ``select`` loop (no
threads), keeps at most ``cap`` bytes per stream and only counts the rest, calls ``kill`` once
the deadline passes, and stops waiting for end-of-file shortly after the child has exited (a
leftover grandchild may still hold a pipe open). Backends that stream output some other way
(the Docker SDK) can reuse :class:`CappedBuffer` alone. :func:`to_exec_result` turns what was
captured into an :class:`ExecResult`, deciding ``timed_out`` and ``oom``.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentgym.sandbox.base import TRUNCATION_MARKER, ExecResult

READ_CHUNK = 1 << 16
POLL_INTERVAL = 0.1  # seconds between deadline checks while a quiet child runs
TAIL_BYTES = 4096  # the end of each stream is kept apart, for error detection past the cap


@dataclass
class CappedBuffer:
    """Bytes of one stream: the first ``cap`` kept, the rest counted and dropped; ``tail`` is the end."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    total: int = 0
    tail: bytes = b""

    def feed(self, chunk: bytes) -> None:
        """Append ``chunk``, keeping at most ``cap`` bytes in all (and the last few KiB apart)."""
        self.total += len(chunk)
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]

    @property
    def dropped(self) -> int:
        """Bytes received past the cap."""
        return self.total - len(self.data)

    @property
    def truncated(self) -> bool:
        """True when some output was dropped."""
        return self.dropped > 0

    def text(self) -> str:
        """The kept bytes as text (invalid UTF-8 replaced), with the truncation marker if any."""
        kept = bytes(self.data).decode("utf-8", errors="replace")
        return kept + TRUNCATION_MARKER.format(dropped=self.dropped) if self.truncated else kept


@dataclass
class Captured:
    """What :func:`drain_process` saw: the raw return code, both streams, and how it ended."""

    returncode: int
    stdout: CappedBuffer
    stderr: CappedBuffer
    killed_at_deadline: bool
    duration: float


def drain_process(
    proc: subprocess.Popen[bytes],
    *,
    cap: int,
    timeout: float,
    kill: Callable[[], None],
    exit_grace: float = 0.5,
    started: float | None = None,
) -> Captured:
    """Read ``proc``'s stdout/stderr pipes until both close, ``proc`` exits, or ``timeout`` passes.

    ``kill`` is called once at the deadline (it should kill the whole process tree); the loop then
    gives the tree ``exit_grace`` seconds to die before giving up on the pipes. After ``proc``
    exits, pipes still held open by escaped grandchildren are abandoned after ``exit_grace``.
    Both pipes are closed on return.
    """
    started = time.monotonic() if started is None else started
    deadline = started + timeout
    out, err = CappedBuffer(cap), CappedBuffer(cap)
    buffers: dict[int, CappedBuffer] = {}
    selector = selectors.DefaultSelector()
    for pipe, buf in ((proc.stdout, out), (proc.stderr, err)):
        if pipe is not None:
            buffers[pipe.fileno()] = buf
            selector.register(pipe.fileno(), selectors.EVENT_READ)
    killed = False
    give_up_at: float | None = None
    try:
        while buffers:
            now = time.monotonic()
            if not killed and now >= deadline:
                kill()
                killed = True
                give_up_at = now + exit_grace
            if give_up_at is None and proc.poll() is not None:
                give_up_at = now + exit_grace
            if give_up_at is not None and now >= give_up_at:
                break
            wait = min(POLL_INTERVAL, max(0.0, (give_up_at or deadline) - now))
            for key, _ in selector.select(wait):
                fd = int(key.fd)
                chunk = os.read(fd, READ_CHUNK)
                if chunk:
                    buffers[fd].feed(chunk)
                else:
                    selector.unregister(fd)
                    del buffers[fd]
    finally:
        selector.close()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    returncode = _wait(proc, deadline if not killed else time.monotonic() + exit_grace)
    if returncode is None:  # the deadline passed while only waiting, not reading
        killed = True
        kill()
        returncode = proc.wait()
    return Captured(returncode, out, err, killed, time.monotonic() - started)


def _wait(proc: subprocess.Popen[bytes], until: float) -> int | None:
    """Wait for ``proc`` until ``until`` (monotonic); None if it is still running then."""
    try:
        return proc.wait(timeout=max(0.0, until - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None


OOM_PATTERN = re.compile(
    rb"MemoryError|Cannot allocate memory|std::bad_alloc|[Oo]ut of memory|memory exhausted"
)


DISK_FULL_PATTERN = re.compile(rb"No space left on device|Disk quota exceeded|ENOSPC|EDQUOT")


def oom_kill_count() -> int | None:
    """The kernel's count of OOM kills so far (``oom_kill`` in /proc/vmstat), None if unknown."""
    try:
        with open("/proc/vmstat", "rb") as vmstat:
            for line in vmstat:
                if line.startswith(b"oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def to_exec_result(
    captured: Captured,
    timeout: float,
    *,
    kernel_oom_kill: bool | None = None,
    backend: str = "",
    disk_full: bool | None = None,
) -> ExecResult:
    """An :class:`ExecResult` from a finished command run under ``timeout -k`` and rlimits.

    Exit codes follow the shell: ``128 + N`` for a command killed by signal N. ``timed_out``: the
    caller killed the tree at its deadline, or ``timeout`` ended the command (exit 124, or 137 for
    SIGKILL) after the limit, or RLIMIT_CPU did (SIGXCPU). ``oom`` is a heuristic: not timed out,
    a non-zero exit, and either an allocation failure reported at the end of stderr
    (``MemoryError``, ``Cannot allocate memory``, ``std::bad_alloc``, ``out of memory``,
    ``memory exhausted``: what RLIMIT_AS produces) or death by SIGKILL while the kernel's OOM
    killer fired (``kernel_oom_kill``; None when unknown, then any SIGKILL counts). ``disk_full``:
    the backend saw the sandbox's disk full after the command (``disk_full=True``), or the command
    failed with "No space left on device" / "Disk quota exceeded" at the end of its stderr.
    SIGXFSZ (a file past ``Limits.file_size_mb``) is ``details["reason"] == "file_size"``.
    """
    code = captured.returncode
    if code < 0:
        code = 128 - code
    details: dict[str, Any] = {"stdout_bytes": captured.stdout.total, "stderr_bytes": captured.stderr.total}
    if backend:
        details["backend"] = backend
    if 128 < code < 128 + signal.NSIG:
        with contextlib.suppress(ValueError):
            details["signal"] = signal.Signals(code - 128).name
    timed_out = captured.killed_at_deadline or (code in (124, 137) and captured.duration >= timeout)
    if code == 128 + signal.SIGXCPU:
        timed_out = True
        details["reason"] = "cpu_limit"
    elif timed_out:
        details["reason"] = "timeout"
    killed_by_oom = code == 128 + signal.SIGKILL and kernel_oom_kill is not False
    oom = not timed_out and code != 0 and (killed_by_oom or bool(OOM_PATTERN.search(captured.stderr.tail)))
    if oom:
        details["reason"] = "memory"
    full = bool(disk_full) or (code != 0 and bool(DISK_FULL_PATTERN.search(captured.stderr.tail)))
    full = full and not timed_out and not oom
    if full:
        details["reason"] = "disk_full"
    elif code == 128 + signal.SIGXFSZ and not timed_out and not oom:
        details["reason"] = "file_size"
    return ExecResult(
        exit_code=code,
        stdout=captured.stdout.text(),
        stderr=captured.stderr.text(),
        timed_out=timed_out,
        oom=oom,
        duration=round(captured.duration, 6),
        truncated=captured.stdout.truncated or captured.stderr.truncated,
        details=details,
        disk_full=full,
    )
