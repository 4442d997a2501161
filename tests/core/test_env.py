import asyncio
import pickle

import gymnasium as gym
import pytest

from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import Message
from tests.toy_envs import GuessEnv


def test_reset_gives_messages_and_info_keys():
    env = GuessEnv()
    obs, info = env.reset(seed=3)
    assert [m.role for m in obs] == ["system", "user"]
    assert info["turn"] == 0 and info["task_id"] == env.task.id
    assert env.observation_space.contains(obs)


def test_same_seed_same_task_and_rewards():
    a, b = GuessEnv(), GuessEnv()
    a.reset(seed=5)
    b.reset(seed=5)
    assert a.task == b.task
    assert [a.step("7") for _ in range(3)] == [b.step("7") for _ in range(3)]


def test_step_before_reset_and_after_end_raise_env_error():
    env = GuessEnv()
    with pytest.raises(EnvError, match="reset"):
        env.step("1")
    env.reset(seed=1)
    _, reward, terminated, _, info = env.step(str(env.task.answer))
    assert terminated and reward == 1.0 and info["verdict"].passed
    with pytest.raises(EnvError, match="over"):
        env.step("1")


@pytest.mark.parametrize("action", [None, 3.5, ["x"], Message("system", "hi"), {"content": 5}])
def test_malformed_actions_are_error_observations(action):
    env = GuessEnv()
    env.reset(seed=0)
    obs, reward, terminated, _truncated, info = env.step(action)
    assert obs[0].text.startswith("Invalid action") and "action_error" in info
    assert reward == env.format_penalty and not terminated and info["turn"] == 1


def test_oversized_action_is_rejected_before_the_env_parses_it():
    env = GuessEnv()
    env.reset(seed=0)
    _obs, *_, info = env.step("1" * (env.max_action_chars + 1))
    assert "limit" in info["action_error"]


def test_dict_actions_in_openai_format_are_accepted():
    env = GuessEnv()
    env.reset(seed=0)
    obs, *_ = env.step({"content": str(env.task.answer)})
    assert obs[0].text == "Correct!"


def test_async_api_matches_sync():
    env = GuessEnv()

    async def go():
        _obs, _ = await env.areset(seed=2)
        return await env.astep("10")

    out = asyncio.run(go())
    ref = GuessEnv()
    ref.reset(seed=2)
    assert out == ref.step("10")


def test_fork_is_independent_and_pickle_round_trips():
    env = GuessEnv()
    env.reset(seed=9)
    env.step("10")
    twin = env.fork()
    clone = pickle.loads(pickle.dumps(env))
    assert twin.step("3") == clone.step("3") == env.step("3")
    twin.step("4")
    assert env.turn == 2 and twin.turn == 3


def test_close_is_idempotent_and_blocks_reset():
    env = GuessEnv()
    env.close()
    env.close()
    with pytest.raises(EnvError, match="closed"):
        env.reset()


def test_gymnasium_wrappers_work_on_our_env():
    env = gym.wrappers.RecordEpisodeStatistics(GuessEnv())
    env.reset(seed=4)
    target = env.unwrapped.task.answer
    *_, info = env.step(str(target))
    assert info["episode"]["r"] == 1.0


def test_render_ansi_and_bad_render_mode():
    env = GuessEnv(render_mode="ansi")
    env.reset(seed=0)
    assert "[user]" in env.render()
    with pytest.raises(ConfigError):
        GuessEnv(render_mode="human")
