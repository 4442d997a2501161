"""Audit of in-page restarts: restarting a used page must equal loading it fresh, seed by seed.

For each MiniWoB++ task and each pair of seeds (A, B): a random episode on seed A, then a reset to
seed B by an in-page restart (``reset_mode="in-page"``), against a reset to seed B on a freshly
reloaded document (``reset_mode="reload"``); the two resets' observations (screenshot bytes and DOM
text) must be identical, and so must the next few random steps (observations, rewards, ends). A
task goes in :data:`~agentgym.environments.gui.restart.INPAGE_TASKS` when every pair on which the
restart ran in place matched (pairs where a timer was still pending reload, and prove nothing)::

    python -m agentgym.environments.gui.restart_audit                 # every installed task
    python -m agentgym.environments.gui.restart_audit click-button --pairs 10
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentgym.core.messages import Message


@dataclass
class AuditResult:
    """One task's audit: restarts done in place, restarts that fell back to a reload, mismatches."""

    task: str
    in_page: int = 0
    reloaded: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        """True when at least one restart ran in place and none differed from a fresh load."""
        return self.in_page > 0 and not self.mismatches


def _obs(obs: list[Message]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in obs]


def _difference(a: list[Message], b: list[Message]) -> str:
    """What differs between two observations: the text, the screenshot, or both."""
    text_a = [m.text for m in a]
    text_b = [m.text for m in b]
    images_a = [img for m in a for img in m.images]
    images_b = [img for m in b for img in m.images]
    parts = []
    if text_a != text_b:
        for x, y in zip("\n".join(text_a).splitlines(), "\n".join(text_b).splitlines(), strict=False):
            if x != y:
                parts.append(f"text: {x[:80]!r} vs {y[:80]!r}")
                break
        else:
            parts.append("text: different lengths")
    if images_a != images_b:
        parts.append("screenshot")
    return "; ".join(parts) or "info"


def audit_pair(live: Any, fresh: Any, seed_a: int, seed_b: int, steps: int, follow: int) -> str | None:
    """One (A, B) pair on two envs of one task: None when equal (or not restarted in place)."""
    rng = np.random.default_rng(seed_a)
    live.reset(seed=seed_a)
    for _ in range(steps):
        if any(live.step(live.sample_action(rng))[2:4]):
            break
    obs_live, _ = live.reset(seed=seed_b)
    obs_fresh, _ = fresh.reset(seed=seed_b)
    if live.last_reset != "in-page":
        return None
    if _obs(obs_live) != _obs(obs_fresh):
        return f"seeds {seed_a}->{seed_b}: reset: {_difference(obs_live, obs_fresh)}"
    rng_live, rng_fresh = np.random.default_rng(seed_b), np.random.default_rng(seed_b)
    for i in range(follow):
        action = live.sample_action(rng_live)
        if action != fresh.sample_action(rng_fresh):
            return f"seeds {seed_a}->{seed_b}: step {i}: different element ids offered"
        a, b = live.step(action), fresh.step(action)
        if _obs(a[0]) != _obs(b[0]) or a[1:4] != b[1:4]:
            return f"seeds {seed_a}->{seed_b}: step {i} ({action}): {_difference(a[0], b[0])}"
        if a[2] or a[3]:
            break
    return None


def audit_task(
    task: str, pairs: int = 4, steps: int = 5, follow: int = 3, seed: int = 0, enough: int | None = None
) -> AuditResult:
    """Audit ``task`` over ``pairs`` seed pairs (random episodes of at most ``steps`` actions).

    With ``enough``, stops once that many pairs were restarted in place and compared.
    """
    from agentgym.environments.gui.miniwob import MiniWoBEnv

    result = AuditResult(task)
    live = MiniWoBEnv(task, reset_mode="in-page")
    fresh = MiniWoBEnv(task, reset_mode="reload")
    try:
        for k in range(pairs):
            seed_a, seed_b = seed + 2 * k + 1, seed + 2 * k + 2
            problem = audit_pair(live, fresh, seed_a, seed_b, steps, follow)
            if live.last_reset == "in-page":
                result.in_page += 1
            else:
                result.reloaded += 1
            if problem:
                result.mismatches.append(problem)
            if enough is not None and result.in_page >= enough:
                break
    finally:
        live.close()
        fresh.close()
    return result


def main(argv: list[str] | None = None) -> int:
    """Audit the named tasks (default: every installed one the action space can play)."""
    from agentgym.environments.gui.miniwob import available_tasks
    from agentgym.environments.gui.registration import MINIWOB_EXCLUDED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="task names (default: all installed, not excluded)")
    parser.add_argument("--pairs", type=int, default=6, help="seed pairs per task")
    parser.add_argument("--steps", type=int, default=5, help="random actions in the first episode")
    parser.add_argument("--follow", type=int, default=3, help="random actions compared after the reset")
    args = parser.parse_args(argv)
    tasks = args.tasks or [t for t in available_tasks() if t not in MINIWOB_EXCLUDED]
    safe = []
    for task in tasks:
        result = audit_task(task, args.pairs, args.steps, args.follow)
        verdict = "safe" if result.safe else ("UNSAFE" if result.mismatches else "untested")
        print(f"{task:<28} {verdict:<8} in-page {result.in_page}, reloaded {result.reloaded}", flush=True)
        for problem in result.mismatches:
            print(f"    {problem}", flush=True)
        if result.safe:
            safe.append(task)
    print(f"\n{len(safe)} of {len(tasks)} tasks restart-safe:")
    print("INPAGE_TASKS = frozenset(" + repr(tuple(safe)) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
