"""The ``docker`` backend: one container per sandbox, through the ``docker`` SDK (imported lazily).

``DockerSandbox(limits)`` cold-starts a container (:mod:`.docker_container` has its settings);
``DockerSandbox(limits, warm=True)`` or ``DockerPool(size).acquire()`` hands out a pre-started one.
Every command runs as ``nobody`` (65534), wrapped as ``timeout -k 2 T cmd; kill -9 -1``: the time
limit holds inside the container, and whatever the command left running (daemons, grandchildren)
dies when it returns, since ``nobody`` may signal everything in the container but the root
keeper. The caller enforces the limit too: past ``T`` plus a grace it kills all of ``nobody``'s
processes, and failing that the container (the sandbox is then broken). Output is streamed and
capped (:mod:`.docker_exec`); an OOM kill is read from the memory cgroup's ``oom_kill`` counter.
Files move as tar archives, paths checked inside the container (:mod:`.docker_files`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentgym.core.errors import SandboxError
from agentgym.sandbox import docker_files
from agentgym.sandbox.base import DEFAULT_OUTPUT_CAP, ExecResult, Limits, Sandbox, safe_relative_path
from agentgym.sandbox.capture import Captured, to_exec_result
from agentgym.sandbox.docker_container import (
    BASE_ENV,
    WORK_DIR,
    DockerConfig,
    StartedContainer,
    connect,
    live,
    parse_oom_kills,
    remove_container,
    start_container,
)
from agentgym.sandbox.docker_exec import ExecOutcome, stream_exec
from agentgym.sandbox.engine import engine_running
from agentgym.sandbox.images import SANDBOX_UID

__all__ = ["DockerConfig", "DockerPool", "DockerSandbox", "shared_pool"]

SANDBOX_USER = f"{SANDBOX_UID}:{SANDBOX_UID}"
KILL_AFTER = 2  # seconds between timeout's SIGTERM and SIGKILL inside the container
CALLER_GRACE = 3.0  # the caller steps in this long after the inner kill should have worked
# Kill leftovers first (a command that killed its wrapper escapes the kill at the end), enter the
# working dir (a missing one is the command's error, as in a shell), run the command under
# timeout, kill whatever it left. $1: dir, $2: seconds, then the command.
WRAPPER = (
    'kill -9 -1 2>/dev/null; cd -- "$1" || exit 126; t=$2; shift 2; timeout -k {kill_after} "$t" "$@"; '
    "rc=$?; kill -9 -1 2>/dev/null; exit $rc"
)
KILL_ALL = ["/bin/sh", "-c", "kill -9 -1 2>/dev/null; kill -9 -1 2>/dev/null; exit 0"]
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")


class DockerSandbox(Sandbox):
    """A sandbox in its own container; ``DockerSandbox()`` cold-starts one, a pool hands out warm ones."""

    backend = "docker"
    _closed: bool

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        image: str | None = None,
        config: DockerConfig | None = None,
        warm: bool = False,
        client: Any = None,
        started: StartedContainer | None = None,
    ) -> None:
        super().__init__(limits)
        config = config or DockerConfig()
        self.config = dataclasses.replace(config, image=image) if image else config
        if warm and started is None:
            pool = shared_pool(self.limits, self.config)
            client, started = pool.client, pool.take()
        self._client = client or connect(self.config)
        self._api = self._client.api
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._container = started or start_container(self._client, self.limits, self.config)
        self._oom_seen = 0
        live.add(self)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when a Docker engine answers (or can be started here), else why not."""
        try:
            import docker  # noqa: F401
        except ImportError:
            return "the docker backend needs the Docker SDK: pip install 'agentgym[swe]'"
        if engine_running():
            return None
        if os.geteuid() == 0 and (shutil.which("dockerd") or os.path.exists("/usr/sbin/dockerd")):
            return None  # connect() starts it
        return "no Docker engine answers; start dockerd, or run scripts/docker-engine.sh as root"

    @property
    def container_id(self) -> str:
        """The id of this sandbox's container."""
        return self._container.id

    def exec(
        self,
        cmd: Sequence[str] | str,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult:
        """Run ``cmd`` as ``nobody`` in ``/work`` (or ``cwd`` in it) under the sandbox's limits."""
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        if not argv or timeout <= 0:
            raise SandboxError("exec needs a non-empty command and a positive timeout")
        for key, value in (env or {}).items():
            if not key or "=" in key or "\x00" in key + value:
                raise SandboxError(f"invalid environment variable {key!r}")
        workdir = WORK_DIR if cwd is None else f"{WORK_DIR}/{safe_relative_path(cwd)}"
        wrapped = [
            "/bin/sh",
            "-c",
            WRAPPER.format(kill_after=KILL_AFTER),
            "agentgym",
            workdir,
            f"{timeout:.3f}",
            *argv,
        ]
        with self._lock:
            self._check_usable()
            outcome = self._stream(
                wrapped,
                user=SANDBOX_USER,
                env={**BASE_ENV, **(env or {})},
                workdir=WORK_DIR,
                cap=self.limits.output_bytes,
                timeout=timeout + KILL_AFTER + CALLER_GRACE,
                on_deadline=self._kill_processes,
            )
            if outcome.killed_at_deadline and outcome.exit_code is None:
                self._break("a command outlived its time limit and every attempt to kill it")
            elif outcome.exit_code is None or outcome.exit_code >= 128:
                self._kill_processes(wait=True)  # the wrapper itself may have been killed
            oom = self._oom_since_last(outcome.exit_code)
        code = outcome.exit_code if outcome.exit_code is not None else 128 + signal.SIGKILL
        captured = Captured(
            code, outcome.stdout, outcome.stderr, outcome.killed_at_deadline, outcome.duration
        )
        result = to_exec_result(captured, timeout, kernel_oom_kill=oom, backend=self.backend)
        details = {**result.details, "container": self.container_id[:12]}
        if oom and not result.oom:  # the cgroup counter is exact: a killed grandchild counts too
            return dataclasses.replace(result, oom=True, details={**details, "reason": "memory"})
        return dataclasses.replace(result, details=details)

    def _stream(self, argv: list[str], **kwargs: Any) -> ExecOutcome:
        """stream_exec on this container; engine failures become SandboxError."""
        import docker
        import requests

        try:
            return stream_exec(self._api, self.container_id, argv, **kwargs)
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise SandboxError(f"docker exec failed in sandbox {self.container_id[:12]}: {exc}") from exc

    def _kill_processes(self, wait: bool = False) -> None:
        """Kill every process of the sandbox user (the keeper runs as root and survives)."""
        with contextlib.suppress(Exception):
            exec_id = self._api.exec_create(self.container_id, KILL_ALL, user=SANDBOX_USER)["Id"]
            if wait:
                self._api.exec_start(exec_id)
            else:
                self._api.exec_start(exec_id, detach=True)

    def _break(self, reason: str) -> None:
        """Kill the container and refuse further use (its work dir is gone with it)."""
        self._broken = reason
        with contextlib.suppress(Exception):
            self._api.kill(self.container_id)

    def _check_usable(self) -> None:
        """Raise SandboxError if the sandbox is closed or broken."""
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if self._broken:
            raise SandboxError(f"the sandbox is unusable: {self._broken}")

    def _oom_since_last(self, exit_code: int | None) -> bool:
        """True if the memory cgroup's OOM-kill counter rose since the last check."""
        if self._container.oom_file:
            try:
                count = parse_oom_kills(Path(self._container.oom_file).read_text())
            except OSError:
                count = self._oom_seen
        elif exit_code != 0 and not self._closed:  # reading it from inside costs an exec: only if needed
            try:
                count = parse_oom_kills(self._run_quiet(["cat", *OOM_FILES]).stdout)
            except SandboxError:  # the container went away (closed from another thread, killed)
                count = self._oom_seen
        else:
            return False
        oom, self._oom_seen = count > self._oom_seen, max(count, self._oom_seen)
        if not oom and exit_code is None:
            with contextlib.suppress(Exception):
                oom = bool(self._api.inspect_container(self.container_id)["State"].get("OOMKilled"))
        return oom

    def _run_quiet(self, argv: list[str], timeout: float = 10.0) -> ExecResult:
        """A helper command (no wrapper, small output cap); the caller holds the lock."""
        outcome = self._stream(
            argv,
            user=SANDBOX_USER,
            env=BASE_ENV,
            workdir=WORK_DIR,
            cap=DEFAULT_OUTPUT_CAP,
            timeout=timeout,
            on_deadline=self._kill_processes,
        )
        code = -9 if outcome.exit_code is None else outcome.exit_code
        return ExecResult(code, outcome.stdout.text(), outcome.stderr.text())

    def _resolve(self, path: str, must_exist: bool) -> docker_files.Resolved:
        """The container path of ``path`` after symlinks; SandboxError if it leaves ``/work``."""
        rel = safe_relative_path(path)
        flag = "1" if must_exist else "0"
        result = self._run_quiet(
            ["/bin/sh", "-c", docker_files.RESOLVE, "resolve", flag, f"{WORK_DIR}/{rel}"]
        )
        return docker_files.check_resolved(str(rel), result.exit_code, result.stdout, result.stderr)

    def write_file(self, path: str, data: bytes | str) -> None:
        """Create or replace a file of the work dir (parents created)."""
        payload = data.encode() if isinstance(data, str) else bytes(data)
        with self._lock:
            self._check_usable()
            target = self._resolve(path, must_exist=False)
            docker_files.put_bytes(self._api, self.container_id, target, payload)

    def read_file(self, path: str, max_bytes: int = DEFAULT_OUTPUT_CAP) -> bytes:
        """Read a file of the work dir (SandboxError if larger than ``max_bytes``)."""
        with self._lock:
            self._check_usable()
            target = self._resolve(path, must_exist=True)
            return docker_files.get_bytes(self._api, self.container_id, target, max_bytes)

    def copy_in(self, src: str | Path, dest: str) -> None:
        """Copy a host file or folder into the work dir at ``dest``."""
        with self._lock:
            self._check_usable()
            target = self._resolve(dest, must_exist=False)
            docker_files.put_path(self._api, self.container_id, Path(src), target)

    def copy_out(self, src: str, dest: str | Path) -> None:
        """Copy a file or folder of the work dir to the host path ``dest``."""
        with self._lock:
            self._check_usable()
            target = self._resolve(src, must_exist=True)
            docker_files.get_path(self._api, self.container_id, target, Path(dest))

    def close(self) -> None:
        """Remove the container (killing everything in it) and its work volume; idempotent."""
        if self._closed:
            return
        self._closed = True
        live.discard(self)
        remove_container(self._client, self._container.id, self._container.volume)


class DockerPool:
    """Pre-started containers of one (limits, config); :meth:`acquire` hands out a warm sandbox.

    A background thread keeps ``size`` containers started; when none is ready, acquire starts one
    itself (a cold start). Sandboxes are never reused: each is a fresh container, removed by its
    own ``close``. Closing the pool removes the containers not handed out.
    """

    def __init__(
        self,
        size: int = 2,
        limits: Limits | None = None,
        *,
        config: DockerConfig | None = None,
        client: Any = None,
    ) -> None:
        if size < 0:
            raise SandboxError(f"DockerPool size must be >= 0, got {size}")
        self.size, self.limits, self.config = size, limits or Limits(), config or DockerConfig()
        self.limits.validate()
        self.client = client or connect(self.config, reap=True)
        self.last_error: SandboxError | None = None
        self._ready: list[StartedContainer] = []
        self._starting = 0
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._refill, name="agentgym-docker-pool", daemon=True)
        self._thread.start()
        live.add(self)

    def take(self) -> StartedContainer:
        """A started container: a ready one if any, else one started now."""
        with self._cond:
            if self._closed:
                raise SandboxError("the pool is closed")
            ready = self._ready.pop(0) if self._ready else None
            self._cond.notify_all()
        return ready or start_container(self.client, self.limits, self.config)

    def acquire(self) -> DockerSandbox:
        """A sandbox in a pre-started container (or a cold-started one when the pool is empty)."""
        return DockerSandbox(self.limits, config=self.config, client=self.client, started=self.take())

    def ready_count(self) -> int:
        """How many started containers wait to be handed out."""
        with self._cond:
            return len(self._ready)

    def _refill(self) -> None:
        """Keep ``size`` containers started; back off after failures (kept in ``last_error``)."""
        backoff = 0.5
        while True:
            with self._cond:
                while not self._closed and len(self._ready) >= self.size:
                    self._cond.wait()
                if self._closed:
                    return
            try:
                started = start_container(self.client, self.limits, self.config)
            except SandboxError as exc:
                self.last_error = exc
                with self._cond:
                    self._cond.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            with self._cond:
                if self._closed:
                    remove_container(self.client, started.id, started.volume)
                    return
                self._ready.append(started)
                self._cond.notify_all()

    def close(self) -> None:
        """Stop refilling and remove the containers not handed out (idempotent)."""
        with self._cond:
            self._closed = True
            ready, self._ready = self._ready, []
            self._cond.notify_all()
        for started in ready:
            remove_container(self.client, started.id, started.volume)
        live.discard(self)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def __enter__(self) -> DockerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_pools: dict[tuple[int, Limits, DockerConfig], DockerPool] = {}
_pools_lock = threading.Lock()


def shared_pool(limits: Limits, config: DockerConfig, size: int | None = None) -> DockerPool:
    """The pool of this process for (limits, config), created on first use.

    ``size`` defaults to ``$AGENTGYM_DOCKER_POOL`` or 2.
    """
    key = (os.getpid(), limits, config)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or pool._closed:
            pool = _pools[key] = DockerPool(
                size if size is not None else int(os.environ.get("AGENTGYM_DOCKER_POOL", "2")),
                limits,
                config=config,
            )
        return pool
