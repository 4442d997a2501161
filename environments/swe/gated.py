"""G-RA for the SWE env: per-turn process signals count only when the outcome passes a threshold.

:class:`GatedProcessReward` wraps ``swe/patch-v0``. Each turn's process score is the mean of its
signals (``edit_applied``, ``tests_run``, from ``info["process"]``). While the episode runs, step
rewards pass through unchanged (0 until the submit); when it ends, the last step's reward becomes
the sum of :func:`agentgym.verifiers.process.gated_accumulation` over the episode: the outcome,
plus ``weight`` times every turn's score if the outcome reached ``threshold`` (else nothing), and
``info["gated_rewards"]`` holds the per-turn split for trainers that assign credit per turn.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agentgym.core.env import Action, Observation
from agentgym.core.errors import ConfigError
from agentgym.core.wrappers import AsyncWrapper
from agentgym.verifiers.process import gated_accumulation

SIGNALS = ("edit_applied", "tests_run")
StepTuple = tuple[Observation, float, bool, bool, dict[str, Any]]


def turn_score(process: dict[str, Any] | None) -> float:
    """The mean of a turn's process signals (0 for a turn without any, e.g. a malformed reply)."""
    if not process:
        return 0.0
    return sum(bool(process.get(name)) for name in SIGNALS) / len(SIGNALS)


class GatedProcessReward(AsyncWrapper):
    """Gated reward accumulation (G-RA) of the SWE env's per-turn process signals."""

    def __init__(self, env: gym.Env, threshold: float = 1.0, weight: float = 0.1) -> None:
        if weight < 0:
            raise ConfigError(f"weight must be >= 0, got {weight}")
        super().__init__(env)
        self.threshold = threshold
        self.weight = weight
        self._scores: list[float] = []

    def reset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Reset the env and the per-turn scores."""
        self._scores = []
        return self.env.reset(**kwargs)

    async def areset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Async :meth:`reset`."""
        self._scores = []
        return await super().areset(**kwargs)

    def _gate(self, out: StepTuple) -> StepTuple:
        obs, reward, terminated, truncated, info = out
        self._scores.append(turn_score(info.get("process")))
        if not (terminated or truncated):
            return obs, reward, terminated, truncated, info
        gated = gated_accumulation(self._scores, float(reward), self.threshold, self.weight)
        info = {**info, "gated_rewards": gated, "gate_open": float(reward) >= self.threshold}
        return obs, float(sum(gated)), terminated, truncated, info

    def step(self, action: Action) -> StepTuple:
        """Step; at the episode's end, replace the reward by the gated accumulation."""
        return self._gate(self.env.step(action))

    async def astep(self, action: Action) -> StepTuple:
        """Async :meth:`step`."""
        return self._gate(await super().astep(action))
