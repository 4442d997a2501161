"""search/qa-v0: tools, budget, rewards, the gold answer kept from the agent, bring-your-own files."""

from __future__ import annotations

import json
import pickle
import re

import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import Message, ToolCall
from agentgym.environments.search.qa import SearchQAEnv
from agentgym.tasks.search.generator import SearchQAGenerator


def _call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


@pytest.mark.parametrize("env_id", ["search/qa-v0", "search/self-search-v0", "search/ssp-proposer-v0"])
def test_registered_envs_pass_check_env(env_id: str) -> None:
    assert check_env(env_id).passed


def test_search_open_answer_with_native_calls() -> None:
    env = SearchQAEnv(difficulty={"hops": 1})
    task = SearchQAGenerator(hops=1).generate(0, 1)
    obs, info = env.reset(seed=0, options={"task": task})
    assert obs[1].text == f"Question: {task.spec['question']}" and info["hops"] == 1
    doc_id = task.spec["path"][0]
    title = env.engine.open(doc_id).title
    calls = (
        ToolCall("c1", "search", json.dumps({"query": title, "k": 3})),
        ToolCall("c2", "open", json.dumps({"doc_id": doc_id})),
    )
    obs, reward, terminated, _truncated, info = env.step(Message("assistant", "", tool_calls=calls))
    assert [m.role for m in obs] == ["tool", "tool"] and [m.tool_call_id for m in obs] == ["c1", "c2"]
    assert f"[{doc_id}]" in obs[0].text and obs[0].text.count("\n") <= 3
    assert obs[1].text.startswith(f"[{doc_id}] {title}\n")
    assert doc_id in info["retrieved"] and reward == 0.0 and not terminated
    obs, reward, terminated, _, info = env.step(
        Message("assistant", "", tool_calls=(ToolCall("c3", "answer", json.dumps({"text": task.answer[0]})),))
    )
    assert terminated and reward == 1.0 and info["verdict"].details["path_recall"] == 1.0


def test_plain_text_answer_and_wrong_answer() -> None:
    env = SearchQAEnv()
    env.reset(seed=5)
    gold = env.gold_answers()
    _, reward, terminated, _, info = env.step(f"I think <answer>{gold[0]}x</answer>")
    assert terminated and reward == 0.0 and info["verdict"].details["exact"] == 0.0


def test_f1_reward_gives_partial_credit() -> None:
    gen = SearchQAGenerator(hops=1, qtypes="intersection")
    task = gen.generate(0, 0)
    env = SearchQAEnv(difficulty={"qtypes": "intersection"}, reward="f1")
    env.reset(seed=0, options={"task": task})
    first_word = (
        task.answer[0].split()[0] if not task.answer[0].startswith("The ") else task.answer[0].split()[1]
    )
    _, reward, terminated, _, info = env.step(f"<answer>{first_word}</answer>")
    assert terminated and 0.0 < reward < 1.0 and reward == info["verdict"].details["f1"]


def test_budget_truncates_without_answer_and_the_verdict_says_so() -> None:
    env = SearchQAEnv(max_calls=3)
    env.reset(seed=1)
    for i in range(3):
        _, reward, terminated, truncated, info = env.step(_call("search", query=f"painter {i}"))
    assert truncated and not terminated and reward == 0.0
    assert info["verdict"].kind == "no_answer" and info["verdict"].details["searches"] == 3
    with pytest.raises(EnvError):
        env.step(_call("search", query="more"))


def test_malformed_replies_are_observations() -> None:
    env = SearchQAEnv()
    env.reset(seed=2)
    for bad in (
        "just thinking",
        _call("search"),
        _call("search", query=5),
        _call("fly", to="moon"),
        "<tool_call>{</tool_call>",
    ):
        obs, _reward, terminated, truncated, info = env.step(bad)
        assert "action_error" in info and not terminated and not truncated and obs
    obs, *_ = env.step(_call("open", doc_id="no-such-doc"))
    assert "No document" in obs[0].text


def test_gold_answer_never_reaches_the_agent_before_the_end() -> None:
    gen = SearchQAGenerator(hops=2, qtypes="counting")
    for index in range(5):
        task = gen.generate(3, index)
        env = SearchQAEnv(difficulty={"hops": 2})
        obs, info = env.reset(seed=0, options={"task": task})
        question = obs[1].text
        assert "gold" not in json.dumps(info)
        assert not any(re.search(rf"\b{re.escape(a)}\b", question) for a in task.answer)
        obs, _, _, _, info = env.step(_call("search", query="people born"))
        assert "gold" not in json.dumps(info)
        assert env.gold_answers() == task.answer == env.task.answer
        _, _, _, _, info = env.step("<answer>0</answer>")
        assert info["verdict"].details["gold"] == task.answer


def test_pickle_and_fork_share_the_index_and_continue_equal() -> None:
    env = SearchQAEnv()
    env.reset(seed=4)
    env.step(_call("search", query="festival"))
    twin = pickle.loads(pickle.dumps(env))
    fork = env.fork()
    assert twin.engine is env.engine and fork.engine is env.engine
    assert len(pickle.dumps(env)) < 20_000  # the corpus and index are not copied
    for other in (twin, fork):
        assert (
            other.step(_call("search", query="painter"))[0][0].text
            == env.fork().step(_call("search", query="painter"))[0][0].text
        )


def test_tasks_about_another_world_switch_the_corpus() -> None:
    task = SearchQAGenerator(hops=2, n_docs=300, world_seed=9).generate(0, 0)
    env = agentgym.make("search/qa-v0")
    env.reset(seed=0, options={"task": task})
    base = env.unwrapped
    assert len(base.engine.corpus) == 300
    for _ in range(10):
        _, reward, terminated, truncated, _ = env.step(base.oracle_action())
        if terminated or truncated:
            break
    assert reward == 1.0


def test_bring_your_own_corpus_and_questions(tmp_path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    docs = [
        {
            "id": "d1",
            "title": "Mount Quill",
            "text": "Mount Quill is the tallest peak of the Ferrow range, 4,120 metres high.",
        },
        {"id": "d2", "title": "Ferrow range", "text": "The Ferrow range lies north of the town of Lisk."},
        {"id": "d3", "title": "Lisk", "text": "Lisk is a market town famous for copper."},
    ]
    corpus.write_text("\n".join(json.dumps(d) for d in docs))
    qa = tmp_path / "qa.jsonl"
    rows = [
        {
            "question": "How high is the tallest peak of the range north of Lisk?",
            "answer": "4,120 metres",
            "aliases": ["4120 m"],
            "supporting": ["d2", "d1"],
        },
        {"question": "What is Lisk famous for?", "answer": "copper"},
    ]
    qa.write_text("\n".join(json.dumps(r) for r in rows))
    env = SearchQAEnv(corpus=str(corpus), qa=str(qa), split="all")
    assert len(env.byo_tasks) == 2 and env.byo_tasks[0].spec["hops"] == 2
    for task in env.byo_tasks:
        env.reset(seed=0, options={"task": task})
        for _ in range(8):
            _, reward, terminated, truncated, _info = env.step(env.oracle_action())
            if terminated or truncated:
                break
        assert reward == 1.0
    env.reset(seed=0, options={"task": env.byo_tasks[0]})
    assert env.step("<answer>4120 m</answer>")[1] == 1.0
    other = SearchQAGenerator().generate(0, 0)
    foreign = env.byo_tasks[0].__class__("search", {**env.byo_tasks[0].spec, "corpus": "jsonl:other"}, ["x"])
    with pytest.raises(EnvError):
        env.reset(seed=0, options={"task": foreign})
    env.reset(seed=0, options={"task": other})  # a generated task brings its own world
    qa.write_text('{"question": "no answer"}')
    with pytest.raises(ConfigError):
        SearchQAEnv(corpus=str(corpus), qa=str(qa))
    with pytest.raises(EnvError):
        SearchQAEnv(qa=str(qa))


def test_invalid_env_settings_raise() -> None:
    for kwargs in ({"split": "test"}, {"k": 0}, {"max_calls": "5"}):
        with pytest.raises(EnvError):
            SearchQAEnv(**kwargs)
    with pytest.raises(ConfigError):
        SearchQAEnv(retriever="dense")


def test_unreadable_replies_end_the_episode_after_the_budget() -> None:
    env = SearchQAEnv(max_calls=3)
    env.reset(seed=0)
    for i in range(3):
        _, _, terminated, truncated, info = env.step("no idea")
        assert not terminated and truncated == (i == 2)
    assert info["verdict"].kind == "no_answer" and info["verdict"].details["format_errors"] == 3


def test_concurrent_rollouts_through_the_runner() -> None:
    from agentgym.agents import make_agent
    from agentgym.rollout import RolloutConfig, run_rollouts

    config = RolloutConfig(
        episodes=8, concurrency=8, progress=False, env_kwargs={"difficulty": {"world_seed": 77}}
    )
    result = run_rollouts("search/qa-v0", make_agent("oracle"), config)
    assert [t.status for t in result.trajectories] == ["ok"] * 8
    assert all(t.reward == 1.0 for t in result.trajectories)
