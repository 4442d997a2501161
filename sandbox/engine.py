"""Find the Docker engine, or start one: ``ensure_engine()`` before any Docker sandbox or image build.

The engine answers on a unix socket (``DOCKER_HOST=unix://...`` or ``/var/run/docker.sock``).
:func:`engine_running` pings it with a raw HTTP request, so checking needs neither the ``docker``
SDK nor the CLI. :func:`ensure_engine` starts ``dockerd`` when it is installed, nothing answers and
we are root, then waits for it; every failure names what to install or run.
:func:`docker_client` imports the SDK lazily (extra ``agentgym[swe]``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentgym.core.errors import SandboxError
from agentgym.sandbox.docker_owner import process_start_time

DEFAULT_SOCKET = "/var/run/docker.sock"
DOCKERD_LOG = Path("/var/log/agentgym-dockerd.log")
START_LOCK = Path("/tmp/agentgym-dockerd.lock")
STARTUP_GRACE = 20.0  # seconds a dockerd may take to answer after it started
INSTALL_HINT = "apt-get install docker.io (or run scripts/docker-engine.sh as root)"


def engine_socket() -> str | None:
    """The engine's unix socket path from ``DOCKER_HOST`` (default ``/var/run/docker.sock``).

    None when ``DOCKER_HOST`` names a non-unix endpoint (tcp, ssh): such an engine can be used but
    not pinged or started from here.
    """
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://") :]
    return None


def engine_running(sock_path: str | None = None, timeout: float = 2.0) -> bool:
    """True when a Docker engine answers ``GET /_ping`` on the unix socket."""
    path = sock_path or engine_socket()
    if path is None:
        return _ping_with_sdk()
    if not os.path.exists(path):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(path)
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = conn.recv(4096)
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0] + b" "


def _ping_with_sdk() -> bool:
    """Ping a non-unix ``DOCKER_HOST`` through the SDK (False if the SDK is missing)."""
    try:
        return bool(docker_client(check=False).ping())
    except Exception:
        return False


def ensure_engine(start: bool = True, timeout: float = 60.0) -> str:
    """Return the engine's address, starting ``dockerd`` first if needed (and allowed); else raise.

    Raises SandboxError naming the cause: nothing answers and ``start`` is False, ``dockerd`` is not
    installed, we are not root, or it did not answer within ``timeout`` (with its log's tail).
    """
    path = engine_socket()
    where = f"unix://{path}" if path else os.environ.get("DOCKER_HOST", "")
    if engine_running(path):
        return where
    if path is None:
        raise SandboxError(f"no Docker engine answers at DOCKER_HOST={where}")
    if not start:
        raise SandboxError(f"no Docker engine answers at {path}; start dockerd, or {INSTALL_HINT}")
    dockerd = shutil.which("dockerd") or next(
        (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if os.access(p, os.X_OK)), None
    )
    if dockerd is None:
        raise SandboxError(f"no Docker engine answers at {path} and dockerd is not installed: {INSTALL_HINT}")
    if os.geteuid() != 0:
        raise SandboxError(f"no Docker engine answers at {path}; start dockerd as root (sudo dockerd)")
    with _start_lock():
        if not engine_running(path):  # another process may have started it while we waited
            proc = _spawn_dockerd(dockerd, path)
            _wait_for_engine(path, proc, timeout)
    return where


def _running_dockerd() -> int | None:
    """The pid of a live dockerd from its pidfile, or None."""
    try:
        pid = int(Path("/var/run/docker.pid").read_text().strip())
        os.kill(pid, 0)
    except (ValueError, OSError):
        return None
    return pid


def _age_seconds(pid: int) -> float:
    """How long ``pid`` has been running (0.0 if unknown)."""
    ticks = process_start_time(pid)
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return uptime - int(ticks) / os.sysconf("SC_CLK_TCK") if ticks else 0.0


def _spawn_dockerd(dockerd: str, path: str) -> subprocess.Popen[bytes] | None:
    """Start ``dockerd`` detached (it outlives us, like a system service); None if one already runs.

    A dockerd that has run for a while without answering at ``path`` listens elsewhere: raise.
    """
    pid = _running_dockerd()
    if pid is not None:
        if _age_seconds(pid) > STARTUP_GRACE:
            raise SandboxError(f"dockerd (pid {pid}) runs but does not answer at {path}; check DOCKER_HOST")
        return None  # a dockerd is starting up; just wait for its socket
    args = [dockerd]
    if path != DEFAULT_SOCKET:
        args += ["-H", f"unix://{path}"]
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with DOCKERD_LOG.open("ab") as log:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )


def _wait_for_engine(path: str, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Poll the socket until the engine answers; raise with the log's tail if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine_running(path):
            return
        if proc is not None and proc.poll() is not None:
            raise SandboxError(f"dockerd exited with code {proc.returncode}:\n{_log_tail()}")
        time.sleep(0.25)
    raise SandboxError(f"dockerd did not answer at {path} within {timeout:.0f}s:\n{_log_tail()}")


def _log_tail(lines: int = 15) -> str:
    """The last lines of our dockerd log (empty if unreadable)."""
    try:
        return "\n".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def _start_lock() -> Iterator[None]:
    """An exclusive file lock so concurrent processes start at most one dockerd."""
    fd = os.open(START_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def docker_client(check: bool = True, timeout: int = 120) -> Any:
    """A ``docker.DockerClient`` for the engine (SDK imported lazily); ``check`` pings it first."""
    try:
        import docker
    except ImportError as exc:
        raise SandboxError(
            "the docker backend needs the Docker SDK: pip install 'agentgym[swe]' (or pip install docker)"
        ) from exc
    try:
        client = docker.from_env(timeout=timeout)
        if check:
            client.ping()
    except docker.errors.DockerException as exc:
        raise SandboxError(f"cannot reach the Docker engine: {exc}; {INSTALL_HINT}") from exc
    return client
