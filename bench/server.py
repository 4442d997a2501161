"""Env server throughput and latency: HTTP sessions against in-process calls of the same env.

For 1, 16, 64 and 256 concurrent sessions of ``puzzles/maze-v0`` stepping for a fixed time, prints
steps/s and p50/p99 step latency in-process (the baseline: ``env.astep`` in one event loop) and over
HTTP (``RemoteEnv.astep`` against ``agentgym serve`` on 127.0.0.1 with 2 worker processes), and
their ratio; then an open-loop point (3,000 steps/s offered over 256 sessions, latency from
each step's due time). Then rollout throughput (steps/s) of random-agent episodes locally and on 1 and 2
local Ray workers. Goal on 2 cores: >= 3,000 HTTP steps/s with p99 < 50 ms.

    python bench/server.py [--seconds 4] [--sessions 1,16,64,256] [--no-ray]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

ENV_ID = "puzzles/maze-v0"
MOVES = [f"move: {d}" for d in ("up", "right", "down", "left")]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


async def step_for(envs: list, seconds: float) -> tuple[float, list[float]]:
    """Step every env in a loop for ``seconds``; return steps/s and the per-step latencies."""
    await asyncio.gather(*(e.areset(seed=i) for i, e in enumerate(envs)))
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def play(i: int, env) -> None:
        n = i
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            _, _, terminated, truncated, _ = await env.astep(MOVES[n % 4])
            latencies.append(time.perf_counter() - t0)
            n += 1
            if terminated or truncated:
                await env.areset(seed=n)

    t0 = time.perf_counter()
    await asyncio.gather(*(play(i, e) for i, e in enumerate(envs)))
    return len(latencies) / (time.perf_counter() - t0), latencies


async def step_paced(envs: list, rate: float, seconds: float) -> tuple[float, list[float]]:
    """Open loop: offer ``rate`` steps/s in total, spread evenly over the sessions.

    Step ``j`` of session ``i`` is due at ``t0 + (i + j * n) / rate``; its latency is measured
    from when it was due, so a slow step also charges the steps queued behind it (no
    coordinated omission).
    """
    await asyncio.gather(*(e.areset(seed=i) for i, e in enumerate(envs)))
    n = len(envs)
    latencies: list[float] = []
    t0 = time.perf_counter() + 0.05
    stop = t0 + seconds

    async def play(i: int, env) -> None:
        j = 0
        while (due := t0 + (i + j * n) / rate) < stop:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            _, _, terminated, truncated, _ = await env.astep(MOVES[(i + j) % 4])
            latencies.append(time.perf_counter() - due)
            j += 1
            if terminated or truncated:
                await env.areset(seed=i + j * n)

    await asyncio.gather(*(play(i, e) for i, e in enumerate(envs)))
    return len(latencies) / (time.perf_counter() - t0), latencies


def in_process(n: int, seconds: float) -> tuple[float, list[float]]:
    from agentgym.registry import make

    envs = [make(ENV_ID) for _ in range(n)]
    try:
        return asyncio.run(step_for(envs, seconds))
    finally:
        for e in envs:
            e.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and of its live children (the server's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid, *map(int, open(f"/proc/{pid}/task/{pid}/children").read().split())]  # noqa: SIM115
    for p in pids:
        with contextlib.suppress(OSError):
            fields = open(f"/proc/{p}/stat").read().rpartition(")")[2].split()  # noqa: SIM115
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def over_http(url: str, n: int, seconds: float, rate: float = 0.0) -> tuple[float, list[float]]:
    """Closed loop (every session steps as fast as it can) or, with ``rate``, open loop."""
    from agentgym.server.client import RemoteEnv, ServerClient

    async def go() -> tuple[float, list[float]]:
        client = ServerClient(url)
        envs = [RemoteEnv(url, ENV_ID, client=client) for _ in range(n)]
        try:
            if rate:
                return await step_paced(envs, rate, seconds)
            return await step_for(envs, seconds)
        finally:
            await asyncio.gather(*(e.aclose() for e in envs))
            await client.aclose()

    return run_fast(go())


def run_fast(coro):
    """asyncio.run on uvloop when installed (as the server runs)."""
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


@contextlib.contextmanager
def server(workers: int):  # yields (url, server pid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [
        sys.executable,
        "-m",
        "agentgym.cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(argv, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health").status_code == 200:
                    break
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def ray_throughput(workers_list: list[int], episodes: int) -> None:
    from agentgym.agents import make_agent
    from agentgym.rollout import RolloutConfig, run_rollouts
    from agentgym.scale.ray_backend import RayConfig, arun_on_ray, ensure_ray

    config = RolloutConfig(episodes=episodes, seed=0, env_kwargs={"max_turns": 100}, progress=False)
    t0 = time.perf_counter()
    local = run_rollouts(ENV_ID, make_agent("random"), config)
    local_sps = sum(len(t.turns) for t in local.trajectories) / (time.perf_counter() - t0)
    print(f"\nRollouts ({episodes} random-agent episodes of {ENV_ID}, 100 turns):")
    print(f"  local runner (baseline)       {local_sps:9.0f} steps/s   (Ray walls include actor start-up)")
    ensure_ray(None, local_cpus=os.cpu_count())
    for workers in workers_list:
        ray_config = RayConfig(workers=workers, episodes_per_worker=8)
        t0 = time.perf_counter()
        result = asyncio.run(arun_on_ray(ENV_ID, "random", config, ray_config))
        wall = time.perf_counter() - t0
        sps = sum(len(t.turns) for t in result.trajectories) / wall
        ratio = sps / local_sps
        print(
            f"  ray, {workers} worker(s)              {sps:9.0f} steps/s   {ratio:.2f}x local,"
            f" {wall:.1f}s wall"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sessions", default="1,16,64,256")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--ray-episodes", type=int, default=96)
    parser.add_argument(
        "--paced",
        default="3000@256,6000@256",
        help="open-loop points RATE@SESSIONS[,...]: offer RATE steps/s in total over SESSIONS"
        " sessions and report latency from each step's due time ('' to skip)",
    )
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sessions.split(",")]
    print(f"{ENV_ID}, {args.seconds:g}s per point, {os.cpu_count()} CPUs, server workers={args.workers}")
    print(f"load average before: {os.getloadavg()[0]:.1f} (other processes share these CPUs)")
    header = f"{'sessions':>8} | {'in-process steps/s':>18} {'p50 ms':>7} {'p99 ms':>7} |"
    header += f" {'HTTP steps/s':>12} {'p50 ms':>7} {'p99 ms':>7} | {'HTTP/in-proc':>12} |"
    print(header + f" {'CPU ms/step':>11} {'2-core cap.':>11}")
    with server(args.workers) as (url, pid):
        for n in sizes:
            base_sps, base_lat = in_process(n, args.seconds)
            cpu0, me0 = cpu_seconds(pid), time.process_time()
            http_sps, http_lat = over_http(url, n, args.seconds)
            cpu = cpu_seconds(pid) - cpu0 + time.process_time() - me0
            # CPU per step of server + workers + client: what 2 dedicated cores could sustain.
            per_step = cpu / max(1, len(http_lat))
            print(
                f"{n:>8} | {base_sps:>18.0f} {pct(base_lat, 0.5):>7.2f} {pct(base_lat, 0.99):>7.2f} |"
                f" {http_sps:>12.0f} {pct(http_lat, 0.5):>7.2f} {pct(http_lat, 0.99):>7.2f} |"
                f" {http_sps / base_sps:>12.2f} | {per_step * 1000:>11.3f} {2 / per_step:>11.0f}"
            )
        for point in filter(None, args.paced.split(",")):
            rate, n = (float(x) for x in point.split("@"))
            sps, lat = over_http(url, int(n), args.seconds, rate)
            print(
                f"paced {rate:.0f} steps/s offered over {n:.0f} sessions (open loop):"
                f" {sps:.0f} steps/s served, p50 {pct(lat, 0.5):.2f} ms,"
                f" p99 {pct(lat, 0.99):.2f} ms"
            )
    if not args.no_ray:
        ray_throughput([1, 2], args.ray_episodes)


if __name__ == "__main__":
    main()
