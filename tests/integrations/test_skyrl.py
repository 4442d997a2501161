"""SkyRL-gym: our ids registered in skyrl_gym, episodes played through ``skyrl_gym.make``."""

from __future__ import annotations

from typing import Any

import pytest

import agentgym
from agentgym.agents.chat_format import template_dicts
from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.registry import unwrap
from agentgym.train.trainer_rows import EPISODE_COLUMN, EpisodeRef, skyrl_row

skyrl_gym = pytest.importorskip(
    "skyrl_gym", reason="skyrl-gym is not installed (pip install 'agentgym[skyrl]')"
)

from agentgym.integrations.skyrl import ENTRY_POINT, AgentGymTextEnv, register_skyrl_envs  # noqa: E402

MAZE = "puzzles/maze-v0"  # multi-turn, with a tool called in text form, and an oracle


def _extras(row: dict[str, Any], max_turns: int = 100) -> dict[str, Any]:
    """What SkyRL's generator hands the env: the row without prompt and env_class, plus max_turns."""
    return {**{k: v for k, v in row.items() if k not in ("prompt", "env_class")}, "max_turns": max_turns}


def _text(action: Any) -> str:
    return action if isinstance(action, str) else template_dicts([action])[0]["content"]


def test_register_every_id_is_idempotent_and_refuses_clashes() -> None:
    names = register_skyrl_envs()
    assert set(names) == set(agentgym.list_envs())
    assert register_skyrl_envs([MAZE]) == [MAZE]  # again: no error
    held = skyrl_gym.spec(MAZE)
    assert held.entry_point == ENTRY_POINT and held.kwargs == {"env_id": MAZE}
    assert register_skyrl_envs([MAZE], prefix="agentgym:") == [f"agentgym:{MAZE}"]
    with pytest.raises(UnknownIdError):
        register_skyrl_envs(["puzzles/maze-v9"])
    taken = f"clash:{MAZE}"
    skyrl_gym.register(id=taken, entry_point="skyrl_gym.envs.gsm8k.env:GSM8kEnv")
    try:
        with pytest.raises(ConfigError, match="taken"):
            register_skyrl_envs([MAZE], prefix="clash:")
    finally:
        skyrl_gym.envs.registration.deregister(taken)


def test_oracle_episode_through_skyrl_gym_make_matches_the_env_in_process() -> None:
    register_skyrl_envs([MAZE])
    row = skyrl_row(EpisodeRef(MAZE, 5))
    env = skyrl_gym.make(row["env_class"], env_config={}, extras=_extras(row))
    assert isinstance(env, AgentGymTextEnv)
    messages, meta = env.init(row["prompt"])
    assert messages == row["prompt"] and "move" in messages[0]["content"]  # tool described as text
    ref = EpisodeRef.parse(row[EPISODE_COLUMN])
    local = agentgym.make(MAZE)
    local.reset(seed=ref.seed, options=ref.reset_options())
    assert meta["task_id"] == unwrap(local).task.id
    sky_total, local_total, steps = 0.0, 0.0, 0
    while True:
        action = _text(unwrap(local).oracle_action())
        obs, reward, terminated, truncated, info = local.step(action)
        out = env.step(action)
        steps += 1
        assert out["reward"] == reward
        sky_total, local_total = sky_total + out["reward"], local_total + reward
        if terminated or truncated:
            break
        assert not out["done"] and out["observations"] == template_dicts(obs)
    assert out["done"] and steps > 1
    assert (
        sky_total == pytest.approx(local_total)
        and out["metadata"]["verdict"]["score"] == info["verdict"].score
    )
    assert out["metadata"]["unscored"] is False
    assert env.get_metrics() == {"passed": 1.0, "scored": 1.0, "turns": steps, "reward": sky_total}
    env.close()
    local.close()


def test_skyrl_max_turns_cuts_the_episode_with_the_envs_verdict_so_far() -> None:
    register_skyrl_envs([MAZE])
    row = skyrl_row(EpisodeRef(MAZE, 5))
    env = skyrl_gym.make(MAZE, env_config={}, extras=_extras(row, max_turns=2))
    env.init(row["prompt"])
    first = env.step("move: up")
    second = env.step("move: up")
    assert not first["done"] and second["done"] and second["metadata"]["truncated"]
    assert second["observations"] == [] and second["metadata"]["verdict"] is not None
    assert second["metadata"]["verdict"]["passed"] is False
    env.close()


def test_a_row_for_another_env_or_no_env_id_is_refused() -> None:
    row = skyrl_row(EpisodeRef(MAZE, 5))
    with pytest.raises(ConfigError, match="names env"):
        AgentGymTextEnv({}, _extras(row), env_id="puzzles/sat-v0")
    with pytest.raises(ConfigError, match="env id"):
        AgentGymTextEnv({}, {"seed": 1})
    env = AgentGymTextEnv({"env_kwargs": {}}, {"seed": 2}, env_id="puzzles/guess-number-v0")
    messages, _ = env.init()
    assert messages[0]["role"] == "system"
    env.close()
