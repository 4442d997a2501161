"""Rewards: outcome, per-turn, G-RA, IGPO (hand-computed cases), noise correction, masking."""

from __future__ import annotations

import math

import pytest

from agentgym.core.env import TURN_SCORE_KEY
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.train.rewards import (
    RewardConfig,
    episode_rewards,
    gra_rewards,
    igpo_rewards,
    information_gain,
    outcome_rewards,
)
from agentgym.trajectory import Trajectory, Turn


def _traj(
    scores: list[float], outcome: float, status: str = "ok", rewards: list[float] | None = None
) -> Trajectory:
    traj = Trajectory("e", "puzzles/guess-number-v0", "a", 0, status=status)  # type: ignore[arg-type]
    rewards = rewards or [0.0] * (len(scores) - 1) + [outcome]
    traj.turns = [
        Turn(i, [Message("user", "q")], Message("assistant", str(i)), reward=r, info={TURN_SCORE_KEY: s})
        for i, (s, r) in enumerate(zip(scores, rewards, strict=True))
    ]
    traj.verdict = Verdict(outcome, outcome >= 1.0, "x")
    return traj


def test_gra_counts_turn_scores_only_when_the_outcome_passes() -> None:
    assert gra_rewards(_traj([1, 0, 1], 1.0)) == [1.0, 0.0, 2.0]
    assert gra_rewards(_traj([1, 0, 1], 0.4)) == [0.0, 0.0, 0.4]
    assert gra_rewards(_traj([1, 1], 0.6), threshold=0.5, weight=0.1) == [0.1, pytest.approx(0.7)]


def test_information_gain_hand_computed() -> None:
    scores = [math.log(0.1), math.log(0.3), math.log(0.2), math.log(0.9)]
    assert information_gain(scores) == pytest.approx([0.2, -0.1, 0.7])
    assert information_gain(scores, "logprob") == pytest.approx([math.log(3), math.log(2 / 3), math.log(4.5)])
    traj = _traj([1, 1, 1], 0.5)
    # intermediate turns earn the gain, the final turn the outcome
    assert igpo_rewards(traj, scores) == pytest.approx([0.2, -0.1, 0.5])
    assert igpo_rewards(traj, scores, ig_weight=2.0) == pytest.approx([0.4, -0.2, 0.5])
    with pytest.raises(ConfigError):
        igpo_rewards(traj, scores[:3])
    with pytest.raises(ConfigError):
        information_gain([0.0])


def test_noise_corrected_outcome() -> None:
    assert outcome_rewards(_traj([1, 1], 1.0), noise=(0.1, 0.2)) == pytest.approx([0.0, 0.9 / 0.7])
    assert outcome_rewards(_traj([1], 0.0), noise=(0.1, 0.2)) == pytest.approx([-0.1 / 0.7])
    with pytest.raises(ConfigError):
        RewardConfig(noise=(0.6, 0.5)).validate()


def test_failed_episodes_are_masked_out_not_scored_zero() -> None:
    for status in ("env_error", "agent_error", "timeout", "verifier_error", "truncated"):
        assert episode_rewards(_traj([1, 1], 1.0, status), RewardConfig()) is None
    assert episode_rewards(
        _traj([1, 1], 1.0, "truncated"), RewardConfig(trainable_statuses=("ok", "truncated"))
    )
    assert episode_rewards(_traj([1, 0], 0.3), RewardConfig()) == [0.0, 0.3]
    assert episode_rewards(_traj([1, 0], 0.3, rewards=[0.1, 0.3]), RewardConfig(kind="turn")) == [0.1, 0.3]
    assert episode_rewards(_traj([1, 0], 1.0), RewardConfig(kind="gra")) == [1.0, 1.0]
    with pytest.raises(ConfigError):
        episode_rewards(_traj([1], 1.0), RewardConfig(kind="igpo"))  # needs a scorer
    with pytest.raises(ConfigError):
        RewardConfig(kind="nope").validate()  # type: ignore[arg-type]
