"""The guessing smoke env: rules, graded reward, determinism, per-turn scores."""

from __future__ import annotations

import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import EnvError
from agentgym.environments.puzzles.guess import GuessNumberEnv, parse_guess


def test_parse_guess() -> None:
    assert parse_guess("I think 7.") == 7
    assert parse_guess("maybe 3 or <answer>5</answer>") == 5
    assert parse_guess("no idea") is None


def test_hit_miss_and_graded_reward() -> None:
    env = agentgym.make("puzzles/guess-number-v0")
    obs, info = env.reset(seed=4)
    secret = int(env.unwrapped.task.answer)
    assert "1 to 10" in obs[0].text and info["task_id"]
    low = 1 if secret != 1 else 2
    obs, r, term, trunc, info = env.step(str(low))
    assert (r, term) == (0.0, False) and ("Higher" in obs[0].text or "Lower" in obs[0].text)
    assert info["valid_guess"] == 1.0
    obs, r, term, _, info = env.step("hmm")
    assert not term and info["valid_guess"] == 0.0 and "No number" in obs[0].text
    obs, r, term, trunc, info = env.step(str(secret))
    assert term and not trunc and r == 1.0 and info["verdict"].passed
    env.reset(seed=4)
    far = 10 if secret <= 5 else 1
    for _ in range(3):
        _, r, term, _, info = env.step(str(far))
    assert term and r == pytest.approx(0.5 * (1 - abs(far - secret) / 9))
    env.reset(seed=4)
    for _ in range(3):
        _, r, term, _, _ = env.step("nothing")
    assert term and r == 0.0


def test_oracle_and_bad_config() -> None:
    env = GuessNumberEnv()
    env.reset(seed=1)
    assert env.step(env.oracle_action())[1] == 1.0
    with pytest.raises(EnvError):
        GuessNumberEnv(low=5, high=5)
    with pytest.raises(EnvError):
        GuessNumberEnv(max_guesses=0)


def test_passes_check_env() -> None:
    assert check_env("puzzles/guess-number-v0", raise_on_failure=False).passed


def test_the_env_declares_its_per_turn_score_and_gra_reads_it() -> None:
    from agentgym.agents.scripted import RandomAgent
    from agentgym.core.env import TURN_SCORE_KEY
    from agentgym.rollout import RolloutConfig, run_rollouts
    from agentgym.train.rewards import RewardConfig, episode_rewards, turn_scores

    result = run_rollouts("puzzles/guess-number-v0", RandomAgent(), RolloutConfig(3, seed=1, progress=False))
    for traj in result.trajectories:
        assert all(TURN_SCORE_KEY in t.info for t in traj.turns)
        scores = turn_scores(traj)
        assert scores == [t.info["valid_guess"] for t in traj.turns]
        rewards = episode_rewards(traj, RewardConfig(kind="gra", gra_threshold=0.0))
        assert rewards is not None and rewards[:-1] == scores[:-1]
