"""The search self-play loop (SSP): proposer episodes fill a pool, solver episodes learn from it.

The pool (:class:`~agentgym.environments.search.pool.SelfPlayPool`) lives with the search envs;
this loop runs rollouts, so it sits with the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.task import Task
from agentgym.environments.search.pool import SelfPlayPool
from agentgym.rollout import RolloutConfig, run_rollouts


@dataclass
class SelfPlayRound:
    """What one self-play round did: proposals, acceptances and the solver's results."""

    proposals: int = 0
    accepted: int = 0
    solver_episodes: int = 0
    solver_passed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def run_self_play(
    proposer: Any,
    solver: Any,
    rounds: int = 1,
    proposals_per_round: int = 4,
    solver_episodes_per_round: int = 4,
    pool: SelfPlayPool | None = None,
    proposer_kwargs: Mapping[str, Any] | None = None,
    solver_kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> tuple[SelfPlayPool, list[SelfPlayRound]]:
    """Alternate proposer episodes (RAG-checked proposals into ``pool``) and solver episodes on them.

    ``proposer`` and ``solver`` are agents; ``proposer_kwargs`` go to ``search/ssp-proposer-v0``
    (e.g. ``rag_solver=solver`` for the SSP check with the solver model), ``solver_kwargs`` to
    ``search/qa-v0``.
    """
    pool = pool if pool is not None else SelfPlayPool(seed)
    history = []
    for r in range(rounds):
        stats = SelfPlayRound()
        config = RolloutConfig(
            proposals_per_round,
            seed=seed + 2 * r,
            concurrency=1,
            env_kwargs=dict(proposer_kwargs or {}),
            progress=False,
        )
        result = run_rollouts("search/ssp-proposer-v0", proposer, config)
        for traj in result.trajectories:
            stats.proposals += 1
            details = traj.verdict.details if traj.verdict is not None else {}
            reason = str(details.get("reason", traj.status))
            stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
            if details.get("task") and pool.add(Task.from_dict(details["task"])):
                stats.accepted += 1
        if len(pool):
            config = RolloutConfig(
                solver_episodes_per_round,
                seed=seed + 2 * r + 1,
                concurrency=1,
                env_kwargs=dict(solver_kwargs or {}),
                progress=False,
            )
            solved = run_rollouts("search/qa-v0", solver, config, task_source=pool)
            stats.solver_episodes = len(solved.trajectories)
            stats.solver_passed = sum(bool(t.passed) for t in solved.trajectories)
        history.append(stats)
    return pool, history
