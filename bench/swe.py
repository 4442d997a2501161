"""SWE env benchmark: oracle episodes per hour (local and docker sandboxes) and grading overhead.

Baseline for grading: the same FAIL_TO_PASS + PASS_TO_PASS test ids run bare (``python -m pytest``
on the host, no sandbox, no patch handling) on the same fixed tree, side by side, median of
``--repeats``. Goal: grading <= 1.5x bare.

    python bench/swe.py [--episodes 6] [--docker-episodes 3] [--repeats 3] [--full-sweep]

``--full-sweep`` also grades every shipped task with its oracle patch and an empty patch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentgym.environments.swe.env import SwePatchEnv
from agentgym.sandbox.factory import unavailable_reason
from agentgym.tasks.swe.grading import grade_patch
from agentgym.tasks.swe.patches import apply_patch
from agentgym.tasks.swe.record import SweTask, load_tasks
from agentgym.tasks.swe.snapshot import buggy_tree


def spread(tasks: list[SweTask], n: int) -> list[SweTask]:
    """``n`` tasks taken round-robin over packages."""
    by_package: dict[str, list[SweTask]] = {}
    for task in tasks:
        by_package.setdefault(task.package, []).append(task)
    out: list[SweTask] = []
    while len(out) < n and any(by_package.values()):
        for group in by_package.values():
            if group and len(out) < n:
                out.append(group.pop(0))
    return out


def oracle_episodes(tasks: list[SweTask], backend: str) -> tuple[float, int]:
    """Seconds per oracle episode (mean) and how many were resolved."""
    env = SwePatchEnv(backend=backend, tasks=[t.task_id for t in tasks])
    resolved, started = 0, time.perf_counter()
    for task in tasks:
        env.reset(seed=0, options={"task": task.task_id})
        for _ in range(20):
            _, reward, terminated, truncated, _ = env.step(env.oracle_action())
            if terminated or truncated:
                resolved += reward == 1.0
                break
    env.close()
    return (time.perf_counter() - started) / len(tasks), resolved


def bare_seconds(task: SweTask, tree: Path) -> float:
    """Wall time of the same tests run bare on the host."""
    ids = list(task.fail_to_pass) + list(task.pass_to_pass)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no", *ids]
    started = time.perf_counter()
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # as in the sandbox: no venv plugins
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"bare run of {task.task_id} failed:\n{proc.stdout[-2000:]}")
    return seconds


def grading_vs_bare(tasks: list[SweTask], repeats: int) -> None:
    """Print grading time against bare pytest, per task and overall."""
    print(f"\n== grading (oracle patch, local sandbox) vs bare pytest on the host, median of {repeats} ==")
    print(f"{'task':<28}{'tests':>7}{'bare s':>9}{'grade s':>9}{'ratio':>8}")
    ratios, bare_total, grade_total = [], 0.0, 0.0
    for task in tasks:
        with tempfile.TemporaryDirectory() as scratch:
            tree = Path(scratch, "repo")
            shutil.copytree(buggy_tree(task), tree)
            assert apply_patch(tree, task.oracle_patch) is None
            bare, grade = [], []
            for _ in range(repeats):
                bare.append(bare_seconds(task, tree))
                result = grade_patch(task, task.oracle_patch)
                assert result.resolved, result.problems
                grade.append(result.seconds)
        b, g = statistics.median(bare), statistics.median(grade)
        bare_total, grade_total = bare_total + b, grade_total + g
        ratios.append(g / b)
        n = len(task.fail_to_pass) + len(task.pass_to_pass)
        print(f"{task.task_id:<28}{n:>7}{b:>9.2f}{g:>9.2f}{g / b:>7.2f}x")
    ratio = grade_total / bare_total
    print(f"overall: grading {grade_total:.2f} s vs bare {bare_total:.2f} s = {ratio:.2f}x (goal <= 1.5x)")


def full_sweep(tasks: list[SweTask]) -> None:
    """Oracle -> resolved and empty -> not resolved for every shipped task."""
    bad = []
    started = time.perf_counter()
    for task in tasks:
        oracle, empty = grade_patch(task, task.oracle_patch), grade_patch(task, "")
        if not oracle.resolved or empty.resolved:
            bad.append(task.task_id)
    seconds = time.perf_counter() - started
    ok = len(tasks) - len(bad)
    print(f"\n== full sweep: {ok}/{len(tasks)} tasks ok (oracle resolved, empty not) in {seconds:.0f} s")
    if bad:
        print(f"FAILED: {bad}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--docker-episodes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-sweep", action="store_true")
    args = parser.parse_args()
    tasks = load_tasks()
    print(f"{len(tasks)} shipped tasks from {len({t.package for t in tasks})} packages")
    print("\n== oracle agent: episodes per hour (reset + edits through the tools + submit/grade) ==")
    for backend, n in (("local", args.episodes), ("docker", args.docker_episodes)):
        reason = unavailable_reason(backend)
        if n <= 0 or reason is not None:
            print(f"{backend:<8} skipped: {reason or 'no episodes asked'}")
            continue
        per_episode, resolved = oracle_episodes(spread(tasks, n), backend)
        rate = 3600 / per_episode
        print(
            f"{backend:<8} {n} episodes, {resolved} resolved, {per_episode:.2f} s/episode = {rate:.0f}/hour"
        )
    grading_vs_bare(spread(tasks, len({t.package for t in tasks})), args.repeats)
    if args.full_sweep:
        full_sweep(tasks)


if __name__ == "__main__":
    main()
