"""Env server throughput and latency: HTTP sessions against in-process calls of the same env.

For 1, 16, 64 and 256 concurrent sessions of ``puzzles/maze-v0`` stepping for a fixed time, prints
steps/s and p50/p99 step latency in-process (the baseline: ``env.astep`` in one event loop) and over
HTTP (``RemoteEnv.astep`` against ``agentgym serve`` on 127.0.0.1 with 2 worker processes), and
their ratio; then an open-loop point (3,000 steps/s offered over 256 sessions, latency from
each step's due time). Then rollout throughput (steps/s) of random-agent episodes locally and on 1 and 2
local Ray workers. Goal on 2 cores: >= 3,000 HTTP steps/s with p99 < 50 ms.

``--overload`` instead measures a server with ``--max-sessions CAPACITY``: CAPACITY clients (1x,
the baseline) then 4 x CAPACITY clients (4x) each open a session, step it 20 times, close it and
start over, for ``--seconds`` each; refused clients back off (RemoteEnv's jittered exponential
backoff). Prints steps/s of both and their ratio, step p99, refusals/s, any 5xx besides 503, and
the front process's RSS before, at the peak and after the load (goal: 4x within 2x of 1x; RSS back
within 20 MB of its baseline).

    python bench/server.py [--seconds 4] [--sessions 1,16,64,256] [--no-ray]
    python bench/server.py --overload [--capacity 256] [--seconds 30]
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
def server(workers: int, *extra: str):  # yields (url, server pid)
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
        *extra,
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


def front_cpu(pid: int) -> float:
    """User + system CPU seconds of the server's front process alone."""
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB."""
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def churn(url: str, clients: int, seconds: float, steps: int = 20) -> dict:
    """``clients`` loops of open session / ``steps`` steps / close for ``seconds``: steps/s and p99.

    Clients still waiting for a session when the time is up give up (their busy wait ends then);
    those holding one finish it, so none is left open.
    """
    from agentgym.server.client import RemoteEnv, ServerClient
    from agentgym.server.wire import ServerBusyError

    client = ServerClient(url, busy_wait_s=3600)
    latencies: list[float] = []
    waits: list[float] = []
    stop = time.perf_counter() + seconds

    async def run(i: int) -> None:
        k = 0
        while time.perf_counter() < stop:
            env = RemoteEnv(url, ENV_ID, client=client)
            t0 = time.perf_counter()
            client.busy_wait_s = stop - t0  # read when the call starts: every client's wait ends at stop
            try:
                await env.aconnect()
            except ServerBusyError:
                return
            waits.append(time.perf_counter() - t0)
            try:
                await env.areset(seed=i * 1000 + k)
                for j in range(steps):
                    t1 = time.perf_counter()
                    _, _, terminated, truncated, _ = await env.astep(MOVES[(i + j) % 4])
                    latencies.append(time.perf_counter() - t1)
                    if terminated or truncated:
                        await env.areset(seed=i * 1000 + k + j)
            finally:
                await env.aclose()
            k += 1

    t0 = time.perf_counter()
    tasks = [asyncio.create_task(run(i)) for i in range(clients)]
    await asyncio.sleep(seconds)
    done = len(latencies)
    sps = done / (time.perf_counter() - t0)
    p99 = pct(latencies[:done], 0.99)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()
    errors = [r for r in results if isinstance(r, Exception)]
    return {"sps": sps, "p99": p99, "wait_p99": pct(waits, 0.99), "errors": errors}


def settle_rss(url: str, pid: int, base: float, timeout: float = 20.0) -> float:
    """The front's RSS once its sessions are gone and the reaper has trimmed (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    time.sleep(6.0)  # the reaper (every 5 s) compacts and trims
    while time.monotonic() < deadline:
        if httpx.get(url + "/metrics").json()["sessions"] == 0 and rss_mb(pid) < base + 20:
            break
        time.sleep(1.0)
    return rss_mb(pid)


def overload(capacity: int, seconds: float, workers: int) -> None:
    """1x vs 4x capacity: throughput ratio, p99, refusals/s and the front's RSS around the load."""
    print(f"overload: --max-sessions {capacity}, {seconds:g}s per point, server workers={workers}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min)")
    with server(workers, "--max-sessions", str(capacity)) as (url, pid):
        run_fast(churn(url, 8, 2.0))  # warm up imports and first allocations
        time.sleep(1.0)
        base = rss_mb(pid)
        peak = base
        rows: dict[int, dict] = {}
        settled: dict[int, float] = {}
        for factor in (1, 4):
            busy0 = httpx.get(url + "/metrics").json()["counters"].get("busy", 0)
            front0, all0, me0 = front_cpu(pid), cpu_seconds(pid), time.process_time()
            out = run_fast(churn(url, factor * capacity, seconds))
            front = front_cpu(pid) - front0
            workers_cpu = cpu_seconds(pid) - all0 - front
            me = time.process_time() - me0
            peak = max(peak, rss_mb(pid))
            m = httpx.get(url + "/metrics").json()
            out["refusals_s"] = (m["counters"].get("busy", 0) - busy0) / seconds
            rows[factor] = out
            print(
                f"  {factor}x ({factor * capacity:>5} clients): {out['sps']:8.0f} steps/s, step p99"
                f" {out['p99']:7.1f} ms, wait-for-session p99 {out['wait_p99'] / 1000:6.2f} s,"
                f" {out['refusals_s']:6.0f} refusals/s, client errors {len(out['errors'])};"
                f" CPU s front {front:.1f}, workers {workers_cpu:.1f}, client {me:.1f}"
            )
            settled[factor] = settle_rss(url, pid, base)
        after = settled[4]
        fives = {k: v for k, v in m["counters"].items() if k.startswith("http_5") and k != "http_503"}
    print(f"  4x / 1x throughput: {rows[4]['sps'] / rows[1]['sps']:.2f} (goal >= 0.5)")
    print(
        f"  front RSS: baseline (after warm-up) {base:.1f} MB, peak {peak:.1f} MB,"
        f" settled after 1x {settled[1]:.1f} MB, after 4x {after:.1f} MB"
    )
    print(
        f"  (+{after - base:.1f} MB over the baseline, +{after - settled[1]:.1f} MB over 1x;"
        f" goal < 20); 5xx other than 503: {fives or 'none'}"
    )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


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
    parser.add_argument("--overload", action="store_true", help="1x vs 4x capacity (see above)")
    parser.add_argument("--capacity", type=int, default=256, help="--max-sessions for --overload")
    args = parser.parse_args()
    if args.overload:
        overload(args.capacity, args.seconds if args.seconds != 4.0 else 30.0, args.workers)
        return
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
