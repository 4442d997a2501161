"""256 concurrent sessions stepping for a fixed time: no errors, and resources back to baseline."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from agentgym.server import RemoteEnv
from agentgym.server.client import ServerClient
from tests.server.conftest import running_server

SESSIONS = 256
STEP_FOR_S = 10.0


def proc_stats(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    child_rss = 0
    for child in children:
        text = Path(f"/proc/{child}/status").read_text()
        child_rss += next(int(x.split()[1]) * 1024 for x in text.splitlines() if x.startswith("VmRSS:"))
    return {
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "rss": rss,
        "children": len(children),
        "child_rss": child_rss,
    }


async def drive(url: str, client: ServerClient, sessions: int, seconds: float) -> tuple[int, list[str]]:
    envs = [RemoteEnv(url, "toy/guess-v0", client=client, high=10**6) for _ in range(sessions)]
    errors: list[str] = []
    steps = [0] * sessions
    await asyncio.gather(*(e.areset(seed=i) for i, e in enumerate(envs)))
    stop = time.monotonic() + seconds

    async def play(i: int, env: RemoteEnv) -> None:
        try:
            while time.monotonic() < stop:
                _, _, terminated, truncated, _ = await env.astep(str(1 + steps[i] % 1000))
                steps[i] += 1
                if terminated or truncated:
                    await env.areset(seed=10_000 + steps[i])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(play(i, e) for i, e in enumerate(envs)))
    await asyncio.gather(*(e.aclose() for e in envs))
    await client.aclose()
    assert min(steps) >= 1, "every session stepped"
    return sum(steps), errors


def settle(read, ok, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    value = read()
    while not ok(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def test_256_sessions_step_without_errors_and_resources_return_to_baseline():
    with running_server("--max-sessions", "512", "--call-timeout", "60") as srv:
        pid = srv.proc.pid
        workers = srv.worker_pids()
        my_fds = len(os.listdir("/proc/self/fd"))
        # Warm up (imports, first allocations), then take the baseline.
        asyncio.run(drive(srv.url, ServerClient(srv.url), 8, 0.5))
        base = settle(lambda: proc_stats(pid), lambda s: True)
        steps, errors = asyncio.run(drive(srv.url, ServerClient(srv.url), SESSIONS, STEP_FOR_S))
        assert errors == []
        assert steps >= SESSIONS
        m = srv.metrics()
        assert m["sessions"] == 0 and m["worker_restarts"] == 0
        assert m["counters"]["sessions_created"] == SESSIONS + 8
        assert not any(k.startswith("http_5") for k in m["counters"])
        after = settle(lambda: proc_stats(pid), lambda s: s["fds"] <= base["fds"])
        assert after["fds"] <= base["fds"], (base, after)
        assert after["children"] == base["children"] == 2
        assert after["rss"] < base["rss"] + 64 * 2**20, (base, after)
        assert after["child_rss"] < base["child_rss"] + 64 * 2**20, (base, after)
        assert settle(lambda: len(os.listdir("/proc/self/fd")), lambda n: n <= my_fds) <= my_fds
    # Stopping the server stops its workers: no process is left behind.
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and "zombie" not in _state(w)]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0].lower()
    except (OSError, IndexError):
        return "zombie"
