"""``agentgym serve --docker``: env servers in containers, spread, restarted, labelled and reaped.

Needs a Docker engine: skips where none answers, fails instead under ``AGENTGYM_REQUIRE_DOCKER=1``
(as in CI). The env-server image is built on first use (minutes: pip installs agentgym's
dependencies into the sandbox builder's base), then found by its content-derived tag.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from agentgym.server import RemoteEnv
from agentgym.server.wire import SessionLostError
from tests.server.conftest import free_port

pytestmark = pytest.mark.docker
LABEL = "agentgym.fleet.index"


def unavailable(reason: str) -> None:
    if os.environ.get("AGENTGYM_REQUIRE_DOCKER") == "1":
        pytest.fail(f"AGENTGYM_REQUIRE_DOCKER=1 but: {reason}")
    pytest.skip(f"no Docker engine or image: {reason}")


@pytest.fixture(scope="module")
def docker():
    from agentgym.core.errors import SandboxError
    from agentgym.sandbox.docker_backend import DockerSandbox
    from agentgym.sandbox.engine import docker_client, ensure_engine

    reason = DockerSandbox.unavailable_reason()
    if reason is not None:
        unavailable(reason)
    try:
        ensure_engine(start=True)
        return docker_client()
    except SandboxError as exc:
        unavailable(str(exc))


@pytest.fixture(scope="module")
def image(docker):
    from agentgym.core.errors import SandboxError
    from agentgym.server.docker_image import family_extras, server_image

    try:
        return server_image(family_extras(["puzzles/*"]), client=docker, log=lambda m: print(f"[image] {m}"))
    except SandboxError as exc:
        unavailable(str(exc))


def fleet_containers(docker, owner_pid: int) -> list:
    from agentgym.sandbox.docker_owner import LABEL_PID

    return docker.containers.list(all=True, filters={"label": [LABEL, f"{LABEL_PID}={owner_pid}"]})


def metrics(url: str) -> dict:
    return httpx.get(url + "/metrics", timeout=30).json()


def wait_until(pred, timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if pred():
                return True
        time.sleep(0.5)
    return False


def test_fleet_spreads_sessions_replaces_crashed_containers_and_is_reaped(docker, image, tmp_path):
    from agentgym.cli.main import main as cli_main
    from agentgym.sandbox.docker_owner import reap_leftovers

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "agentgym.cli.main", "serve", "--docker", "--image", image]
    argv += ["--replicas", "2", "--workers", "1", "--envs", "puzzles/*", "--port", str(port)]
    front = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: httpx.get(url + "/health", timeout=5).status_code == 200)
        assert len(fleet_containers(docker, front.pid)) == 2
        # The front spreads sessions over the containers.
        envs = [RemoteEnv(url, "puzzles/maze-v0") for _ in range(4)]
        for i, env in enumerate(envs):
            env.reset(seed=i)
            env.step("move: up")
        assert sorted(b["sessions"] for b in metrics(url)["backends"]) == [2, 2]
        # Episodes through the fleet are the in-process episodes.
        common = ["puzzles/sat-v0", "--agent", "oracle", "--episodes", "2", "--no-progress", "--json"]
        cli_main(["run", *common, "-o", str(tmp_path / "local")])
        cli_main(["run", *common, "-o", str(tmp_path / "fleet"), "--server", url])
        from tests.server.test_server import comparable

        assert comparable(tmp_path / "local") == comparable(tmp_path / "fleet")
        # A crashed container: its sessions are lost, a new container takes its place.
        victim = next(c for c in fleet_containers(docker, front.pid) if c.labels[LABEL] == "0")
        victim.kill()
        lost = 0
        for env in envs:
            try:
                env.step("move: down")
            except SessionLostError:
                lost += 1
        assert lost == 2

        def replaced() -> bool:
            rows = metrics(url)["backends"]
            return all(b["healthy"] for b in rows) and rows[0]["restarts"] == 1

        assert wait_until(replaced)
        ids = {c.id for c in fleet_containers(docker, front.pid)}
        assert victim.id not in ids and len(ids) == 2
        envs[0].reset(seed=9)  # a lost session is replaced on reset
        envs[0].step("move: left")
        for env in envs:
            env.close()
    finally:
        # Killed without a chance to clean up: its labelled containers are leftovers to reap.
        os.killpg(front.pid, signal.SIGKILL)
        front.wait(30)
    assert len(fleet_containers(docker, front.pid)) == 2
    reap_leftovers(docker)
    assert fleet_containers(docker, front.pid) == []


def test_fleet_front_stops_its_containers_on_interrupt(docker, image):
    port = free_port()
    argv = [sys.executable, "-m", "agentgym.cli.main", "serve", "--docker", "--image", image]
    argv += ["--replicas", "1", "--workers", "1", "--port", str(port)]
    front = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200)
        assert len(fleet_containers(docker, front.pid)) == 1
    finally:
        front.send_signal(signal.SIGINT)
        front.wait(60)
    assert fleet_containers(docker, front.pid) == []
