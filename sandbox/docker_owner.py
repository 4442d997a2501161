"""Owner labels on Docker containers and volumes, and reaping what dead owners left behind.

Every container and volume we create carries labels naming the process that owns it: host name,
boot id, PID namespace, PID and the PID's start time (so a recycled PID is not mistaken for the
owner). A resource whose owner is provably gone (same host and namespace, and the PID is dead or
now belongs to a different process; or the machine rebooted since) is a leftover:
:func:`reap_leftovers` removes it. Owners on other hosts or in other PID namespaces are never
judged, only left alone.

Reaping at the next start is the backstop; :func:`start_owner_watchdog` makes leftovers die soon
after their owner does. Each owner process starts one watchdog (its own session, so a group kill
spares it) that blocks on a pipe whose write end only the owner holds. However the owner ends,
SIGKILL included, the kernel closes that pipe; the watchdog then removes, through the Docker
API, every container and volume labelled with the owner's identity, and exits.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

LABEL_ROLE = "agentgym.role"  # sandbox | build
LABEL_HOST = "agentgym.owner.host"
LABEL_BOOT = "agentgym.owner.boot"
LABEL_PIDNS = "agentgym.owner.pidns"
LABEL_PID = "agentgym.owner.pid"
LABEL_START = "agentgym.owner.start"
OwnerState = Literal["self", "alive", "dead", "unknown"]


@dataclass(frozen=True)
class Owner:
    """The identity of one process, as written into labels."""

    host: str
    boot: str
    pidns: str
    pid: int
    start: str

    def labels(self, role: str) -> dict[str, str]:
        """Docker labels naming this owner and the resource's ``role``."""
        return {
            LABEL_ROLE: role,
            LABEL_HOST: self.host,
            LABEL_BOOT: self.boot,
            LABEL_PIDNS: self.pidns,
            LABEL_PID: str(self.pid),
            LABEL_START: self.start,
        }


def _read(path: str) -> str:
    """A small /proc or /sys file's text, stripped ('' if unreadable)."""
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def process_start_time(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot ('' if no such process)."""
    stat = _read(f"/proc/{pid}/stat")
    # Field 22; the command name (field 2) may contain spaces and parentheses, so split after it.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


@functools.lru_cache(maxsize=4)
def _owner_for(pid: int) -> Owner:
    """The Owner record of ``pid`` (cached; a forked child has a new pid and a new record)."""
    pidns = ""
    with contextlib.suppress(OSError):
        pidns = os.readlink("/proc/self/ns/pid")
    boot = _read("/proc/sys/kernel/random/boot_id")
    return Owner(socket.gethostname(), boot, pidns, pid, process_start_time(pid))


def current_owner() -> Owner:
    """The Owner record of this process."""
    return _owner_for(os.getpid())


def owner_labels(role: str) -> dict[str, str]:
    """Labels naming this process as the owner of a new container or volume."""
    return current_owner().labels(role)


def owner_state(labels: Mapping[str, str] | None) -> OwnerState:
    """Whether the labelled owner is this process, alive, provably dead, or not ours to judge."""
    labels = labels or {}
    me = current_owner()
    if labels.get(LABEL_HOST) != me.host or not labels.get(LABEL_PID, "").isdigit():
        return "unknown"
    if labels.get(LABEL_BOOT) != me.boot:
        return "dead"  # same host name, different boot: the machine rebooted since
    if labels.get(LABEL_PIDNS) != me.pidns:
        return "unknown"
    pid = int(labels[LABEL_PID])
    if pid == me.pid and labels.get(LABEL_START) == me.start:
        return "self"
    start = process_start_time(pid)
    return "alive" if start and start == labels.get(LABEL_START) else "dead"


def reap_leftovers(client: Any, *, include_own: bool = False) -> list[str]:
    """Remove containers, then volumes, whose owner is dead (and ours too if ``include_own``).

    Returns the ids and names removed. Errors on single resources are ignored (another process
    may be reaping the same leftover at the same time).
    """
    doomed: tuple[OwnerState, ...] = ("dead", "self") if include_own else ("dead",)
    removed: list[str] = []
    api = client.api
    for summary in api.containers(all=True, filters={"label": LABEL_PID}):
        if owner_state(summary.get("Labels")) in doomed:
            with contextlib.suppress(Exception):
                api.remove_container(summary["Id"], force=True)
                removed.append(summary["Id"])
    volumes = api.volumes(filters={"label": LABEL_PID}).get("Volumes") or []
    for volume in volumes:
        if owner_state(volume.get("Labels")) in doomed:
            with contextlib.suppress(Exception):
                api.remove_volume(volume["Name"], force=True)
                removed.append(volume["Name"])
    return removed


# The watchdog itself: it holds the read end as stdin and imports nothing until the owner is gone.
WATCHDOG = """
import sys
sys.stdin.buffer.read()
import docker
api = docker.from_env(timeout=120).api
labels = [f"{key}={value}" for key, value in zip(sys.argv[1::2], sys.argv[2::2])]
for container in api.containers(all=True, filters={"label": labels}):
    try:
        api.remove_container(container["Id"], force=True)
    except Exception:
        pass
for volume in api.volumes(filters={"label": labels}).get("Volumes") or []:
    try:
        api.remove_volume(volume["Name"], force=True)
    except Exception:
        pass
"""
_watchdogs: dict[int, tuple[subprocess.Popen[bytes], int]] = {}  # owner pid -> (watchdog, lifeline fd)
_watchdog_lock = threading.Lock()


def start_owner_watchdog() -> subprocess.Popen[bytes] | None:
    """Start (once per process) the watchdog that removes this process's resources when it ends.

    Returns the watchdog process, or None when it cannot be started (reaping at the next start
    still applies). A forked child closes its copy of the lifeline, so it never delays the
    parent's cleanup, and starts its own watchdog when it first connects.
    """
    me = current_owner()
    with _watchdog_lock:
        if me.pid in _watchdogs:
            return _watchdogs[me.pid][0]
        read_end, write_end = os.pipe()
        identity = me.labels("sandbox")
        del identity[LABEL_ROLE]  # builds and sandboxes alike
        argv = [sys.executable, "-c", WATCHDOG]
        for key, value in identity.items():
            argv += [key, value]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                cwd="/",
            )
        except OSError:
            os.close(write_end)
            return None
        finally:
            os.close(read_end)
        _watchdogs[me.pid] = (proc, write_end)
        return proc


def _close_inherited_lifelines() -> None:
    """In a forked child: drop the parent's lifeline (the child is not the owner it names)."""
    for pid, (_, fd) in list(_watchdogs.items()):
        if pid != os.getpid():
            with contextlib.suppress(OSError):
                os.close(fd)
            del _watchdogs[pid]


os.register_at_fork(after_in_child=_close_inherited_lifelines)
