"""Advantage estimators: GRPO group sums, GAE by hand, token GAE skipping env tokens."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgym.train.advantages import (
    broadcast_to_tokens,
    discounted_returns,
    gae,
    grpo_advantages,
    token_gae,
    token_rewards,
    whiten,
)


@given(st.lists(st.tuples(st.integers(0, 4), st.floats(-5, 5)), min_size=1, max_size=40))
def test_grpo_advantages_sum_to_zero_per_group(items: list[tuple[int, float]]) -> None:
    groups = [g for g, _ in items]
    adv = grpo_advantages([r for _, r in items], groups)
    for g in set(groups):
        assert abs(adv[[i for i, x in enumerate(groups) if x == g]].sum()) < 1e-6


def test_grpo_hand_computed() -> None:
    adv = grpo_advantages([1.0, 0.0, 0.5, 0.5], [0, 0, 1, 1])
    assert adv == pytest.approx([1.0, -1.0, 0.0, 0.0], abs=1e-5)
    assert grpo_advantages([1.0, 0.0], [0, 0], scale=False) == pytest.approx([0.5, -0.5])


def test_gae_hand_computed() -> None:
    adv, ret = gae([0.0, 1.0], [0.5, 0.2], gamma=0.9, lam=0.5)
    d1 = 1.0 - 0.2
    d0 = 0.0 + 0.9 * 0.2 - 0.5
    assert adv == pytest.approx([d0 + 0.9 * 0.5 * d1, d1])
    assert ret == pytest.approx(adv + np.array([0.5, 0.2]))
    assert discounted_returns([1.0, 0.0, 2.0], 0.5) == pytest.approx([1.5, 1.0, 2.0])


def test_token_gae_runs_over_agent_tokens_only() -> None:
    mask = [0, 0, 1, 1, 0, 0, 1, 1]
    spans = [(2, 4), (6, 8)]
    rewards = token_rewards([0.0, 1.0], spans, len(mask))
    assert rewards.tolist() == [0, 0, 0, 0, 0, 0, 0, 1.0]
    values = np.zeros(len(mask))
    adv, _ = token_gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert adv.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]  # env tokens in between are not time steps
    assert broadcast_to_tokens([2.0, -1.0], spans, 8).tolist() == [0, 0, 2, 2, 0, 0, -1, -1]
    w = whiten(np.array([1.0, 2.0, 3.0, 9.0]), np.array([1, 1, 1, 0]))
    assert w[:3].mean() == pytest.approx(0.0) and w[3] == 0.0
