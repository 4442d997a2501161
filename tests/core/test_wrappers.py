import asyncio

import pytest

from agentgym.core.agent import AgentReply
from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import Message
from agentgym.core.wrappers import MaxTurns, ObservationHook, Opponents, RewardHook
from tests.toy_envs import GuessEnv, NimEnv


def test_max_turns_truncates_and_attaches_verdict():
    env = MaxTurns(GuessEnv(high=1000), max_turns=2)
    env.reset(seed=0)
    assert env.step("0")[3] is False
    _obs, _reward, terminated, truncated, info = env.step("0")
    assert truncated and not terminated
    assert info["verdict"].kind == "no_answer" and info["truncated_by"] == "max_turns"
    with pytest.raises(EnvError):
        env.step("1")
    env.reset(seed=0)
    assert env.step("0")[3] is False  # counter reset
    with pytest.raises(ConfigError):
        MaxTurns(GuessEnv(), 0)


def test_max_turns_async_path():
    env = MaxTurns(GuessEnv(high=1000), max_turns=1)

    async def go():
        await env.areset(seed=0)
        return await env.astep("0")

    assert asyncio.run(go())[3] is True


def test_hooks_transform_observation_and_reward():
    env = RewardHook(
        ObservationHook(GuessEnv(), lambda obs: [*obs, Message("user", "hooked")]),
        lambda r, i: r * 10,
    )
    obs, _ = env.reset(seed=1)
    assert obs[-1].text == "hooked"
    obs, reward, *_ = env.step(str(env.unwrapped.task.answer))
    assert obs[-1].text == "hooked" and reward == 10.0


class TakeOne:
    name = "take-one"

    def __init__(self):
        self.seen = []

    async def act(self, messages, tools=(), context=None):
        self.seen.append(list(messages))
        return AgentReply(Message("assistant", "1"))


def test_opponents_play_other_seats_and_rewards_are_the_agents():
    opponent = TakeOne()
    env = Opponents(NimEnv(), {1: opponent}, player=0)
    obs, info = env.reset(seed=0, options={"stones": 5})
    assert info["player"] == 0
    # 5 -> agent takes 3 -> 2 -> opponent takes 1 -> 1 -> agent takes 1 and wins
    obs, reward, terminated, *_ = env.step("3")
    assert not terminated and obs[0].text == "1 stones left." and reward == 0.0
    obs, reward, terminated, *_ = env.step("1")
    assert terminated and reward == 1.0
    assert len(opponent.seen) == 1 and opponent.seen[0][-1].text == "2 stones left."


def test_opponent_moving_first_and_agent_losing():
    env = Opponents(NimEnv(), {1: TakeOne()}, player=0)
    obs, _info = env.reset(seed=0, options={"stones": 3, "first": 1})
    assert obs[0].text == "2 stones left."
    obs, reward, terminated, *_ = env.step("1")  # 1 left, the opponent takes it
    assert terminated and reward == -1.0


def test_opponents_inside_a_running_loop():
    env = Opponents(NimEnv(), {1: TakeOne()}, player=0)

    async def go():
        await env.areset(seed=0, options={"stones": 2})
        return await env.astep("2")

    assert asyncio.run(go())[1] == 1.0


def test_opponents_config_errors():
    with pytest.raises(ConfigError):
        Opponents(NimEnv(), {0: TakeOne()}, player=0)
