import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from agentgym.agents import OracleAgent, RandomAgent, make_agent
from agentgym.core.agent import AgentReply
from agentgym.core.env import StepResult
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.core.wrappers import MaxTurns
from agentgym.rollout import RolloutConfig, plan_episodes, run_rollouts
from agentgym.trajectory import TrajectoryStore
from tests.fake_openai_server import FakeOpenAIServer, Reply
from tests.toy_envs import GuessEnv

QUIET = {"progress": False}


def guess_env(**kw):
    return lambda: MaxTurns(GuessEnv(**kw), 8)


def test_oracle_solves_every_episode_and_records_turns():
    result = run_rollouts(guess_env(), OracleAgent(), RolloutConfig(episodes=20, concurrency=5, **QUIET))
    assert len(result.trajectories) == 20 and result.summary()["success"] == 1.0
    t = result.trajectories[0]
    assert t.status == "ok" and t.verdict.passed and t.turns[-1].terminated
    assert t.messages()[0].role == "system" and t.messages()[-1].text == "Correct!"
    assert all(turn.agent_s >= 0 and turn.env_s >= 0 for turn in t.turns)


def test_k_samples_share_the_task_and_differ_in_agent_seed():
    config = RolloutConfig(episodes=4, samples_per_task=3, concurrency=4, **QUIET)
    result = run_rollouts(guess_env(), RandomAgent(), config)
    by_group = {}
    for t in result.trajectories:
        by_group.setdefault(t.group_id, set()).add(t.task_id)
    assert len(by_group) == 4 and all(len(ids) == 1 for ids in by_group.values())
    plans = plan_episodes(config)
    assert len({p.agent_seed for p in plans}) == 12 and len({p.env_seed for p in plans}) == 4


def test_same_seed_same_trajectories():
    a = run_rollouts(guess_env(), RandomAgent(), RolloutConfig(episodes=6, seed=3, **QUIET))
    b = run_rollouts(guess_env(), RandomAgent(), RolloutConfig(episodes=6, seed=3, **QUIET))
    key = lambda r: sorted((t.episode_id, [x.action.text for x in t.turns]) for t in r.trajectories)  # noqa: E731
    assert key(a) == key(b)


class Flaky:
    name = "flaky"

    def __init__(self, mode):
        self.mode = mode

    async def act(self, messages, tools=(), context=None):
        if self.mode == "raise":
            raise RuntimeError("model exploded")
        if self.mode == "slow":
            await asyncio.sleep(5)
        return AgentReply(Message("assistant", "5"))


class StepCrashEnv(GuessEnv):
    def _step(self, action):
        raise OSError("disk on fire")


class UnscoredEnv(GuessEnv):
    def _step(self, action):
        return StepResult(
            [Message("user", "judge down")],
            terminated=True,
            verdict=Verdict.failed("judge", "endpoint unreachable"),
        )


@pytest.mark.parametrize(
    ("factory", "agent", "status", "error"),
    [
        (guess_env(), Flaky("raise"), "agent_error", "model exploded"),
        (guess_env(), Flaky("slow"), "timeout", "longer than 0.2s"),
        (lambda: StepCrashEnv(), Flaky("ok"), "env_error", "disk on fire"),
        (lambda: UnscoredEnv(), Flaky("ok"), "verifier_error", "endpoint unreachable"),
        (guess_env(high=10**6), Flaky("ok"), "truncated", None),
    ],
)
def test_failures_become_statuses_not_exceptions(factory, agent, status, error):
    config = RolloutConfig(episodes=3, concurrency=3, turn_timeout_s=0.2, **QUIET)
    result = run_rollouts(factory, agent, config)
    assert [t.status for t in result.trajectories] == [status] * 3
    if error:
        assert all(error in t.error for t in result.trajectories)
    assert not any(t.passed for t in result.trajectories)


class ThreadedSlowEnv(GuessEnv):
    step_in_thread = True  # a blocking step must run off the event loop, or no timeout can fire


def test_episode_timeout_keeps_finished_turns():
    config = RolloutConfig(episodes=1, episode_timeout_s=0.3, **QUIET)
    result = run_rollouts(
        lambda: MaxTurns(ThreadedSlowEnv(high=10**6, step_delay=0.05), 1000), Flaky("ok"), config
    )
    (t,) = result.trajectories
    assert t.status == "timeout" and len(t.turns) >= 2


def test_concurrency_limit_is_respected():
    class Counting:
        name = "counting"
        live = peak = 0

        async def act(self, messages, tools=(), context=None):
            Counting.live += 1
            Counting.peak = max(Counting.peak, Counting.live)
            await asyncio.sleep(0.01)
            Counting.live -= 1
            return AgentReply(Message("assistant", "1"))

    run_rollouts(guess_env(high=1), Counting(), RolloutConfig(episodes=30, concurrency=7, **QUIET))
    assert Counting.peak == 7


def test_config_validation():
    with pytest.raises(ConfigError, match="concurrency"):
        RolloutConfig(concurrency=0).validate()
    with pytest.raises(ConfigError, match="turn_timeout_s"):
        RolloutConfig(turn_timeout_s=-1).validate()


def test_resume_skips_stored_episodes(tmp_path):
    config = RolloutConfig(episodes=10, **QUIET)
    with TrajectoryStore(tmp_path) as store:
        run_rollouts(guess_env(), OracleAgent(), RolloutConfig(episodes=4, **QUIET), store)
        result = run_rollouts(guess_env(), OracleAgent(), config, store)
    assert result.skipped == 4 and len(result.trajectories) == 6
    ids = [
        json.loads(line)["episode_id"] for line in (tmp_path / "trajectories.jsonl").read_text().splitlines()
    ]
    assert sorted(ids) == sorted({p.episode_id for p in plan_episodes(config)})


def test_openai_agent_through_the_runner_over_real_http():
    with FakeOpenAIServer() as srv:
        for _ in range(6):
            srv.script.append(Reply(text="<answer>1 1 1</answer>"))
        agent = make_agent("openai:fake-model", base_url=srv.base_url, max_retries=0)
        result = run_rollouts(
            "puzzles/sat-v0",
            agent,
            RolloutConfig(episodes=6, concurrency=3, env_kwargs={"difficulty": {"n_vars": 3}}, **QUIET),
        )
        assert len(srv.requests) == 6
        assert srv.requests[0]["tools"][0]["function"]["name"] == "submit_answer"
    assert Counter(t.status for t in result.trajectories) == {"ok": 6}
    assert all(t.turns[0].action.text == "<answer>1 1 1</answer>" for t in result.trajectories)


KILL_SCRIPT = """
import sys
from agentgym.core.wrappers import MaxTurns
from agentgym.rollout import RolloutConfig, run_rollouts
from agentgym.trajectory import TrajectoryStore
from agentgym.agents import OracleAgent
from tests.toy_envs import GuessEnv
with TrajectoryStore(sys.argv[1]) as store:
    r = run_rollouts(lambda: MaxTurns(GuessEnv(step_delay=0.004), 8), OracleAgent(),
                     RolloutConfig(episodes=150, concurrency=4, progress=False), store)
print("done", len(r.trajectories), r.skipped)
"""


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.slow
def test_killed_run_resumes_with_each_episode_exactly_once(tmp_path):
    out = tmp_path / "trajectories.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path)], cwd=os.getcwd())
    deadline = time.time() + 60
    while len(_lines(out)) < 30 and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = len(_lines(out))
    assert 30 <= killed_at < 150, killed_at
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.getcwd(),
    )
    assert done.stdout.startswith("done")
    ids = [json.loads(line)["episode_id"] for line in _lines(out)]
    assert len(ids) == 150 and len(set(ids)) == 150


def test_partial_last_line_is_cut_on_reopen(tmp_path):
    with TrajectoryStore(tmp_path) as store:
        run_rollouts(guess_env(), OracleAgent(), RolloutConfig(episodes=3, **QUIET), store)
    path = tmp_path / "trajectories.jsonl"
    with path.open("a") as fh:
        fh.write('{"episode_id": "t000003-s000", "trunc')
    with TrajectoryStore(tmp_path) as store:
        assert len(store) == 3
        result = run_rollouts(guess_env(), OracleAgent(), RolloutConfig(episodes=5, **QUIET), store)
    assert len(result.trajectories) == 2
    assert [json.loads(x)["episode_id"] for x in _lines(path)][-1] == "t000004-s000"


def test_store_rejects_duplicates_and_loads_into_a_dataset(tmp_path):
    with TrajectoryStore(tmp_path) as store:
        result = run_rollouts(guess_env(), OracleAgent(), RolloutConfig(episodes=5, **QUIET), store)
        assert store.append(result.trajectories[0]) is False
        ds = store.to_dataset()
    assert ds.num_rows == 5 and set(ds["status"]) == {"ok"}
    assert ds[0]["messages"][0]["role"] == "system"
    assert json.loads(ds[0]["record"])["episode_id"] == ds[0]["episode_id"]


def test_keep_trajectories_false_stores_everything_but_returns_counts(tmp_path):
    config = RolloutConfig(episodes=7, keep_trajectories=False, **QUIET)
    with TrajectoryStore(tmp_path) as store:
        result = run_rollouts(guess_env(), OracleAgent(), config, store)
        assert result.trajectories == [] and result.finished == 7 and len(store) == 7


def test_oracle_on_an_env_without_one_is_an_agent_error():
    from tests.toy_envs import NimEnv

    result = run_rollouts(lambda: MaxTurns(NimEnv(), 5), OracleAgent(), RolloutConfig(episodes=2, **QUIET))
    assert {t.status for t in result.trajectories} == {"agent_error"}
    assert "has no oracle" in result.trajectories[0].error


def test_a_failing_task_source_fails_its_episodes_not_the_batch():
    class Broken:
        def next_task(self, plan):
            if plan.group_id == 1:
                raise RuntimeError("no training task left")
            from agentgym.tasks.puzzles.sat import SatGenerator

            return SatGenerator(n_vars=4).generate(plan.group_id)

        def record(self, task, trajectory):
            raise ValueError("bookkeeping bug")

    result = run_rollouts(
        "puzzles/sat-v0", OracleAgent(), RolloutConfig(episodes=3, **QUIET), task_source=Broken()
    )
    by_group = {t.group_id: t for t in result.trajectories}
    assert by_group[1].status == "env_error" and "no training task left" in by_group[1].error
    assert by_group[0].status == "ok" and "bookkeeping bug" in by_group[0].error
