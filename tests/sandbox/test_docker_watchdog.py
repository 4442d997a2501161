"""A docker sandbox whose owner is SIGKILLed is removed soon after, without another agentgym start.

Runs on a tiny image made here with ``docker import`` (``sleep`` and the C library from the
host), so it needs an engine but neither the base image nor a network.
"""

import contextlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from agentgym.core.errors import SandboxError

pytestmark = pytest.mark.docker
TINY_TAG = "agentgym-test-tiny:watchdog"
OWNER = """
import sys, time
from agentgym.sandbox.base import Limits
from agentgym.sandbox.docker_backend import DockerSandbox
sandbox = DockerSandbox(Limits(memory_mb=64, processes=16), image=sys.argv[1])
print(sandbox.container_id, sandbox._container.volume, flush=True)
time.sleep(600)
"""


def _tiny_image_tar() -> bytes:
    """A root file system with ``sleep`` and what it links to, as a tar (links dereferenced)."""
    out = subprocess.run(["ldd", "/usr/bin/sleep"], capture_output=True, text=True, check=True).stdout
    libs = [part for line in out.splitlines() for part in line.split() if part.startswith("/")]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", dereference=True) as tar:
        for path in ["/usr/bin/sleep", *libs]:
            tar.add(os.path.realpath(path), arcname=path.lstrip("/"))
        for folder in ("work", "tmp"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777
            tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def docker_api():
    """The Docker API client, and the tiny image imported (skips where no engine answers)."""
    from agentgym.sandbox.docker_backend import DockerSandbox
    from agentgym.sandbox.engine import docker_client, ensure_engine

    reason = DockerSandbox.unavailable_reason()
    try:
        if reason is None:
            ensure_engine(start=True)
            api = docker_client().api
    except SandboxError as exc:
        reason = str(exc)
    if reason is not None:
        if os.environ.get("AGENTGYM_REQUIRE_DOCKER") == "1":
            pytest.fail(f"AGENTGYM_REQUIRE_DOCKER=1 but: {reason}")
        pytest.skip(f"no Docker engine: {reason}")
    api.import_image_from_data(
        _tiny_image_tar(), repository=TINY_TAG.split(":")[0], tag=TINY_TAG.split(":")[1]
    )
    return api


def _exists(api, container_id: str, volume: str) -> tuple[bool, bool]:
    """Whether the container and the volume still exist."""
    containers = api.containers(all=True, filters={"id": container_id})
    volumes = {v["Name"] for v in api.volumes().get("Volumes") or []}
    return bool(containers), volume in volumes


def test_a_sigkilled_owner_s_container_is_removed_soon(docker_api):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, TINY_TAG], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    container_id = volume = ""
    try:
        container_id, volume = owner.stdout.readline().split()
        assert _exists(docker_api, container_id, volume) == (True, True)
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        deadline = time.monotonic() + 60  # a bounded wait, far below the keeper's 24 h lifetime
        while any(_exists(docker_api, container_id, volume)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _exists(docker_api, container_id, volume) == (False, False)
    finally:
        owner.kill()
        owner.stdout.close()
        if container_id:
            with contextlib.suppress(Exception):
                docker_api.remove_container(container_id, force=True)
            with contextlib.suppress(Exception):
                docker_api.remove_volume(volume, force=True)


def test_a_forked_child_does_not_hold_the_parent_s_lifeline():
    from agentgym.sandbox import docker_owner

    read_end, write_end = os.pipe()
    docker_owner._watchdogs[-1] = (None, write_end)  # a lifeline that is not this process's
    try:
        pid = os.fork()
        if pid == 0:  # the child: the hook closed its copy; report whether it is still open
            try:
                os.fstat(write_end)
                os._exit(1)
            except OSError:
                os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        docker_owner._watchdogs.pop(-1, None)
        os.close(read_end)
        os.close(write_end)
