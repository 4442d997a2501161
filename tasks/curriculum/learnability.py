"""Sampling for learnability: prefer the arms the agent solves about half the time.

An arm's learnability is ``p (1 - p)``, where ``p`` is its estimated success rate: the variance of
a pass/fail reward, zero for arms always or never solved (they give a policy gradient nothing to
learn from) and largest at ``p = 1/2`` (Tzannetos et al. 2023, "Proximal Curriculum"; Foster and
Foerster 2025, "Learning to Reason at the Frontier of Learnability"). ``p`` is the mean of a Beta
prior updated with exponentially discounted outcomes, so an unseen arm scores ``p = a / (a + b)``
(1/2 by default, the top score: every arm gets tried) and old outcomes fade as the agent changes.

Draws are proportional to the scores (``mode="proportional"``), or go to the best arm
(``mode="greedy"``, ties broken at random); either way a share ``explore`` of the draws is uniform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.tasks.base import TaskGenerator
from agentgym.tasks.curriculum.base import (
    Arm,
    Curriculum,
    Estimator,
    LadderMode,
    default_estimate,
    level_arms,
)

Mode = Literal["proportional", "greedy"]


class LearnabilitySampler(Curriculum):
    """Scores arms by ``p (1 - p)`` and samples the learnable ones (see the module docstring).

    ``arms`` are generators (named by id, or by the mapping's keys) or ready :class:`Arm` objects; use
    :meth:`over_levels` for the levels of one generator. ``prior = (a, b)`` is the Beta prior,
    ``discount`` in (0, 1] the weight kept by an arm's past outcomes at each new one of its own.
    """

    kind = "learnability"

    def __init__(
        self,
        arms: Sequence[TaskGenerator | Arm] | Mapping[str, TaskGenerator],
        *,
        prior: tuple[float, float] = (1.0, 1.0),
        discount: float = 0.98,
        mode: Mode = "proportional",
        explore: float = 0.1,
        seed: int = 0,
        max_draws: int = 10_000,
    ) -> None:
        if isinstance(arms, Mapping):
            built = [Arm(name, gen, default_estimate(gen) or 0.0) for name, gen in arms.items()]
        else:
            built = [a if isinstance(a, Arm) else Arm(a.id, a, default_estimate(a) or 0.0) for a in arms]
        super().__init__(built, seed=seed, max_draws=max_draws)
        if len(prior) != 2 or min(prior) <= 0:
            raise ConfigError(f"prior must be two positive numbers (a, b), got {prior!r}")
        if not 0 < discount <= 1:
            raise ConfigError(f"discount must be in (0, 1], got {discount}")
        if mode not in ("proportional", "greedy"):
            raise ConfigError(f"mode must be 'proportional' or 'greedy', got {mode!r}")
        if not 0 <= explore <= 1:
            raise ConfigError(f"explore must be in [0, 1], got {explore}")
        self.prior = (float(prior[0]), float(prior[1]))
        self.discount, self.mode, self.explore = discount, mode, explore
        self._wins = [0.0] * len(self.arms)
        self._trials = [0.0] * len(self.arms)

    @classmethod
    def over_levels(
        cls,
        generator: type[TaskGenerator] | str,
        base_config: Mapping[str, Any] | None = None,
        *,
        ladder: LadderMode = "joint",
        attributes: Sequence[str] | None = None,
        estimate: Estimator | None = None,
        **kwargs: Any,
    ) -> LearnabilitySampler:
        """A sampler over the difficulty levels of one generator (see :func:`level_arms`)."""
        return cls(level_arms(generator, base_config, ladder, attributes, estimate), **kwargs)

    def success_estimates(self) -> list[float]:
        """The posterior mean success rate of each arm."""
        a, b = self.prior
        return [(a + w) / (a + b + n) for w, n in zip(self._wins, self._trials, strict=True)]

    def scores(self) -> list[float]:
        """The learnability ``p (1 - p)`` of each arm."""
        return [p * (1.0 - p) for p in self.success_estimates()]

    def probabilities(self) -> list[float]:
        """The probability that the next fresh task comes from each arm."""
        scores = np.asarray(self.scores())
        k = len(scores)
        if self.mode == "greedy":
            best = scores >= scores.max() - 1e-12
            focus = best / best.sum()
        else:
            focus = scores / scores.sum() if scores.sum() > 0 else np.full(k, 1.0 / k)
        return list(self.explore / k + (1.0 - self.explore) * focus)

    def _choose(self, rng: np.random.Generator) -> int:
        p = np.asarray(self.probabilities())
        return int(rng.choice(len(p), p=p / p.sum()))

    def _observe(self, arm: int, passed: bool, reward: float) -> None:
        self._wins[arm] = self.discount * self._wins[arm] + float(passed)
        self._trials[arm] = self.discount * self._trials[arm] + 1.0

    def _extra_state(self) -> dict[str, Any]:
        return {"wins": list(self._wins), "trials": list(self._trials)}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        wins, trials = [float(x) for x in state["wins"]], [float(x) for x in state["trials"]]
        if len(wins) != len(self.arms) or len(trials) != len(self.arms):
            raise ConfigError("the saved estimates do not match the arms")
        self._wins, self._trials = wins, trials
