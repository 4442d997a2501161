"""The :class:`Env` base class: Gymnasium's contract for chat environments.

Subclasses implement two hooks, :meth:`Env._reset` and :meth:`Env._step`; the base class does the
bookkeeping every env shares: seeding, turn counting, normalizing and bounding the action, turning
a malformed action into an error observation, and filling ``info`` (``task_id``, ``turn`` and, at
the end of an episode, ``verdict``: the :class:`Verdict` object itself, typed until the store
serializes it).
"""

from __future__ import annotations

import asyncio
import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import Message
from agentgym.core.spaces import ChatActionSpace, MessageListSpace
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict

Action = str | Message | Mapping[str, Any]
Observation = list[Message]

#: The ``info`` key under which an env reports a turn's own score (a float, usually in [0, 1]) for
#: process rewards such as G-RA; trainers read this one key, whatever the env.
TURN_SCORE_KEY = "turn_score"


@dataclass
class StepResult:
    """What :meth:`Env._step` returns: new messages, reward, end flags, extra info, final verdict."""

    observation: list[Message]
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None


class Env(gym.Env[Observation, Action]):
    """Base class of every AgentGym environment.

    Observations are the chat messages new since the last step; actions are the assistant's whole
    reply. Capabilities are declared as class attributes: ``supports_fork`` (``fork()`` copies the
    state), ``supports_pickle``, ``step_in_thread`` (``astep`` runs ``step`` in a worker thread;
    cheap in-process envs set it False and step inline).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}
    family: ClassVar[str] = ""
    tools: tuple[ToolSpec, ...] = ()
    supports_fork: ClassVar[bool] = False
    supports_pickle: ClassVar[bool] = False
    step_in_thread: ClassVar[bool] = True
    max_action_chars: ClassVar[int] = 100_000
    #: Reward given for a malformed action (replies the env cannot parse).
    format_penalty: float = 0.0

    def __init__(self, render_mode: str | None = None) -> None:
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = MessageListSpace()
        self.action_space = ChatActionSpace(self.max_action_chars)
        self.task: Task | None = None
        self.turn = 0
        self._episode_over = True
        self._has_reset = False
        self._closed = False
        self._verdict: Verdict | None = None
        self._last_observation: list[Message] = []

    # ----- hooks for subclasses -------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        """Start a new episode (``self.np_random`` is seeded); set ``self.task``, return obs and info."""
        raise NotImplementedError

    def _step(self, action: Message) -> StepResult:
        """Apply the assistant's reply (already normalized and size-checked)."""
        raise NotImplementedError

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random action for the ``random`` agent; envs override with a well-formed random reply."""
        return self.action_space.sample()

    def oracle_action(self) -> Action:
        """The scripted solver's next action; envs without one raise NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} has no oracle")

    def verdict(self) -> Verdict:
        """The verifier's judgement of the episode so far (used when an episode is cut short)."""
        if self._verdict is not None:
            return self._verdict
        return Verdict(0.0, False, kind="no_answer", details={"reason": "episode ended before an answer"})

    # ----- Gymnasium API ---------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start an episode; ``options={"task": Task}`` poses a given task instead of a generated one."""
        if self._closed:
            raise EnvError(f"{type(self).__name__} is closed")
        super().reset(seed=seed)
        self.turn = 0
        self._verdict = None
        self._episode_over = False
        self._has_reset = True
        obs, info = self._reset(dict(options or {}))
        self._check_observation(obs)
        self._last_observation = list(obs)
        info = dict(info)
        info["task_id"] = self.task.id if self.task is not None else None
        info["turn"] = 0
        return list(obs), info

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Apply one assistant reply; malformed replies become an error observation, never raise."""
        if not self._has_reset:
            raise EnvError("call reset() before step()")
        if self._episode_over:
            raise EnvError("the episode is over; call reset() to start a new one")
        self.turn += 1
        if type(action) is str and len(action) <= self.max_action_chars:
            # Fast path, same result as _normalize_action: plain text within the cap (Message
            # replaces lone surrogates itself).
            result = self._step(Message("assistant", action))
        else:
            message, problem = self._normalize_action(action)
            result = self._step(message) if message is not None else self.invalid_action(problem or "invalid")
        obs = result.observation
        self._check_observation(obs)
        if result.verdict is not None:
            self._verdict = result.verdict
        task = self.task
        info = {**result.info, "task_id": task.id if task is not None else None, "turn": self.turn}
        if TURN_SCORE_KEY in info:
            info[TURN_SCORE_KEY] = self._turn_score(info[TURN_SCORE_KEY])
        if result.terminated or result.truncated:
            self._episode_over = True
            info["verdict"] = self.verdict()
        self._last_observation = list(obs)
        return list(obs), float(result.reward), result.terminated, result.truncated, info

    async def areset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Async :meth:`reset`: in a worker thread unless the env declares ``step_in_thread=False``."""
        if self.step_in_thread:
            return await asyncio.to_thread(self.reset, seed=seed, options=options)
        return self.reset(seed=seed, options=options)

    async def astep(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Async :meth:`step`: in a worker thread unless the env declares ``step_in_thread=False``."""
        if self.step_in_thread:
            return await asyncio.to_thread(self.step, action)
        return self.step(action)

    def end_episode(self) -> None:
        """Mark the episode over (used by wrappers that truncate it from outside)."""
        self._episode_over = True

    def invalid_action(self, problem: str) -> StepResult:
        """The result of a malformed action: an error observation and the format penalty."""
        text = f"Invalid action: {problem}"
        return StepResult([Message("user", text)], reward=self.format_penalty, info={"action_error": problem})

    def render(self) -> str | None:
        """With ``render_mode='ansi'``: the text of the last observation."""
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m.role}] {m.text}" for m in self._last_observation)

    def close(self) -> None:
        """Release resources; calling it again does nothing."""
        self._closed = True
        self._episode_over = True

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def fork(self) -> Env:
        """An independent copy of the env in its current state (envs declaring ``supports_fork``)."""
        if not self.supports_fork:
            raise EnvError(f"{type(self).__name__} does not support fork()")
        return copy.deepcopy(self)

    @property
    def has_oracle(self) -> bool:
        """True when the env overrides :meth:`oracle_action`."""
        return type(self).oracle_action is not Env.oracle_action

    # ----- helpers ---------------------------------------------------------------------------
    def _normalize_action(self, action: Action) -> tuple[Message | None, str | None]:
        if type(action) is not Message and isinstance(action, Mapping):
            try:
                action = Message.from_dict({"role": "assistant", **dict(action)})
            except Exception as exc:
                return None, f"the reply is not a valid chat message ({exc})"
        if isinstance(action, str):
            action = Message("assistant", action)
        if not isinstance(action, Message):
            return (
                None,
                f"the reply must be text or an assistant message, got {type(action).__name__}",
            )
        if action.role != "assistant":
            return None, f"the reply must have role 'assistant', got {action.role!r}"
        size = len(action.text) + sum(len(c.arguments) for c in action.tool_calls)
        if size > self.max_action_chars:
            return (
                None,
                f"the reply is {size} characters long; the limit is {self.max_action_chars}",
            )
        # No cleaning here: a Message (and its tool calls) replaced lone surrogates when it was
        # built, so the action the env sees is the one the runner stores.
        return action, None

    def _turn_score(self, value: Any) -> float:
        """The env's per-turn score as a float; an env reporting anything else is an env bug."""
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise EnvError(f"{type(self).__name__} reported info[{TURN_SCORE_KEY!r}]={value!r}, not a number")

    def _check_observation(self, obs: list[Message]) -> None:
        space = self.observation_space
        if type(obs) is list and type(space) is MessageListSpace and len(obs) <= space.max_messages:
            for message in obs:  # fast path of MessageListSpace.contains
                if not isinstance(message, Message):
                    break
            else:
                return
        if not space.contains(obs):
            raise EnvError(f"{type(self).__name__} produced an invalid observation: {obs!r:.200}")
