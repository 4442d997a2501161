"""Rewards for training: outcome, per-turn, G-RA, IGPO and noise-corrected; failed episodes masked.

Every function returns **per-turn rewards** (one float per turn of the episode); the trainer puts
turn ``t``'s reward on the last token the agent sampled in that turn. An episode whose status is
not trainable (by default anything but ``ok``: ``env_error``, ``agent_error``, ``timeout``,
``verifier_error``, ``truncated``) gets ``None``: it is masked out of the batch, never scored 0.

The outcome is the final :class:`~agentgym.core.verdict.Verdict`'s score (typed on the trajectory);
per-turn process scores are what the env reports under the agreed ``info`` key
:data:`~agentgym.core.env.TURN_SCORE_KEY` (``"turn_score"``), whatever the env.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from agentgym.core.env import TURN_SCORE_KEY
from agentgym.core.errors import ConfigError
from agentgym.trajectory import Trajectory
from agentgym.verifiers.noise import backward_correct
from agentgym.verifiers.process import gated_accumulation

RewardKind = Literal["outcome", "turn", "gra", "igpo"]
DEFAULT_TRAINABLE: tuple[str, ...] = ("ok",)


@dataclass(frozen=True)
class RewardConfig:
    """How trajectories are scored for training.

    ``kind``: ``outcome`` (the episode's final score on its last turn), ``turn`` (the env's own
    per-turn rewards), ``gra`` (gated reward accumulation over the per-turn scores the env reports
    as ``info["turn_score"]``), ``igpo`` (information gain per turn plus the outcome; needs
    the gold-answer scores, see :mod:`agentgym.train.igpo`). ``noise`` = ``(rho_fp, rho_fn)``
    applies the verifiers' backward correction to the outcome. ``trainable_statuses`` are the
    episode statuses that take part in training.
    """

    kind: RewardKind = "outcome"
    gra_threshold: float = 1.0
    gra_weight: float = 1.0
    noise: tuple[float, float] | None = None
    trainable_statuses: tuple[str, ...] = DEFAULT_TRAINABLE

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RewardConfig:
        """Rebuild a config from its ``asdict`` form (a run's ``config.json``); typos are rejected.

        ``turn_score_key`` (older runs: the per-turn signal is now the env's ``info["turn_score"]``)
        is dropped.
        """
        known = {f.name for f in fields(cls)}
        fields_ = {k: v for k, v in data.items() if k != "turn_score_key"}
        unknown = sorted(set(fields_) - known)
        if unknown:
            raise ConfigError(f"unknown RewardConfig field(s) {unknown}; known: {sorted(known)}")
        if fields_.get("noise") is not None:
            fields_["noise"] = tuple(fields_["noise"])
        if "trainable_statuses" in fields_:
            fields_["trainable_statuses"] = tuple(fields_["trainable_statuses"])
        config = cls(**fields_)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError on an unknown kind or bad rates."""
        if self.kind not in ("outcome", "turn", "gra", "igpo"):
            raise ConfigError(f"unknown reward kind {self.kind!r}; use outcome, turn, gra or igpo")
        if self.noise is not None:
            backward_correct([0.0], *self.noise)  # checks the rates


def is_trainable(traj: Trajectory, statuses: Sequence[str] = DEFAULT_TRAINABLE) -> bool:
    """True when the episode ended with a trainable status and has at least one turn."""
    return traj.status in statuses and bool(traj.turns)


def outcome_score(traj: Trajectory) -> float:
    """The episode's outcome: the final verdict's score when there is one, else the summed reward."""
    verdict = traj.verdict
    if verdict is not None and not verdict.unscored:
        return verdict.score
    return traj.reward


def outcome_rewards(traj: Trajectory, noise: tuple[float, float] | None = None) -> list[float]:
    """Zeros on every turn but the last, which gets the outcome (noise-corrected when asked)."""
    outcome = outcome_score(traj)
    if noise is not None:
        outcome = float(backward_correct([min(1.0, max(0.0, outcome))], *noise)[0])
    return [0.0] * (len(traj.turns) - 1) + [outcome]


def turn_rewards(traj: Trajectory) -> list[float]:
    """The env's own reward for each turn."""
    return [float(t.reward) for t in traj.turns]


def turn_scores(traj: Trajectory) -> list[float]:
    """The per-turn scores the env declared (``info["turn_score"]``); a turn without one scores 0."""
    return [float(t.info.get(TURN_SCORE_KEY, 0.0)) for t in traj.turns]


def gra_rewards(traj: Trajectory, threshold: float = 1.0, weight: float = 1.0) -> list[float]:
    """G-RA: the env's per-turn scores count only when the outcome reaches ``threshold``.

    Reuses :func:`agentgym.verifiers.process.gated_accumulation`; the outcome is added to the last
    turn either way. A turn without a declared score (:func:`turn_scores`) scores 0.
    """
    scores = turn_scores(traj)
    return gated_accumulation(scores, outcome_score(traj), threshold=threshold, weight=weight)


def information_gain(
    answer_scores: Sequence[float], form: Literal["prob", "logprob"] = "prob"
) -> list[float]:
    """IGPO's turn rewards from the gold answer's scores before and after each turn.

    ``answer_scores[t]`` is the mean per-token log-probability of the gold answer given the
    conversation after ``t`` turns (``t = 0``: the first prompt only), so there is one more score
    than turns. ``form="prob"`` (the paper's): ``IG_t = exp(s_t) - exp(s_{t-1})``, the gain in the
    length-normalized probability of the answer; ``form="logprob"``: ``s_t - s_{t-1}``.
    """
    import math

    if len(answer_scores) < 2:
        raise ConfigError("information_gain needs the scores before and after at least one turn")
    if form not in ("prob", "logprob"):
        raise ConfigError(f"form must be 'prob' or 'logprob', got {form!r}")
    vals = [math.exp(s) for s in answer_scores] if form == "prob" else [float(s) for s in answer_scores]
    return [vals[t + 1] - vals[t] for t in range(len(vals) - 1)]


def igpo_rewards(
    traj: Trajectory,
    answer_scores: Sequence[float],
    form: Literal["prob", "logprob"] = "prob",
    ig_weight: float = 1.0,
    noise: tuple[float, float] | None = None,
) -> list[float]:
    """IGPO per-turn rewards: information gain on every turn but the last, the outcome on the last.

    As in the IGPO paper, intermediate turns earn the gain in the policy's probability of the gold
    answer and the final (answering) turn earns the outcome reward.
    """
    gains = information_gain(answer_scores, form)
    if len(gains) != len(traj.turns):
        raise ConfigError(f"need {len(traj.turns) + 1} answer scores, got {len(answer_scores)}")
    outcome = outcome_rewards(traj, noise)[-1]
    return [ig_weight * g for g in gains[:-1]] + [outcome]


def episode_rewards(
    traj: Trajectory,
    config: RewardConfig,
    answer_scorer: Callable[[Trajectory], Sequence[float]] | None = None,
) -> list[float] | None:
    """Per-turn rewards of ``traj`` under ``config``, or None when the episode is masked out."""
    if not is_trainable(traj, config.trainable_statuses):
        return None
    if config.kind == "outcome":
        return outcome_rewards(traj, config.noise)
    if config.kind == "turn":
        return turn_rewards(traj)
    if config.kind == "gra":
        return gra_rewards(traj, config.gra_threshold, config.gra_weight)
    if answer_scorer is None:
        raise ConfigError("igpo rewards need an answer scorer (agentgym.train.igpo.AnswerScorer)")
    return igpo_rewards(traj, answer_scorer(traj), noise=config.noise)
