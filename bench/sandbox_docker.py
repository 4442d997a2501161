"""Docker rows of ``bench/sandbox.py``: cold start and warm exec latency of the docker backend.

``docker_cold``: a new sandbox (create the work volume and the container, start it) and its first
exec, timed until the result is back; the sandbox is closed outside the timing.
``docker_warm``: exec in one running container handed out by a warm pool.
Each returns seconds per call, or a string saying why the row is skipped (no SDK, no engine, no
image: build it with ``agentgym sandbox build-image``).

Run alone: ``python bench/sandbox_docker.py [--runs 100] [--command true]``
"""

from __future__ import annotations

import argparse
import shlex
import time

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import Limits

Timing = list[float]


def _skip_reason() -> str | None:
    """Why the docker rows cannot run here, or None."""
    try:
        from agentgym.sandbox.docker_backend import DockerSandbox
        from agentgym.sandbox.engine import docker_client, ensure_engine
        from agentgym.sandbox.images import base_image_tag, image_exists
    except ImportError as exc:
        return f"docker backend not importable: {exc}"
    reason = DockerSandbox.unavailable_reason()
    if reason is not None:
        return reason
    try:
        ensure_engine()
        if not image_exists(docker_client(), base_image_tag()):
            return f"image {base_image_tag()} not built (agentgym sandbox build-image)"
    except SandboxError as exc:
        return str(exc)
    return None


def docker_cold(cmd: list[str], runs: int) -> Timing | str:
    """Seconds from ``DockerSandbox()`` to the first exec's result, per fresh sandbox."""
    reason = _skip_reason()
    if reason is not None:
        return reason
    from agentgym.sandbox.docker_backend import DockerSandbox

    DockerSandbox(Limits()).close()  # warm-up: client, engine caches, image layers
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sandbox = DockerSandbox(Limits())
        result = sandbox.exec(cmd, timeout=30)
        times.append(time.perf_counter() - t0)
        sandbox.close()
        if not result.ok:
            raise RuntimeError(f"docker cold: {result}")
    return times


def docker_warm(cmd: list[str], runs: int, warmup: int = 3) -> Timing | str:
    """Seconds per exec in a running container taken from a warm pool."""
    reason = _skip_reason()
    if reason is not None:
        return reason
    from agentgym.sandbox.docker_backend import DockerPool

    with DockerPool(size=1, limits=Limits()) as pool, pool.acquire() as sandbox:
        for _ in range(warmup):
            sandbox.exec(cmd, timeout=30)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            result = sandbox.exec(cmd, timeout=30)
            times.append(time.perf_counter() - t0)
            if not result.ok:
                raise RuntimeError(f"docker warm: {result}")
    return times


def _percentile(times: Timing, q: float) -> float:
    """The ``q`` quantile (0..1), nearest rank."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> None:
    """Print p50/p99 of the two docker rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--command", default="true")
    args = parser.parse_args()
    cmd = shlex.split(args.command)
    rows = [
        ("docker cold start", docker_cold(cmd, max(5, args.runs // 10))),
        ("docker warm exec", docker_warm(cmd, args.runs)),
    ]
    for name, times in rows:
        if isinstance(times, str):
            print(f"{name:20s} skipped: {times}")
        else:
            p50, p99 = _percentile(times, 0.5) * 1e3, _percentile(times, 0.99) * 1e3
            print(f"{name:20s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  ({len(times)} runs)")


if __name__ == "__main__":
    main()
