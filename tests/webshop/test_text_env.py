"""``webshop/shop-text-v0``: WebShop's text mode, the oracle and random agents, the contract."""

import pickle

import numpy as np
import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.messages import Message, ToolCall
from agentgym.environments.webshop.text_env import ShopTextEnv
from agentgym.registry import make
from agentgym.tasks.splits import generate_split
from agentgym.tasks.webshop.instructions import InstructionGenerator

ENV_ID = "webshop/shop-text-v0"


def run(env, policy, seed, options=None, max_steps=30):
    obs, info = env.reset(seed=seed, options=options)
    reward, info = 0.0, info
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(policy(env))
        if terminated or truncated:
            break
    return reward, info, obs


def test_registered_env_passes_check_env():
    assert agentgym.make  # the package exposes make
    report = check_env(ENV_ID, raise_on_failure=False)
    assert report.passed, [f"{r.name}: {r.message}" for r in report.failures()]


def test_pages_list_clickables_and_a_purchase_scores():
    env = ShopTextEnv(catalog_size=1000, split="heldout")
    obs, info = env.reset(seed=3)
    assert info["split"] == "heldout" and obs[0].role == "system"
    first = obs[1].text
    assert first.startswith("Instruction: ") and "search[<your query>]" in first
    obs, *_ = env.step("I will search. search[snack pack]")
    text = obs[0].text
    assert "Page 1 (Total results:" in text and "click[back to search]" in text and "click[next >]" in text
    asin = text.split("click[b0", 1)[1].split("]", 1)[0]
    obs, reward, term, _, info = env.step(f"click[B0{asin.upper()}]")
    assert "[Buy Now]" in obs[0].text and "click[buy now]" in obs[0].text and not term
    obs, *_ = env.step("click[features]")
    assert "Features:" in obs[0].text
    obs, *_ = env.step("click[< prev]")
    obs, reward, term, _, info = env.step("click[buy now]")
    assert term and info["verdict"].kind == "webshop" and reward == info["verdict"].score
    assert "Your score" in obs[0].text and "r_type" in info["verdict"].details


def test_invalid_actions_are_observations():
    env = ShopTextEnv(catalog_size=1000)
    env.reset(seed=0)
    obs, _, term, _, info = env.step("click[no such thing]")
    assert "not clickable here" in obs[0].text and not term and "action_error" in info
    obs, *_ = env.step("just chatting")
    assert "no action found" in obs[0].text
    env.step("search[dog bed]")
    obs, *_ = env.step("search[cat toy]")  # no search bar on a results page
    assert "no search bar" in obs[0].text


def test_native_tool_calls():
    env = ShopTextEnv(catalog_size=1000)
    env.reset(seed=1)
    call = ToolCall("c1", "search", '{"query": "yoga mat"}')
    obs, *_ = env.step(Message("assistant", "", tool_calls=(call,)))
    assert obs[0].role == "tool" and obs[0].tool_call_id == "c1" and "Total results" in obs[0].text
    nxt = ToolCall("c2", "click", '{"element": "next >"}')
    obs, *_ = env.step(Message("assistant", "", tool_calls=(nxt,)))
    assert "Page 2" in obs[0].text


def test_oracle_buys_the_right_thing_and_random_stays_low():
    env = make(ENV_ID, catalog_size=10_000, split="heldout")
    oracle = [run(env, lambda e: e.unwrapped.oracle_action(), seed)[0] for seed in range(25)]
    rng = np.random.default_rng(0)
    rand = [run(env, lambda e: e.unwrapped.sample_action(rng), seed)[0] for seed in range(25)]
    assert np.mean(oracle) >= 0.95
    assert np.mean(rand) < 0.35 and np.mean(rand) < np.mean(oracle) - 0.5


def test_a_given_task_and_pickle_round_trip():
    gen = InstructionGenerator(catalog_size=1000)
    task = next(generate_split(gen, 9, 1, "heldout"))
    env = ShopTextEnv(catalog_size=1000)
    obs, info = env.reset(seed=0, options={"task": task})
    assert info["task_id"] == task.id and task.spec["instruction"] in obs[1].text
    env.step(env.oracle_action())
    twin = pickle.loads(pickle.dumps(env))
    a, b = env.step(env.oracle_action()), twin.step(twin.oracle_action())
    assert a[0][0].text == b[0][0].text
    other = InstructionGenerator(catalog_size=2000).generate(0, 0)
    with pytest.raises(agentgym.core.errors.EnvError, match="catalog"):
        env.reset(options={"task": other})


def test_bad_kwargs_are_rejected():
    with pytest.raises(agentgym.core.errors.EnvError):
        ShopTextEnv(catalog_size=1000, split="test")
    with pytest.raises(agentgym.core.errors.EnvError):
        ShopTextEnv(catalog_size=1000, difficulty={"n_attributes": 9})
