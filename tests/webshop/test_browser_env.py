"""``webshop/shop-browser-v0``: the shop through the GUI family's browser env (real chromium).

``check_env`` runs on it in tests/test_checker.py with every registered id.
"""

import pytest

from agentgym.core.messages import ImagePart
from agentgym.registry import make
from tests.browser_support import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ENV_ID = "webshop/shop-browser-v0"


@pytest.fixture(autouse=True)
def needs_chromium():
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")


def test_oracle_buys_through_the_browser_and_sees_screenshots():
    env = make(ENV_ID, split="heldout")
    try:
        rewards = []
        for seed in range(4):
            obs, info = env.reset(seed=seed)
            assert info["split"] == "heldout"
            assert any(isinstance(p, ImagePart) for p in obs[-1].content)  # a screenshot
            assert env.unwrapped.task.spec["instruction"] in obs[-1].text
            for _ in range(50):
                obs, reward, term, trunc, info = env.step(env.unwrapped.oracle_action())
                if term or trunc:
                    break
            assert term and info["verdict"]["kind"] == "webshop"
            rewards.append(reward)
        assert sum(rewards) / len(rewards) >= 0.95
        obs, _ = env.reset(seed=9)
        obs, reward, term, _, info = env.step("done")
        assert term and reward == 0.0 and info["verdict"]["details"]["reason"] == "nothing bought"
    finally:
        env.close()
