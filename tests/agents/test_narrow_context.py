"""Agents get observations, tools and a narrow context, never the live env or the task's answer.

A spy agent records every object the runner hands it; a bounded walk over those objects (attributes,
``__dict__``, slots, containers, closures, bound methods, gc referents) must not reach an env, the
env's RNG or the answer. Scripted policies (oracle, random) still play, through the runner's hook,
also behind wrappers, as TextArena-style opponents and over a RemoteEnv.
"""

from __future__ import annotations

import asyncio
import gc
import types
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from agentgym.agents import OracleAgent, RandomAgent, ScriptedPolicy, make_agent
from agentgym.core.agent import AgentReply, EpisodeContext, agent_turn, scripted_policy
from agentgym.core.env import Env, StepResult
from agentgym.core.errors import AgentError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict
from agentgym.core.wrappers import Opponents
from agentgym.eval.runner import _Throttled
from agentgym.registry import registry
from agentgym.rollout import RolloutConfig, run_rollouts
from tests.toy_envs import GuessEnv, NimEnv

QUIET = {"progress": False}
WALK_LIMIT = 200_000


class SecretEnv(Env):
    """One turn: say the secret word. The word is a fresh random string found only in the task."""

    family = "toy"
    step_in_thread = False
    tools = (ToolSpec("say", "Say a word.", {"type": "object", "properties": {"word": {"type": "string"}}}),)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        secret = f"SECRET-{uuid.uuid4().hex}-{int(self.np_random.integers(10**9))}"
        self.task = Task("toy", {"hint": "a word"}, answer=secret)
        return [Message("system", "Say the secret word."), Message("user", "Which word?")], {}

    def _step(self, action: Message) -> StepResult:
        ok = action.text.strip() == self.task.answer
        verdict = Verdict(float(ok), ok, "exact")
        return StepResult(
            [Message("user", "Yes." if ok else "No.")], float(ok), terminated=True, verdict=verdict
        )

    def sample_action(self, rng: np.random.Generator) -> str:
        return f"word-{int(rng.integers(100))}"

    def oracle_action(self) -> str:
        return str(self.task.answer)


class RandomNim(NimEnv):
    """Nim whose random policy takes a legal number of stones."""

    def sample_action(self, rng: np.random.Generator) -> str:
        return str(int(rng.integers(1, min(3, self.stones) + 1)))


class Spy:
    """An observation-only agent that keeps everything it was handed (the objects themselves)."""

    name = "spy"

    def __init__(self, reply: str = "3") -> None:
        self.received: list[tuple[Any, Any, Any]] = []
        self.reply = reply

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        self.received.append((messages, tools, context))
        return AgentReply(Message("assistant", self.reply))


def _children(obj: Any) -> Iterator[Any]:
    """What ``obj`` refers to, without wandering into modules, classes or function globals."""
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        yield from obj
        return
    if isinstance(obj, types.MethodType):
        yield obj.__self__
        yield obj.__func__
        return
    if isinstance(obj, types.FunctionType):
        yield from (c.cell_contents for c in obj.__closure__ or () if _has_contents(c))
        yield from obj.__defaults__ or ()
        yield from (obj.__kwdefaults__ or {}).values()
        yield obj.__dict__
        return
    if isinstance(obj, (types.CoroutineType, types.GeneratorType)):
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
        if frame is not None:
            yield from frame.f_locals.values()
        return
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            yield getattr(obj, name)
    if hasattr(obj, "__dict__"):
        yield vars(obj)
    self_of = getattr(obj, "__self__", None)  # builtin bound methods (e.g. rng.random)
    if self_of is not None and not isinstance(self_of, types.ModuleType):
        yield self_of
    yield from gc.get_referents(obj)


def _has_contents(cell: Any) -> bool:
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True


def reachable(roots: Iterable[Any]) -> Iterator[Any]:
    """Every object reachable from ``roots`` (bounded), skipping modules, classes and code."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (types.ModuleType, type, types.CodeType, types.FrameType)):
            continue
        seen.add(id(obj))
        assert len(seen) < WALK_LIMIT, "the walk did not end: something big is reachable"
        yield obj
        stack.extend(_children(obj))


def leaks(roots: Iterable[Any], envs: Sequence[gym.Env], answers: Sequence[str]) -> list[str]:
    """What of ``envs`` (any gym env at all, their RNGs) or ``answers`` the roots reach."""
    rngs = {id(e.unwrapped.np_random) for e in envs if e.unwrapped._np_random is not None}
    found = []
    for obj in reachable(roots):
        if isinstance(obj, gym.Env):
            found.append(f"env {type(obj).__name__}")
        elif id(obj) in rngs:
            found.append("the env's np_random")
        elif isinstance(obj, str) and any(a in obj for a in answers):
            found.append(f"the answer in {obj[:60]!r}")
    return found


def actions(trajectories: Sequence[Any]) -> list[list[str]]:
    """Each episode's replies, as text, in episode order (not the order episodes finished in)."""
    ordered = sorted(trajectories, key=lambda t: t.episode_id)
    return [[turn.action.text for turn in t.turns] for t in ordered]


def test_the_walk_finds_an_env_behind_attributes_closures_and_bound_methods():
    env = SecretEnv()
    env.reset(seed=0)
    answer = env.task.answer
    holder = types.SimpleNamespace(inner={"x": [env]})
    closure = (lambda e: lambda: e)(env)
    assert leaks([holder], [env], [answer]) and leaks([closure], [env], [answer])
    assert leaks([env.oracle_action], [env], [answer])
    assert leaks([(f"say {answer}",)], [env], [answer])
    assert leaks([env.np_random.random], [env], [answer]) == ["the env's np_random"]
    assert not leaks([Message("user", "hi"), EpisodeContext("e", "toy/secret")], [env], [answer])


def test_an_observation_agent_cannot_reach_the_env_or_the_answer():
    spy, made = Spy(), []

    def factory() -> gym.Env:
        made.append(SecretEnv())
        return made[-1]

    result = run_rollouts(factory, spy, RolloutConfig(episodes=3, samples_per_task=2, **QUIET))
    assert [t.status for t in result.trajectories] == ["ok"] * 6
    assert len(spy.received) == 6
    answers = [t.task["answer"] for t in result.trajectories]
    assert all(a.startswith("SECRET-") for a in answers)
    assert all(a not in m.text for m in result.trajectories[0].initial_observation for a in answers)
    for _, tools, context in spy.received:
        assert [t.name for t in tools] == ["say"]
        assert (
            context.env_id == "custom" and context.turn == 0 and isinstance(context.rng, np.random.Generator)
        )
        assert not hasattr(context, "env") and not hasattr(context, "task")
    assert leaks([spy.received, spy], made, answers) == []


def test_the_context_counts_turns_and_holds_plain_values_only():
    spy = Spy("99")  # never right: the guessing game runs to its turn cap
    env_id = "toy/narrow-guess-v0"
    registry.register(env_id, GuessEnv, max_turns=4)
    try:
        result = run_rollouts(env_id, spy, RolloutConfig(episodes=1, **QUIET))
    finally:
        registry.unregister(env_id)
    assert result.trajectories[0].status == "truncated"
    contexts = [c for _, _, c in spy.received]
    assert all(c is contexts[0] for c in contexts) and contexts[0].env_id == env_id
    assert contexts[0].turn == 3  # the index of the last reply asked for
    with pytest.raises(TypeError, match="env_id must be str"):
        EpisodeContext("e", GuessEnv())  # type: ignore[arg-type]


@pytest.mark.parametrize("agent", [OracleAgent(), RandomAgent()])
def test_scripted_agents_play_through_the_hook_not_act(agent):
    assert isinstance(agent, ScriptedPolicy)
    with pytest.raises(AgentError, match="scripted hook"):
        asyncio.run(agent.act([Message("user", "hi")], (), EpisodeContext("e")))
    env = SecretEnv()
    env.reset(seed=1)
    reply = asyncio.run(agent_turn(agent, env, [], env.tools, EpisodeContext("e", agent_seed=3)))
    assert (reply.message.text == env.task.answer) is (agent.name == "oracle")


def test_oracle_and_random_solve_through_the_runner_and_wrappers():
    oracle = run_rollouts(lambda: SecretEnv(), make_agent("oracle"), RolloutConfig(episodes=3, **QUIET))
    assert [t.passed for t in oracle.trajectories] == [True] * 3
    throttled = _Throttled(OracleAgent(), 2)
    assert scripted_policy(throttled) is throttled.agent and scripted_policy(Spy()) is None
    result = run_rollouts(lambda: GuessEnv(), throttled, RolloutConfig(episodes=3, **QUIET))
    assert [t.passed for t in result.trajectories] == [True] * 3 and result.trajectories[0].agent == "oracle"
    config = RolloutConfig(episodes=2, samples_per_task=2, seed=5, **QUIET)
    first = run_rollouts(lambda: GuessEnv(), make_agent("random"), config).trajectories
    again = run_rollouts(lambda: GuessEnv(), _Throttled(RandomAgent(), 1), config).trajectories
    assert actions(first) == actions(again)
    assert all(t.status == "ok" for t in first)
    no_oracle = run_rollouts(lambda: NimEnv(), OracleAgent(), RolloutConfig(episodes=1, **QUIET))
    failed = no_oracle.trajectories[0]
    assert failed.status == "agent_error" and "no oracle" in failed.error


def test_opponents_get_the_hook_and_model_seats_get_no_env():
    seat1, made = Spy("1"), []

    def factory() -> gym.Env:
        made.append(Opponents(RandomNim(), {1: seat1}, player=0))
        return made[-1]

    result = run_rollouts(factory, make_agent("random"), RolloutConfig(episodes=2, **QUIET))
    assert all(t.status == "ok" for t in result.trajectories)
    assert seat1.received and all(c.episode_id == "opponent-1" for _, _, c in seat1.received)
    assert leaks([seat1.received], made, []) == []
    player = Spy("1")
    versus_random = run_rollouts(
        lambda: Opponents(RandomNim(), {1: RandomAgent()}, player=0),
        player,
        RolloutConfig(episodes=2, **QUIET),
    )
    assert all(t.status == "ok" for t in versus_random.trajectories) and player.received


@pytest.fixture(scope="module")
def served():
    """An env server on 127.0.0.1 with the test envs, and those envs registered here too."""
    from tests.server.conftest import running_server
    from tests.server.envs import ENVS

    added = [env_id for env_id, (cls, kw) in ENVS.items() if env_id not in registry]
    for env_id in added:
        registry.register(env_id, ENVS[env_id][0], kwargs=ENVS[env_id][1], max_turns=12)
    try:
        with running_server("--call-timeout", "30") as server:
            yield server
    finally:
        for env_id in added:
            registry.unregister(env_id)


@pytest.mark.slow
def test_scripted_agents_and_a_spy_over_a_remote_env(served):
    from agentgym.server import RemoteEnv

    made: list[gym.Env] = []

    def remote() -> gym.Env:
        made.append(RemoteEnv(served.url, "toy/guess-v0"))
        return made[-1]

    config = RolloutConfig(episodes=2, seed=3, **QUIET)
    oracle = run_rollouts(remote, OracleAgent(), config).trajectories
    assert [t.passed for t in oracle] == [True, True]
    over_http = run_rollouts(remote, RandomAgent(), config).trajectories
    local = run_rollouts("toy/guess-v0", RandomAgent(), config).trajectories
    assert actions(over_http) == actions(local) and all(t.status == "truncated" or t.passed for t in local)
    spy = Spy("7")
    run_rollouts(remote, spy, RolloutConfig(episodes=1, **QUIET))
    assert spy.received
    assert leaks([spy.received], made, []) == []
