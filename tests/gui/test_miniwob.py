"""MiniWoB++ envs: registration, the page's reward, seeds, and the scripted solvers over 50 seeds."""

import asyncio

import pytest

import agentgym
from agentgym.core.errors import ConfigError
from agentgym.environments.gui.miniwob import MiniWoBEnv, available_tasks
from agentgym.environments.gui.oracles import ORACLES
from agentgym.environments.gui.registration import MINIWOB_EXCLUDED, MINIWOB_TASKS
from agentgym.registry import registry

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SEEDS = 50


def test_at_least_50_tasks_are_registered_and_the_rest_explained():
    ids = [i for i in registry.ids() if i.startswith("gui/miniwob-") and i != "gui/miniwob-v0"]
    assert len(ids) >= 50 and sorted(ids) == sorted(f"gui/miniwob-{t}-v0" for t in MINIWOB_TASKS)
    installed = set(available_tasks())
    assert set(MINIWOB_TASKS) <= installed and set(MINIWOB_EXCLUDED) <= installed
    assert not set(MINIWOB_TASKS) & set(MINIWOB_EXCLUDED)
    assert set(ORACLES) <= set(MINIWOB_TASKS)


def test_any_installed_page_runs_through_the_generic_id():
    env = agentgym.make("gui/miniwob-v0", task="scroll-text")
    try:
        obs, _ = env.reset(seed=1)
        assert "Instruction: Find the" in obs[1].text and obs[1].images
    finally:
        env.close()


@pytest.mark.parametrize(
    "task", ["../miniwob/click-test", "../core/core", "/etc/passwd", "click-test/../click-test", "", 7]
)
def test_task_names_are_known_pages_never_paths(task):
    with pytest.raises(ConfigError, match="unknown MiniWoB"):
        agentgym.make("gui/miniwob-v0", task=task)
    with pytest.raises(ConfigError, match="did you mean 'click-test'"):
        MiniWoBEnv("click-tset")


def test_reset_shows_the_instruction_and_seeds_pass_through():
    env = agentgym.make("gui/miniwob-click-button-v0")
    try:
        a = env.reset(seed=5)
        b = env.reset(seed=6)
        c = env.reset(seed=5)
        assert "Instruction: Click on the" in a[0][1].text
        assert a[0] == c[0] and a[0] != b[0]
        assert a[1]["seed"] == c[1]["seed"] and a[1]["task_id"] == c[1]["task_id"]
        page_task = env.unwrapped.make_task(12345)
        _obs, info = env.reset(seed=0, options={"task": page_task})
        assert info["seed"] == 12345 and info["task_id"] == page_task.id
    finally:
        env.close()


def test_a_wrong_click_gets_the_page_penalty():
    env = MiniWoBEnv("click-test-2")
    try:
        env.reset(seed=1)
        wrong = env.run(env.page.evaluate("document.getElementById('subbtn2').dataset.agid"))
        _obs, reward, terminated, _truncated, info = env.step(f"click({wrong})")
        assert terminated and reward == -1.0
        assert (
            info["verdict"]
            == {
                "score": 0.0,
                "passed": False,
                "kind": "gui",
                "details": {"raw_reward": -1.0, "reason": None},
                "error": None,
            }
            or not info["verdict"].passed
        )
    finally:
        env.close()


def test_time_reward_mode_discounts_on_the_virtual_clock():
    env = MiniWoBEnv("click-test", reward_mode="time")
    try:
        env.reset(seed=0)
        env.step("wait")
        _obs, reward, terminated, *_ = env.step(env.oracle_action())
        # the click lands after the reset's 100 ms settle and the wait's 100 + 1000 ms
        assert terminated and reward == pytest.approx(1 - 1200 / 10000)
    finally:
        env.close()


async def _solve_all(task: str, seeds: range, concurrency: int = 4) -> list[float]:
    envs = [MiniWoBEnv(task, observation="dom") for _ in range(concurrency)]
    rewards: list[float] = []

    async def worker(env: MiniWoBEnv, mine: list[int]) -> None:
        for seed in mine:
            await env.areset(seed=seed)
            for _ in range(20):
                action = await asyncio.to_thread(env.oracle_action)
                _, reward, terminated, truncated, _ = await env.astep(action)
                if terminated or truncated:
                    break
            rewards.append(reward)

    try:
        await asyncio.gather(*(worker(e, list(seeds)[i::concurrency]) for i, e in enumerate(envs)))
    finally:
        for e in envs:
            e.close()
    return rewards


@pytest.mark.parametrize("task", sorted(ORACLES))
def test_the_oracle_solves_its_task_over_50_seeds(task):
    rewards = asyncio.run(_solve_all(task, range(SEEDS)))
    assert len(rewards) == SEEDS and all(r == 1.0 for r in rewards), rewards
