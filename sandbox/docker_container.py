"""Sandbox containers' lifecycle for the docker backend: settings, start, removal, reaping.

:func:`start_container` creates a tmpfs-backed work volume and a container that runs a root
keeper (``sleep``, under docker's init, every capability dropped) with the sandbox's limits:
memory (no swap), CPUs, PIDs, rlimits (CPU seconds, file size, open files, no core dumps), no
network unless ``Limits.network``, a read-only root file system and a private tmpfs ``/tmp``.
:func:`connect` gets a client (starting the engine if allowed) and, once per process, reaps the
leftovers of dead owners, starts the owner watchdog (which removes this process's containers
when it dies, even by SIGKILL) and registers an exit hook that closes what this process left
open and reaps again.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import Limits
from agentgym.sandbox.docker_owner import owner_labels, reap_leftovers, start_owner_watchdog
from agentgym.sandbox.engine import docker_client, ensure_engine
from agentgym.sandbox.images import SANDBOX_UID, base_image_tag

WORK_DIR = "/work"
BASE_ENV = {"HOME": WORK_DIR, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


class Closable(Protocol):
    """Anything the exit hook must close (sandboxes, pools)."""

    def close(self) -> None:
        """Release the resource (idempotent)."""


@dataclass(frozen=True)
class DockerConfig:
    """Docker-specific settings of a sandbox (the portable ones are in :class:`Limits`)."""

    image: str | None = None  # default: the base image (``agentgym sandbox build-image``)
    cpus: float = 1.0
    # /work and /tmp are tmpfs: what is written there counts against the memory limit and cannot
    # be swapped out, so by default they get half and a quarter of it. Were they as large as the
    # limit, a full disk would leave no memory to run even `rm` in.
    work_mb: int | None = None  # default: Limits.disk_mb, at most Limits.memory_mb // 2
    tmp_mb: int | None = None  # default: Limits.memory_mb // 4
    max_lifetime_s: int = 24 * 3600  # the keeper exits then, even if every owner is gone
    start_engine: bool = True  # start dockerd if installed, not running, and we are root

    def validate(self) -> None:
        """Raise SandboxError naming the first invalid field."""
        if not self.cpus > 0:
            raise SandboxError(f"DockerConfig.cpus must be > 0, got {self.cpus!r}")
        for name in ("work_mb", "tmp_mb", "max_lifetime_s"):
            value = getattr(self, name)
            if value is None and name != "max_lifetime_s":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SandboxError(f"DockerConfig.{name} must be a positive int, got {value!r}")

    def resolved_image(self) -> str:
        """The image to run: the configured one, or the base image's content-derived tag."""
        return self.image or base_image_tag()


@dataclass
class StartedContainer:
    """A running sandbox container, its work volume, and where to read its OOM-kill counter."""

    id: str
    volume: str
    oom_file: str | None


live: weakref.WeakSet[Closable] = weakref.WeakSet()  # closed by the exit hook
_clients: dict[int, Any] = {}  # one client per process (a forked child makes its own)
_client_lock = threading.Lock()


def connect(config: DockerConfig, reap: bool = False) -> Any:
    """The Docker client of this process (the engine started if allowed).

    Leftovers of dead owners are reaped on the first call in a process, and again when ``reap``;
    an exit hook closes what the process left open and reaps once more.
    """
    pid = os.getpid()
    with _client_lock:
        client = _clients.get(pid)
        if client is None:
            ensure_engine(start=config.start_engine)
            client = _clients[pid] = docker_client()
            atexit.register(_at_exit, client)
            start_owner_watchdog()  # removes this process's containers once it ends, however
            reap = True
    if reap:
        reap_leftovers(client)
    return client


def _at_exit(client: Any) -> None:
    """Close this process's open sandboxes and reap dead owners' leftovers (errors ignored)."""
    for resource in list(live):
        with contextlib.suppress(Exception):
            resource.close()
    with contextlib.suppress(Exception):
        reap_leftovers(client, include_own=True)


def start_container(client: Any, limits: Limits, config: DockerConfig) -> StartedContainer:
    """Create and start one sandbox container with its work volume (the cold-start path)."""
    import docker
    import requests

    config.validate()
    image = config.resolved_image()
    labels = owner_labels("sandbox")
    name = f"agentgym-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    work_mb = config.work_mb or max(16, min(limits.disk_mb, limits.memory_mb // 2))
    tmp_mb = config.tmp_mb or max(16, limits.memory_mb // 4)
    tmpfs_opts = f"size={work_mb}m,uid={SANDBOX_UID},gid={SANDBOX_UID},mode=0700"
    try:
        volume = client.api.create_volume(
            f"{name}-work",
            driver="local",
            labels=labels,
            driver_opts={"type": "tmpfs", "device": "tmpfs", "o": tmpfs_opts},
        )["Name"]
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise SandboxError(f"cannot create the work volume: {exc}") from exc
    mib = 1 << 20
    host_config = client.api.create_host_config(
        binds={volume: {"bind": WORK_DIR, "mode": "rw"}},
        tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={tmp_mb}m,mode=1777"},
        read_only=True,
        network_mode="bridge" if limits.network else "none",
        mem_limit=limits.memory_mb * mib,
        memswap_limit=limits.memory_mb * mib,  # no swap: exceeding memory is an OOM kill
        nano_cpus=int(config.cpus * 1e9),
        pids_limit=limits.processes + 2,  # + init and keeper
        ulimits=[
            docker.types.Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds),
            docker.types.Ulimit(name="fsize", soft=limits.file_size_mb * mib, hard=limits.file_size_mb * mib),
            docker.types.Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            docker.types.Ulimit(name="core", soft=0, hard=0),
        ],
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        init=True,
    )
    created_id = ""  # set once the container exists, so a failure after that removes it
    try:
        created_id = client.api.create_container(
            image,
            ["sleep", str(config.max_lifetime_s)],
            name=name,
            hostname="sandbox",
            user="0:0",
            working_dir=WORK_DIR,
            environment=BASE_ENV,
            labels=labels,
            host_config=host_config,
            network_disabled=not limits.network,
        )["Id"]
        client.api.start(created_id)
        pid = client.api.inspect_container(created_id)["State"]["Pid"]
    except docker.errors.ImageNotFound as exc:
        remove_container(client, None, volume)
        raise SandboxError(f"image {image} not found; build it with `agentgym sandbox build-image`") from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        remove_container(client, created_id, volume)
        raise SandboxError(f"cannot start a sandbox container from {image}: {exc}") from exc
    return StartedContainer(created_id, volume, _host_oom_file(pid, created_id))


def _host_oom_file(pid: int, container_id: str) -> str | None:
    """The host path of the container's OOM-kill counter (cgroup v1 or v2), or None if unreadable."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if container_id not in path:
            continue
        if "memory" in controllers.split(","):
            candidate = f"/sys/fs/cgroup/memory{path}/memory.oom_control"
        elif controllers == "":
            candidate = f"/sys/fs/cgroup{path}/memory.events"
        else:
            continue
        if os.access(candidate, os.R_OK):
            return candidate
    return None


def remove_container(client: Any, container_id: str | None, volume: str | None) -> None:
    """Force-remove a container (killing everything in it), then its volume; errors ignored."""
    if container_id:
        with contextlib.suppress(Exception):
            client.api.remove_container(container_id, force=True)
    if volume:
        with contextlib.suppress(Exception):
            client.api.remove_volume(volume, force=True)


def parse_oom_kills(text: str) -> int:
    """The ``oom_kill`` counter from memory.oom_control (v1) or memory.events (v2) text."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0
