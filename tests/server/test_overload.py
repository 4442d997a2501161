"""4x more clients than the server's capacity: every one is served in the end, only 503s refuse,
and the front's memory comes back to its baseline (functional properties; no timing asserted)."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentgym.server import RemoteEnv
from agentgym.server.client import ServerClient
from tests.server.conftest import running_server
from tests.server.test_load import proc_stats

CAPACITY = 32
CLIENTS = 4 * CAPACITY
SESSIONS_EACH = 2
STEPS = 10


async def clients(url: str, n: int, sessions_each: int) -> tuple[int, list[str]]:
    """``n`` clients, each opening ``sessions_each`` sessions in turn and stepping each ``STEPS`` times."""
    client = ServerClient(url, busy_wait_s=300, busy_backoff_cap_s=2.0)
    served = [0] * n
    errors: list[str] = []

    async def run(i: int) -> None:
        try:
            for k in range(sessions_each):
                env = RemoteEnv(url, "toy/guess-v0", client=client, high=10**6)
                await env.areset(seed=i * 100 + k)
                for j in range(STEPS):
                    _, _, terminated, truncated, _ = await env.astep(str(1 + j))
                    if terminated or truncated:
                        await env.areset(seed=i * 100 + k + j)
                await env.aclose()
                served[i] += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    await asyncio.wait_for(asyncio.gather(*(run(i) for i in range(n))), 300)
    await client.aclose()
    return sum(served), errors


@pytest.mark.slow
def test_4x_capacity_every_client_is_served_only_503_refuses_and_memory_returns():
    with running_server("--max-sessions", str(CAPACITY), "--session-ttl", "8") as srv:
        pid = srv.proc.pid
        asyncio.run(clients(srv.url, 8, 1))  # warm up imports and first allocations
        time.sleep(1.0)
        base = proc_stats(pid)
        served, errors = asyncio.run(clients(srv.url, CLIENTS, SESSIONS_EACH))
        assert errors == []
        assert served == CLIENTS * SESSIONS_EACH  # all sessions eventually served
        m = srv.metrics()
        assert m["counters"]["busy"] > 0  # the server really was over capacity
        assert m["counters"]["sessions_created"] == CLIENTS * SESSIONS_EACH + 8
        assert not [k for k in m["counters"] if k.startswith("http_5")]  # refusals are 503s only
        assert m["sessions"] == 0 and m["worker_restarts"] == 0
        deadline = time.monotonic() + 30  # the reaper (every 2 s here) compacts and trims
        after = proc_stats(pid)
        while after["rss"] >= base["rss"] + 20 * 2**20 and time.monotonic() < deadline:
            time.sleep(0.5)
            after = proc_stats(pid)
        assert after["rss"] < base["rss"] + 20 * 2**20, (base, after)
        assert after["fds"] <= base["fds"] + 2, (base, after)
