"""Wrappers with one hook each, async-aware: max-turns truncation, opponents, observation/reward hooks.

They subclass :class:`gymnasium.Wrapper` (so Gymnasium code accepts them) and add ``areset`` /
``astep`` that delegate to the wrapped env's async methods.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from agentgym.core.agent import Agent, EpisodeContext, agent_turn, run_sync
from agentgym.core.env import Action, Env, Observation
from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import Message

StepTuple = tuple[Observation, float, bool, bool, dict[str, Any]]


async def _astep(env: gym.Env, action: Action) -> StepTuple:
    step = getattr(env, "astep", None)
    if step is not None:
        return await step(action)
    return await asyncio.to_thread(env.step, action)


async def _areset(env: gym.Env, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
    reset = getattr(env, "areset", None)
    if reset is not None:
        return await reset(**kwargs)
    return await asyncio.to_thread(lambda: env.reset(**kwargs))


class AsyncWrapper(gym.Wrapper):
    """A Gymnasium wrapper whose ``areset``/``astep`` call the wrapped env's async methods."""

    async def areset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Async reset of the wrapped env, passed through :meth:`reset`'s hook."""
        return await _areset(self.env, **kwargs)

    async def astep(self, action: Action) -> StepTuple:
        """Async step of the wrapped env."""
        return await _astep(self.env, action)

    def fork(self) -> AsyncWrapper:
        """Fork the wrapped env and wrap the copy the same way."""
        forked_inner = self.env.fork()  # type: ignore[attr-defined]
        clone = copy.copy(self)
        clone.env = forked_inner
        return clone


class MaxTurns(AsyncWrapper):
    """Truncate an episode after ``max_turns`` steps and attach the env's verdict to ``info``."""

    def __init__(self, env: gym.Env, max_turns: int) -> None:
        if max_turns < 1:
            raise ConfigError(f"max_turns must be >= 1, got {max_turns}")
        super().__init__(env)
        self.max_turns = max_turns
        self._turns = 0

    def _limit(self, out: StepTuple) -> StepTuple:
        obs, reward, terminated, truncated, info = out
        self._turns += 1
        if self._turns >= self.max_turns and not (terminated or truncated):
            truncated = True
            base = self.env.unwrapped
            if isinstance(base, Env):
                base.end_episode()
                info = {**info, "verdict": base.verdict(), "truncated_by": "max_turns"}
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Reset the env and the turn counter."""
        self._turns = 0
        return self.env.reset(**kwargs)

    async def areset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Async reset of the env and the turn counter."""
        self._turns = 0
        return await _areset(self.env, **kwargs)

    def step(self, action: Action) -> StepTuple:
        """Step, then truncate when the turn budget is spent."""
        return self._limit(self.env.step(action))

    async def astep(self, action: Action) -> StepTuple:
        """Async step, then truncate when the turn budget is spent."""
        return self._limit(await _astep(self.env, action))


class ObservationHook(AsyncWrapper):
    """Apply ``fn(observation) -> observation`` to every observation (reset and step)."""

    def __init__(self, env: gym.Env, fn: Callable[[Observation], Observation]) -> None:
        super().__init__(env)
        self.fn = fn

    def reset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Reset and transform the first observation."""
        obs, info = self.env.reset(**kwargs)
        return self.fn(obs), info

    async def areset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Async reset and transform the first observation."""
        obs, info = await _areset(self.env, **kwargs)
        return self.fn(obs), info

    def step(self, action: Action) -> StepTuple:
        """Step and transform the observation."""
        obs, *rest = self.env.step(action)
        return (self.fn(obs), *rest)  # type: ignore[return-value]

    async def astep(self, action: Action) -> StepTuple:
        """Async step and transform the observation."""
        obs, *rest = await _astep(self.env, action)
        return (self.fn(obs), *rest)  # type: ignore[return-value]


class RewardHook(AsyncWrapper):
    """Apply ``fn(reward, info) -> reward`` to every step's reward."""

    def __init__(self, env: gym.Env, fn: Callable[[float, dict[str, Any]], float]) -> None:
        super().__init__(env)
        self.fn = fn

    def step(self, action: Action) -> StepTuple:
        """Step and transform the reward."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, self.fn(reward, info), terminated, truncated, info

    async def astep(self, action: Action) -> StepTuple:
        """Async step and transform the reward."""
        obs, reward, terminated, truncated, info = await _astep(self.env, action)
        return obs, self.fn(reward, info), terminated, truncated, info


class Opponents(AsyncWrapper):
    """Turn a multi-player env into a single-agent one by letting ``opponents`` play the other seats.

    Multi-player envs report the player to act next in ``info["player"]`` and each step's rewards
    per player in ``info["rewards"]``; each observation is what the player about to act has not yet
    seen. The wrapper plays opponents' turns until it is ``player``'s turn again and returns the
    reward ``player`` collected over its own step and the opponents' steps that followed.
    """

    def __init__(self, env: gym.Env, opponents: Mapping[Any, Agent], player: Any = 0) -> None:
        super().__init__(env)
        if player in opponents:
            raise ConfigError(f"player {player!r} cannot also be an opponent")
        self.player = player
        self.opponents = dict(opponents)
        self._histories: dict[Any, list[Message]] = {}
        self._contexts: dict[Any, EpisodeContext] = {}

    def reset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Reset and play opponents until it is the agent's turn."""
        return run_sync(self.areset(**kwargs))

    def step(self, action: Action) -> StepTuple:
        """Play the agent's action, then opponents until the agent's turn or the end."""
        return run_sync(self.astep(action))

    async def areset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        """Async reset; opponents who move first play before the agent sees its observation."""
        self._histories = {p: [] for p in self.opponents}
        seed = kwargs.get("seed")
        spec = getattr(self.env.unwrapped, "spec", None)
        env_id = str(getattr(spec, "id", "") or "")
        self._contexts = {
            p: EpisodeContext(
                f"opponent-{p}", env_id, agent_seed=None if seed is None else seed + 1 + i, seed=seed
            )
            for i, p in enumerate(self.opponents)
        }
        obs, info = await _areset(self.env, **kwargs)
        obs, _, terminated, truncated, info = await self._play_opponents(obs, info, 0.0, False, False)
        if terminated or truncated:
            raise EnvError("the episode ended before the agent's first turn")
        return obs, info

    async def astep(self, action: Action) -> StepTuple:
        """Async step of the agent's action followed by the opponents' turns."""
        obs, _, terminated, truncated, info = await _astep(self.env, action)
        reward = self._my_reward(info)
        return await self._play_opponents(obs, info, reward, terminated, truncated)

    def _my_reward(self, info: Mapping[str, Any]) -> float:
        rewards = info.get("rewards")
        if not isinstance(rewards, Mapping):
            raise EnvError("multi-player envs must report per-player rewards in info['rewards']")
        return float(rewards.get(self.player, 0.0))

    async def _play_opponents(
        self,
        obs: Observation,
        info: dict[str, Any],
        reward: float,
        terminated: bool,
        truncated: bool,
    ) -> StepTuple:
        while not (terminated or truncated) and info.get("player", self.player) != self.player:
            seat = info["player"]
            agent = self.opponents.get(seat)
            if agent is None:
                raise EnvError(f"no opponent plays seat {seat!r}")
            history = self._histories.setdefault(seat, [])
            history.extend(obs)
            context = self._contexts[seat]
            base = self.env.unwrapped
            tools = getattr(base, "tools", ())
            # Scripted opponents (random, oracle) get the env from here; model opponents only see
            # their seat's messages.
            reply = await agent_turn(agent, base, list(history), tools, context)  # type: ignore[arg-type]
            context.turn += 1
            history.append(reply.message)
            obs, _, terminated, truncated, info = await _astep(self.env, reply.message)
            reward += self._my_reward(info)
        return obs, reward, terminated, truncated, info
