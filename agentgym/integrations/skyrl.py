"""SkyRL-gym adapter: any AgentGym env id as a ``skyrl_gym`` ``BaseTextEnv``.

:func:`register_skyrl_envs` registers env ids in ``skyrl_gym`` (every id, or a chosen list; an
optional prefix keeps them apart from other envs), each with the entry point
``agentgym.integrations.skyrl:AgentGymTextEnv`` and its id as a kwarg, so that
``skyrl_gym.make(id, env_config=..., extras=row)`` builds :class:`AgentGymTextEnv`. skyrl_gym's
registry takes any string; our ids (``family/Name-vN``) already have its ``namespace/id-vN`` form.

SkyRL's generator tokenizes the chat messages itself: this adapter works on text. ``init`` resets
the env (seed, kwargs and task from the row's ``agentgym`` column,
:class:`~agentgym.train.trainer_rows.EpisodeRef`, else ``extras["seed"]``) and returns the env's
first observation as chat messages (tools described in the system message, tool results as user
messages: :func:`agentgym.agents.chat_format.template_dicts`); the prompt SkyRL passes in is
replaced by it (they are equal when the row was written by
:func:`~agentgym.train.trainer_rows.skyrl_row`). ``step(action)`` steps the env with the model's
text and returns the env's reward for the turn; at the end ``metadata["verdict"]`` holds the
verdict. An unscored episode (the verifier failed) returns the env's reward for that step (0) and
``metadata["unscored"] = True``: SkyRL has no way for an env to drop an episode, so filter on it.
SkyRL's ``generator.max_turns`` (``extras["max_turns"]``) caps the turns; a capped episode ends with
``metadata["truncated"]`` and the env's verdict of the episode so far. Images are dropped (text).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

import skyrl_gym
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput

from agentgym.agents.chat_format import template_dicts
from agentgym.core.errors import ConfigError
from agentgym.core.verdict import Verdict, as_verdict
from agentgym.registry import list_envs, make, spec, unwrap
from agentgym.train.trainer_rows import EPISODE_COLUMN, EpisodeRef

__all__ = ["ENTRY_POINT", "AgentGymTextEnv", "register_skyrl_envs"]

#: The skyrl_gym entry point of every registered id.
ENTRY_POINT = f"{__name__}:AgentGymTextEnv"


def _plain(value: Any) -> dict[str, Any]:
    """A plain dict of a mapping or an OmegaConf config (SkyRL passes ``DictConfig``)."""
    if value is None:
        return {}
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(value, DictConfig):
            return dict(OmegaConf.to_container(value, resolve=True))  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover - SkyRL depends on omegaconf
        pass
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a mapping, got {type(value).__name__}")
    return dict(value)


class AgentGymTextEnv(BaseTextEnv):
    """A SkyRL-gym text env over one AgentGym env (see the module docstring).

    ``env_id`` comes from the registration (kwargs); ``env_config`` may hold ``env_kwargs`` (the
    defaults of every episode); ``extras`` is SkyRL's row: its ``agentgym`` column (an
    :class:`EpisodeRef`) or ``seed``, and ``max_turns``.
    """

    def __init__(
        self, env_config: Any = None, extras: Mapping[str, Any] | None = None, env_id: str | None = None
    ):
        super().__init__()
        config, row = _plain(env_config), _plain(extras)
        if EPISODE_COLUMN in row:
            ref = EpisodeRef.parse(row[EPISODE_COLUMN])
            if env_id is not None and ref.env_id != env_id:
                raise ConfigError(f"the row names env {ref.env_id!r} but was made as {env_id!r}")
        else:
            name = env_id or config.get("env_id")
            if not isinstance(name, str):
                raise ConfigError("AgentGymTextEnv needs an env id (register_skyrl_envs sets it)")
            seed = row.get("seed")
            ref = EpisodeRef(name, None if seed is None else int(seed))
        self.ref = EpisodeRef(
            ref.env_id, ref.seed, {**config.get("env_kwargs", {}), **ref.env_kwargs}, ref.task
        )
        cap = row.get("max_turns")
        self.max_turns = int(cap) if cap is not None else (spec(ref.env_id).max_turns or sys.maxsize)
        self.env = make(self.ref.env_id, **dict(self.ref.env_kwargs))
        self.verdict: Verdict | None = None
        self.total_reward = 0.0

    def init(self, prompt: Any = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Reset the env; return its first observation as chat messages and ``{task_id, env_id}``."""
        obs, info = self.env.reset(seed=self.ref.seed, options=self.ref.reset_options())
        self.turns, self.verdict, self.total_reward = 0, None, 0.0
        base = unwrap(self.env)
        return template_dicts(obs, base.tools), {"env_id": self.ref.env_id, "task_id": info.get("task_id")}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        """Step the env with the model's text; the reward is the env's for this turn."""
        self.turns += 1
        obs, reward, terminated, truncated, info = self.env.step(action)
        verdict = as_verdict(info.pop("verdict", None))
        done = terminated or truncated
        if not done and self.turns >= self.max_turns:
            done, truncated, verdict = True, True, unwrap(self.env).verdict()
        self.total_reward += float(reward)
        metadata: dict[str, Any] = {"turn": self.turns, "terminated": terminated, "truncated": truncated}
        metadata.update({k: v for k, v in info.items() if isinstance(v, (str, int, float, bool))})
        if done:
            self.verdict = verdict
            metadata["verdict"] = verdict.to_dict() if verdict is not None else None
            metadata["unscored"] = verdict is not None and verdict.unscored
        messages = [] if done else template_dicts(obs)
        return BaseTextEnvStepOutput(
            observations=messages, reward=float(reward), done=done, metadata=metadata
        )

    def get_metrics(self) -> dict[str, Any]:
        """Episode metrics SkyRL averages: passed, scored, turns, summed reward."""
        verdict = self.verdict
        scored = verdict is not None and not verdict.unscored
        return {
            "passed": float(scored and verdict is not None and verdict.passed),
            "scored": float(scored),
            "turns": self.turns,
            "reward": self.total_reward,
        }

    def close(self) -> None:
        """Close the AgentGym env."""
        self.env.close()


def register_skyrl_envs(ids: Iterable[str] | None = None, prefix: str = "") -> list[str]:
    """Register env ids (default: every registered id) in ``skyrl_gym``; returns the skyrl ids.

    The skyrl id is ``prefix + env_id``. Registering the same ids again does nothing; a skyrl id
    already taken by another env raises :class:`ConfigError`. Unknown env ids raise with close
    matches. Call it in the process that runs SkyRL's generator (its registry is per process).
    """
    names = list(ids) if ids is not None else list_envs()
    out = []
    for env_id in names:
        spec(env_id)  # unknown ids: "did you mean"
        name = prefix + env_id
        held = skyrl_gym.registry.get(name)
        if held is not None:
            if held.entry_point == ENTRY_POINT and held.kwargs.get("env_id") == env_id:
                out.append(name)
                continue
            raise ConfigError(f"skyrl_gym id {name!r} is taken by {held.entry_point!r}; pass a prefix")
        skyrl_gym.register(id=name, entry_point=ENTRY_POINT, kwargs={"env_id": env_id})
        out.append(name)
    return out
