"""Accepted self-play tasks as a curriculum (the loop that fills it: :mod:`agentgym.selfplay`).

:class:`SelfPlayPool` is a :class:`~agentgym.rollout.TaskSource`: it serves the accepted questions
to solver episodes (``search/qa-v0`` with ``task_source=pool``), preferring the most learnable ones
(solve rate nearest 1/2, unseen first), and records each solver outcome. Its
:meth:`~SelfPlayPool.proposer_reward` is SSP's adversarial reward: ``1 - solve rate`` of an
accepted question (0 for rejected ones). Held-out tasks are never admitted, so eval stays clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.core.task import Task
from agentgym.tasks.splits import split_of
from agentgym.trajectory import Trajectory


class SelfPlayPool:
    """A growing pool of accepted SSP tasks, served by learnability ``p (1 - p)``."""

    def __init__(self, seed: int = 0, window: int = 8) -> None:
        if window < 1:
            raise ConfigError(f"window must be >= 1, got {window}")
        self.seed, self.window = seed, window
        self.tasks: dict[str, Task] = {}
        self.outcomes: dict[str, list[bool]] = {}
        self.rejected_heldout = 0

    def __len__(self) -> int:
        return len(self.tasks)

    def add(self, task: Task) -> bool:
        """Admit an accepted task (False when it is a duplicate or falls in the held-out split)."""
        if split_of(task) != "train":
            self.rejected_heldout += 1
            return False
        if task.id in self.tasks:
            return False
        self.tasks[task.id] = task
        self.outcomes[task.id] = []
        return True

    def solve_rate(self, task_id: str) -> float | None:
        """The solver's success rate over the last ``window`` attempts (None before any)."""
        seen = self.outcomes.get(task_id, [])[-self.window :]
        return sum(seen) / len(seen) if seen else None

    def proposer_reward(self, task_id: str) -> float:
        """SSP's proposer reward: ``1 - solve rate`` (0.5 before any attempt; 0 if not in the pool)."""
        if task_id not in self.tasks:
            return 0.0
        rate = self.solve_rate(task_id)
        return 0.5 if rate is None else 1.0 - rate

    def next_task(self, plan: Any) -> Task:
        """The most learnable task (ties broken by a seeded draw from the episode's seed)."""
        if not self.tasks:
            raise ConfigError("the self-play pool is empty: no proposal has been accepted yet")
        ids = sorted(self.tasks)
        scores = []
        for task_id in ids:
            rate = self.solve_rate(task_id)
            scores.append(1.0 if rate is None else rate * (1 - rate))
        best = [i for i, s in zip(ids, scores, strict=True) if s == max(scores)]
        rng = np.random.default_rng([self.seed, int(getattr(plan, "env_seed", 0)) % (2**63)])
        return self.tasks[best[int(rng.integers(len(best)))]]

    def record(self, task: Task, trajectory: Trajectory) -> None:
        """Record whether the solver answered ``task``."""
        if task.id in self.outcomes and trajectory.status == "ok":
            self.outcomes[task.id].append(bool(trajectory.passed))

    def state_dict(self) -> dict[str, Any]:
        """The pool as JSON-serializable data."""
        return {
            "seed": self.seed,
            "window": self.window,
            "tasks": [t.to_dict() for t in self.tasks.values()],
            "outcomes": self.outcomes,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.seed, self.window = int(state["seed"]), int(state["window"])
        self.tasks = {t["id"]: Task.from_dict(t) for t in state["tasks"]}
        self.outcomes = {k: [bool(v) for v in vs] for k, vs in state["outcomes"].items()}
