"""RuleReasoner's domain-aware dynamic sampling (DADS): weak domains are sampled more.

RuleReasoner (Liu, Li, Zheng, 2025, arXiv:2506.08672; code at github.com/bigai-nlco/RuleReasoner,
``RayPPOTrainer.compute_weights``) re-weights its training domains from the rewards of the recent
batches. Here a "batch" is a block of ``update_every`` recorded episodes; the last ``buffer_size``
blocks are kept, and after each block the weights are recomputed:

1. each reward is decayed by the age of its block: 1 for the newest, then 1/2, 1/3, ... (harmonic),
   or 1/2, 1/4, ... (geometric), or not at all;
2. ``r_i`` = the mean decayed reward of domain ``i``; the target is ``target_reward`` times the
   mean decay factor of a full buffer;
3. ``v_i = max(0, target - r_i)``, how far the domain falls short;
4. ``w_i = exp(v_i / tau) / sum_j exp(v_j / tau)``.

(RuleReasoner writes ``exp((v_i + eps) / tau)``; the ``eps`` cancels in the normalization, so it is
left out.) The defaults are those of RuleReasoner's training script: blocks of 8 updates' worth
(here 16 episodes), a buffer of 4, harmonic decay, ``tau = 0.3``, target 1.0. Two choices are ours:
a domain with no reward in the buffer counts as falling short by the whole target (RuleReasoner
only weighs domains it has rewards for), and ``floor`` mixes a uniform share into the weights. As
``v`` is bounded by the target, no domain's weight falls below ``1 / (1 + (K-1) e^(target/tau))``
even with ``floor = 0``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.tasks.base import TaskGenerator
from agentgym.tasks.curriculum.base import Arm, Curriculum, default_estimate

Decay = Literal["harmonic", "geometric", "none"]


def decay_factor(age: int, decay: Decay) -> float:
    """The weight of a block ``age`` blocks older than the newest (age 0 -> 1.0)."""
    if decay == "harmonic":
        return 1.0 / (age + 1)
    if decay == "geometric":
        return 0.5**age
    return 1.0


def domain_weights(
    blocks: Sequence[Sequence[tuple[int, float]]],
    n_domains: int,
    buffer_size: int,
    decay: Decay = "harmonic",
    tau: float = 0.3,
    target_reward: float = 1.0,
) -> list[float]:
    """DADS weights of ``n_domains`` domains from ``blocks`` of ``(domain, reward)``, oldest first."""
    sums, counts = [0.0] * n_domains, [0] * n_domains
    for age, block in enumerate(reversed(blocks)):
        factor = decay_factor(age, decay)
        for domain, reward in block:
            sums[domain] += reward * factor
            counts[domain] += 1
    target = target_reward * sum(decay_factor(a, decay) for a in range(buffer_size)) / buffer_size
    shortfall = [max(0.0, target - s / c) if c else target for s, c in zip(sums, counts, strict=True)]
    top = max(shortfall)
    raw = [math.exp((v - top) / tau) for v in shortfall]  # shifted by the max: same ratios, no overflow
    total = sum(raw)
    return [w / total for w in raw]


class DomainSampler(Curriculum):
    """Samples among several generators (domains), more often from the ones with low recent reward.

    ``domains`` maps names to generators (or is a sequence, named by generator id). See the module
    docstring for the rule and its parameters; ``floor`` in [0, 1) is the share of draws spread
    uniformly over the domains.
    """

    kind = "domain"

    def __init__(
        self,
        domains: Mapping[str, TaskGenerator] | Sequence[TaskGenerator],
        *,
        update_every: int = 16,
        buffer_size: int = 4,
        decay: Decay = "harmonic",
        tau: float = 0.3,
        target_reward: float = 1.0,
        floor: float = 0.0,
        seed: int = 0,
        max_draws: int = 10_000,
    ) -> None:
        named = dict(domains) if isinstance(domains, Mapping) else {g.id: g for g in domains}
        if isinstance(domains, Sequence) and len(named) != len(domains):
            raise ConfigError("two domains share a generator id; pass a mapping of distinct names")
        arms = [Arm(name, gen, default_estimate(gen) or 0.0) for name, gen in named.items()]
        super().__init__(arms, seed=seed, max_draws=max_draws)
        if update_every < 1 or buffer_size < 1:
            raise ConfigError(f"update_every and buffer_size must be >= 1, got {update_every}, {buffer_size}")
        if decay not in ("harmonic", "geometric", "none"):
            raise ConfigError(f"decay must be 'harmonic', 'geometric' or 'none', got {decay!r}")
        if tau <= 0 or not 0 < target_reward <= 1 or not 0 <= floor < 1:
            raise ConfigError(f"need tau > 0, target_reward in (0, 1], floor in [0, 1); got {tau}, "
                              f"{target_reward}, {floor}")  # fmt: skip
        self.names = tuple(named)
        self.update_every, self.buffer_size, self.decay = update_every, buffer_size, decay
        self.tau, self.target_reward, self.floor = tau, target_reward, floor
        self._block: list[tuple[int, float]] = []
        self._blocks: deque[list[tuple[int, float]]] = deque(maxlen=buffer_size)
        self._weights = [1.0 / len(self.arms)] * len(self.arms)

    @property
    def weights(self) -> dict[str, float]:
        """The current DADS weight of each domain (before the ``floor`` share)."""
        return dict(zip(self.names, self._weights, strict=True))

    @property
    def probabilities(self) -> dict[str, float]:
        """The probability that the next fresh task comes from each domain."""
        return dict(zip(self.names, self._probabilities(), strict=True))

    def _probabilities(self) -> list[float]:
        k = len(self.arms)
        return [self.floor / k + (1.0 - self.floor) * w for w in self._weights]

    def _choose(self, rng: np.random.Generator) -> int:
        p = np.asarray(self._probabilities())
        return int(rng.choice(len(p), p=p / p.sum()))

    def _observe(self, arm: int, passed: bool, reward: float) -> None:
        self._block.append((arm, reward))
        if len(self._block) >= self.update_every:
            self._blocks.append(self._block)
            self._block = []
            self._weights = domain_weights(
                list(self._blocks), len(self.arms), self.buffer_size, self.decay, self.tau, self.target_reward
            )

    def _extra_state(self) -> dict[str, Any]:
        return {
            "block": [[a, r] for a, r in self._block],
            "blocks": [[[a, r] for a, r in block] for block in self._blocks],
            "weights": list(self._weights),
        }

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._block = [(int(a), float(r)) for a, r in state["block"]]
        self._blocks = deque(
            ([(int(a), float(r)) for a, r in block] for block in state["blocks"]), maxlen=self.buffer_size
        )
        weights = [float(w) for w in state["weights"]]
        if len(weights) != len(self.arms):
            raise ConfigError("the saved weights do not match the domains")
        self._weights = weights
