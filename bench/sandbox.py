"""Sandbox exec latency: p50/p99 of one trivial command per backend, against a plain subprocess.

Baseline: ``subprocess.run(CMD)`` with captured output, no isolation, measured in the same run.
Rows: the local (bubblewrap) backend, the unsafe-process backend (what the limit wrapper and the
capture cost without namespaces), and the docker backend cold (a fresh sandbox + first exec)
and warm (exec in a running container). Goals: local <= 50 ms p50, warm docker <= 100 ms p50.

Run: ``python bench/sandbox.py [--runs 100] [--command true]``
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import time
import warnings
from collections.abc import Callable

from agentgym.sandbox.base import Limits
from agentgym.sandbox.factory import make_sandbox, unavailable_reason

Timing = list[float]  # seconds per call
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def measure(call: Callable[[], object], runs: int, warmup: int = 3) -> Timing:
    """Seconds per ``call()`` over ``runs`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return times


def plain(cmd: list[str], runs: int) -> Timing:
    """Baseline: a plain subprocess with captured output."""
    return measure(lambda: subprocess.run(cmd, capture_output=True, check=True), runs)


def backend_exec(backend: str, cmd: list[str], runs: int) -> Timing | str:
    """Exec in one long-lived sandbox of ``backend``; a string says why it was skipped."""
    reason = unavailable_reason(backend)
    if reason is not None:
        return reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unsafe-process warns on creation; known here
        sandbox = make_sandbox(backend, Limits())
    with sandbox:

        def call() -> None:
            result = sandbox.exec(cmd, timeout=30)
            if not result.ok:
                raise RuntimeError(f"{backend}: {result}")

        return measure(call, runs)


# --- SLOT (docker helper): the docker rows live in bench/sandbox_docker.py (same signatures). ---
def docker_cold(cmd: list[str], runs: int) -> Timing | str:
    """Docker cold start: a new sandbox (container) and its first exec, per call."""
    try:
        from sandbox_docker import docker_cold as cold  # bench/ is on sys.path when run as a script
    except ImportError as exc:
        return f"bench/sandbox_docker.py not importable: {exc}"
    return cold(cmd, runs)


def docker_warm(cmd: list[str], runs: int) -> Timing | str:
    """Docker warm exec: exec in an already running container (from the warm pool)."""
    try:
        from sandbox_docker import docker_warm as warm
    except ImportError as exc:
        return f"bench/sandbox_docker.py not importable: {exc}"
    return warm(cmd, runs)


# --- end of the docker slot ---


def percentile(times: Timing, q: float) -> float:
    """The ``q`` quantile (0..1) of ``times``, nearest rank."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> None:
    """Measure every row and print p50/p99 with ratios against the plain subprocess."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--command", default="true", help="the command to time (shell words)")
    args = parser.parse_args()
    cmd = shlex.split(args.command)
    # The same binary on both sides: the sandboxes search only the system PATH.
    cmd[0] = shutil.which(cmd[0], path=SYSTEM_PATH) or cmd[0]
    base = plain(cmd, args.runs)
    rows: list[tuple[str, Timing | str, str]] = [
        ("plain subprocess (baseline)", base, ""),
        ("local (bubblewrap)", backend_exec("local", cmd, args.runs), "<= 50 ms"),
        ("unsafe-process (no isolation)", backend_exec("unsafe-process", cmd, args.runs), ""),
        ("docker cold start", docker_cold(cmd, max(5, args.runs // 10)), ""),
        ("docker warm exec", docker_warm(cmd, args.runs), "<= 100 ms"),
    ]
    base_p50, base_p99 = percentile(base, 0.5), percentile(base, 0.99)
    mean = statistics.mean(base) * 1e3
    print(f"exec latency of {shlex.join(cmd)!r}: {args.runs} runs per row; baseline mean {mean:.1f} ms")
    print(f"{'row':32s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 x':>7s} {'p99 x':>7s}  goal p50")
    for name, times, goal in rows:
        if isinstance(times, str):
            print(f"{name:32s} skipped: {times}")
            continue
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        ratios = f"{p50 / base_p50:6.1f}x {p99 / base_p99:6.1f}x"
        print(f"{name:32s} {p50 * 1e3:8.1f} {p99 * 1e3:8.1f} {ratios}  {goal}")


if __name__ == "__main__":
    main()
