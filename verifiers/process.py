"""Per-turn (process) verification and gated reward accumulation (G-RA).

A :class:`TurnVerifier` scores every assistant turn of an episode (e.g. each reply must follow the
tool-call format, or each patch must apply), returning one Verdict per turn. G-RA (Stabilizing
Long-term Multi-turn RL with Gated Rewards) adds those immediate rewards to the return only when
the episode's high-level (outcome) reward meets a threshold, so step rewards cannot be farmed by
an episode that fails its goal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier


class TurnVerifier:
    """Applies a verifier to each assistant turn: ``score_turns(task, actions) -> [Verdict]``."""

    def __init__(self, verifier: Verifier, name: str | None = None) -> None:
        self.verifier = verifier
        self.name = name or f"turns:{verifier.name}"

    async def ascore_turns(self, task: Task, actions: Sequence[Message | str]) -> list[Verdict]:
        """One verdict per action, in order (unscored where the verifier failed on a turn)."""
        texts = [a.text if isinstance(a, Message) else a for a in actions]
        return list(await asyncio.gather(*(self.verifier.averify(task, t) for t in texts)))

    def score_turns(self, task: Task, actions: Sequence[Message | str]) -> list[Verdict]:
        """Synchronous :meth:`ascore_turns`."""
        from agentgym.core.agent import run_sync

        return run_sync(self.ascore_turns(task, actions))


def gated_accumulation(
    turn_scores: Sequence[float], outcome: float, threshold: float = 1.0, weight: float = 1.0
) -> list[float]:
    """Per-turn rewards under G-RA: the immediate scores count only if ``outcome >= threshold``.

    Returns one reward per turn: ``weight * turn_score`` for every turn when the gate opens, else
    zeros; the outcome reward itself goes to the last turn either way. An empty episode gives [].
    """
    if not turn_scores:
        return []
    gate_open = outcome >= threshold
    rewards = [weight * float(s) if gate_open else 0.0 for s in turn_scores]
    rewards[-1] += float(outcome)
    return rewards


def turn_scores(verdicts: Sequence[Verdict]) -> list[float]:
    """Scores of per-turn verdicts, with unscored turns counted as 0 (and never opening a gate)."""
    return [0.0 if v.unscored else v.score for v in verdicts]
