"""Env servers started as subprocesses (``agentgym serve``) on free 127.0.0.1 ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

STARTUP_S = 90.0


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]

    def get(self, path: str) -> dict:
        return httpx.get(self.url + path, timeout=30).json()

    def metrics(self) -> dict:
        return self.get("/metrics")

    def worker_pids(self) -> list[int]:
        return [w["pid"] for w in self.metrics()["workers"] if w["pid"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*args: str) -> Iterator[Server]:
    port = free_port()
    argv = [sys.executable, "-m", "agentgym.cli.main", "serve", "--port", str(port)]
    argv += ["--import", "tests.server.envs", "--workers", "2", *args]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become healthy")
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("--call-timeout", "3", "--session-ttl", "30") as s:
        yield s
