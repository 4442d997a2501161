"""Curricula: task sources that move along difficulty levels and domains as rewards come in.

Each is a :class:`~agentgym.rollout.TaskSource` (``next_task(plan)`` / ``record(task, trajectory)``)
for ``run_rollouts(..., task_source=...)``, emits only training-split tasks, is deterministic given
its seed and the records it gets, and saves and restores its state as JSON
(``state_dict()`` / ``load_state_dict()``).

- :class:`ThresholdCurriculum`: SATURN-style promotion along one generator's difficulty levels.
- :class:`DomainSampler`: RuleReasoner's domain-aware dynamic sampling over several generators.
- :class:`LearnabilitySampler`: samples the arms with the highest ``p (1 - p)``.
"""

from agentgym.tasks.curriculum.base import (
    COUNTED_STATUSES,
    Arm,
    Curriculum,
    config_fingerprint,
    default_estimate,
    level_arms,
    stream_seed,
    success_rate,
)
from agentgym.tasks.curriculum.domain import DomainSampler, decay_factor, domain_weights
from agentgym.tasks.curriculum.learnability import LearnabilitySampler
from agentgym.tasks.curriculum.threshold import DEFAULT_THRESHOLD, ThresholdCurriculum

__all__ = [
    "COUNTED_STATUSES",
    "DEFAULT_THRESHOLD",
    "Arm",
    "Curriculum",
    "DomainSampler",
    "LearnabilitySampler",
    "ThresholdCurriculum",
    "config_fingerprint",
    "decay_factor",
    "default_estimate",
    "domain_weights",
    "level_arms",
    "stream_seed",
    "success_rate",
]
