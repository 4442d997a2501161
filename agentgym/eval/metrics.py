"""Eval metrics over trajectories: success, reward, unbiased pass@k, with confidence intervals.

Choices, stated once:

- **Errors apart from failures.** Episodes whose status is ``env_error``, ``agent_error``,
  ``timeout`` or ``verifier_error`` are *errors*: counted by status, and left out of the
  ``success``, ``mean_reward`` and ``pass@k`` denominators (a crashed env says nothing about the
  agent). ``success_incl_errors`` counts them as failures, for readers who want that view.
  ``truncated`` episodes ended normally (out of turns) and are ordinary failures.
- **success CI**: the 95% Wilson score interval over scored episodes. It treats episodes as
  independent; with ``k > 1`` samples of one task are correlated, so it is somewhat too narrow.
- **mean reward CI**: a 95% percentile bootstrap over *tasks* (each resample draws tasks with
  replacement and keeps all their samples, so the k-sample correlation is respected); 2000
  resamples from a fixed seed, so reports are reproducible. One task gives a zero-width interval.
- **pass@k**: the unbiased estimator of Chen et al. (2021), ``1 - C(n-c, k) / C(n, k)`` per task,
  computed as the product ``prod_{i=n-c+1}^{n} (1 - k/i)`` (no huge binomials), averaged over the
  tasks that have ``n >= k`` scored samples; tasks with fewer are left out and counted in
  ``pass_at_k_tasks`` (an estimate from ``n < k`` samples would be biased).
- **tokens**: the sum of ``len(token_ids)`` over turns where the agent reported token ids
  (model agents); ``None`` when no turn has any (scripted agents).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from agentgym.trajectory import Trajectory

ERROR_STATUSES: tuple[str, ...] = ("env_error", "agent_error", "timeout", "verifier_error")
Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one task with ``n`` samples of which ``c`` passed (needs ``n >= k``)."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if n < k:
        raise ValueError(f"pass@{k} is undefined with only n={n} samples (need n >= k)")
    if n - c < k:  # every k-subset holds a pass
        return 1.0
    # 1 - C(n-c, k)/C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i): stable, no overflow.
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> tuple[float | None, int]:
    """Mean pass@k over tasks given as ``(n, c)``; tasks with ``n < k`` are skipped.

    Returns ``(value, tasks_counted)``; ``value`` is None when no task has ``k`` samples.
    """
    values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    return (sum(values) / len(values) if values else None), len(values)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None when ``n == 0``."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends where rounding would blur them
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def bootstrap_mean_ci(
    groups: Sequence[Sequence[float]],
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of the mean of all values, resampling whole groups (tasks)."""
    groups = [g for g in groups if len(g)]
    if not groups:
        return None
    sums = np.array([float(sum(g)) for g in groups])
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    if len(groups) == 1:
        mean = float(sums[0] / sizes[0])
        return mean, mean
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(groups), size=(resamples, len(groups)))
    means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def pass_at_k_points(k: int) -> list[int]:
    """The k values reported for ``k`` samples per task: 1, powers of two below k, and k."""
    points = {1, k}
    p = 2
    while p < k:
        points.add(p)
        p *= 2
    return sorted(points)


def token_count(trajectory: Trajectory) -> int | None:
    """Generated tokens of an episode (sum of ``len(token_ids)``); None if no turn reports them."""
    counts = [len(t.token_ids) for t in trajectory.turns if t.token_ids is not None]
    return sum(counts) if counts else None


def _task_key(trajectory: Trajectory) -> tuple[str, str]:
    return trajectory.env_id, trajectory.task_id or f"group-{trajectory.group_id}"


def summarize(trajectories: Sequence[Trajectory], k: int = 1) -> dict[str, Any]:
    """The figures of one set of episodes (see the module docstring for the choices)."""
    n = len(trajectories)
    scored = [t for t in trajectories if t.status not in ERROR_STATUSES]
    passed = sum(t.passed for t in scored)
    statuses: Counter[str] = Counter(t.status for t in trajectories)
    by_task: dict[tuple[str, str], list[Trajectory]] = {}
    for t in scored:
        by_task.setdefault(_task_key(t), []).append(t)
    tasks_all = {_task_key(t) for t in trajectories}
    counts = [(len(ts), sum(t.passed for t in ts)) for ts in by_task.values()]
    pass_k: dict[str, float | None] = {}
    pass_k_tasks: dict[str, int] = {}
    for point in pass_at_k_points(k):
        pass_k[str(point)], pass_k_tasks[str(point)] = mean_pass_at_k(counts, point)
    tokens = [c for c in (token_count(t) for t in trajectories) if c is not None]
    rewards = [t.reward for t in scored]
    return {
        "episodes": n,
        "tasks": len(tasks_all),
        "scored": len(scored),
        "passed": passed,
        "failed": len(scored) - passed,
        "errors": sum(statuses.get(s, 0) for s in ERROR_STATUSES),
        "error_statuses": {s: statuses[s] for s in ERROR_STATUSES if statuses.get(s)},
        "statuses": dict(sorted(statuses.items())),
        "success": passed / len(scored) if scored else None,
        "success_ci": wilson_interval(passed, len(scored)),
        "success_incl_errors": passed / n if n else None,
        "mean_reward": sum(rewards) / len(rewards) if rewards else None,
        "reward_ci": bootstrap_mean_ci([[t.reward for t in ts] for ts in by_task.values()]),
        "pass_at_k": pass_k,
        "pass_at_k_tasks": pass_k_tasks,
        "mean_turns": sum(len(t.turns) for t in trajectories) / n if n else None,
        "tokens": sum(tokens) if tokens else None,
        "mean_tokens": sum(tokens) / len(tokens) if tokens else None,
        "episode_s": sum(t.duration_s for t in trajectories),
        "mean_episode_s": sum(t.duration_s for t in trajectories) / n if n else None,
        "agent_s": sum(turn.agent_s for t in trajectories for turn in t.turns),
    }


def breakdown(
    trajectories: Sequence[Trajectory], key: Callable[[Trajectory], Hashable], k: int = 1
) -> dict[str, dict[str, Any]]:
    """:func:`summarize` per value of ``key`` (keys as strings, sorted naturally)."""
    groups: dict[Hashable, list[Trajectory]] = {}
    for t in trajectories:
        groups.setdefault(key(t), []).append(t)
    ordered = sorted(groups, key=lambda v: (v is None, isinstance(v, str), v if v is not None else 0))
    return {_label(v): summarize(groups[v], k) for v in ordered}


def _label(value: Hashable) -> str:
    return "unknown" if value is None else str(value)


def family_of(trajectory: Trajectory) -> str:
    """The family of the episode's env (``puzzles`` for ``puzzles/sat-v0``)."""
    return trajectory.env_id.split("/", 1)[0]


def level_key(trajectory: Trajectory) -> int | None:
    """The episode task's difficulty level (``meta["level"]``), or None."""
    from agentgym.eval.suites import level_of

    return level_of(trajectory.task)


def evaluate_agent(trajectories: Sequence[Trajectory], k: int = 1) -> dict[str, Any]:
    """An agent's figures: overall, and by family, env, difficulty level and env x level."""
    return {
        "overall": summarize(trajectories, k),
        "by_family": breakdown(trajectories, family_of, k),
        "by_env": breakdown(trajectories, lambda t: t.env_id, k),
        "by_level": breakdown(trajectories, level_key, k),
        "by_env_level": {
            env: breakdown([t for t in trajectories if t.env_id == env], level_key, k)
            for env in sorted({t.env_id for t in trajectories})
        },
    }
