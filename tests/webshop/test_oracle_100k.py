"""The issue's bar: the oracle's mean reward >= 0.95 on 200 held-out instructions over 100k products.

Builds (once, then cached under ``$AGENTGYM_CACHE``) a 100,000-product catalog: about a minute on
two cores. The random agent runs on the first 50 of the same instructions for contrast.
"""

import numpy as np
import pytest

from agentgym.environments.webshop.text_env import ShopTextEnv
from agentgym.tasks.splits import generate_split, split_of

pytestmark = pytest.mark.slow


def episode(env, task, policy):
    env.reset(seed=0, options={"task": task})
    for _ in range(30):
        _, reward, terminated, truncated, _ = env.step(policy(env))
        if terminated or truncated:
            return reward
    return 0.0


def test_oracle_on_200_heldout_instructions_over_100k_products():
    env = ShopTextEnv(catalog_size=100_000, split="heldout")
    tasks = list(generate_split(env.generator, 2026, 200, "heldout"))
    assert len({t.id for t in tasks}) == 200 and all(split_of(t) == "heldout" for t in tasks)
    oracle = [episode(env, t, lambda e: e.oracle_action()) for t in tasks]
    rng = np.random.default_rng(0)
    rand = [episode(env, t, lambda e: e.sample_action(rng)) for t in tasks[:50]]
    assert np.mean(oracle) >= 0.95, np.mean(oracle)
    assert np.mean(rand) < 0.3, np.mean(rand)
