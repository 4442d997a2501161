"""The :class:`Agent` protocol: chat messages (and tools) in, one assistant reply out.

Agents see observations, tools and a narrow :class:`EpisodeContext` (ids, seeds, turn index), never
the live env. Scripted policies that need the env (the ``oracle`` and ``random`` agents) implement
:class:`ScriptedPolicy`; whoever steps the env (the rollout runner, the ``Opponents`` wrapper) calls
:func:`agent_turn`, which hands such a policy the env and records its action as the agent's reply.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec

if TYPE_CHECKING:
    from agentgym.core.env import Action, Env

T = TypeVar("T")

#: How many ``wrapped_agent`` links :func:`scripted_policy` follows before giving up.
MAX_WRAPPER_DEPTH = 16


@dataclass
class AgentReply:
    """An agent's reply, with the token ids and per-token log-probs where the agent has them."""

    message: Message
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    prompt_token_ids: list[int] | None = None
    tokens: list[str] | None = None
    usage: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class EpisodeContext:
    """What an agent may know about the episode it acts in: ids, seeds and the turn index.

    It holds plain values only (no env, task or env RNG), so nothing an agent receives reaches the
    task's answer. ``rng`` is the agent's own generator for this episode, made on first use from
    ``agent_seed``; ``turn`` is the index of the reply being asked for (the runner updates it).
    """

    episode_id: str
    env_id: str = ""
    agent_seed: int | None = None
    seed: int | None = None
    sample_index: int = 0
    turn: int = 0
    _rng: np.random.Generator | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Plain values only: a stale caller passing the env (the old second field) fails loudly.
        for name, kinds in (("episode_id", str), ("env_id", str), ("agent_seed", int), ("seed", int)):
            value = getattr(self, name)
            if not (isinstance(value, kinds) or (kinds is int and value is None)):
                raise TypeError(f"EpisodeContext.{name} must be {kinds.__name__}, not {type(value).__name__}")

    @property
    def rng(self) -> np.random.Generator:
        """The agent's RNG for this episode (seeded from ``agent_seed``)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.agent_seed)
        return self._rng


@runtime_checkable
class Agent(Protocol):
    """Anything that turns a conversation into the next assistant reply."""

    name: str

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Return the next assistant reply to ``messages``."""
        ...


@runtime_checkable
class ScriptedPolicy(Protocol):
    """A policy that reads the env itself (an oracle, a random policy, a noisy solver).

    The runner, not the policy, holds the env: each turn it calls ``scripted_action(env, context)``
    in place of ``act`` and records the action as the agent's reply. ``env`` is the innermost
    :class:`~agentgym.core.env.Env` (a :class:`~agentgym.server.RemoteEnv` proxy for served envs);
    draw randomness from ``context.rng``. Raise :class:`~agentgym.core.errors.AgentError` when the
    env cannot serve the policy (e.g. no oracle).
    """

    name: str

    def scripted_action(self, env: Env, context: EpisodeContext) -> Action:
        """The action to play in ``env``'s current state."""
        ...


def scripted_policy(agent: object) -> ScriptedPolicy | None:
    """The scripted policy behind ``agent``, or None for agents that act on observations only.

    An agent is scripted when it has a callable ``scripted_action``. Wrappers (throttles, counters)
    that hold another agent expose it as ``wrapped_agent``; this follows those links, so a wrapped
    oracle is still found.
    """
    for _ in range(MAX_WRAPPER_DEPTH):
        if agent is None:
            return None
        if callable(getattr(agent, "scripted_action", None)):
            return agent  # type: ignore[return-value]
        agent = getattr(agent, "wrapped_agent", None)
    return None


def action_message(action: Action) -> Message:
    """An env action (text, Message or chat dict) as the assistant message it stands for."""
    if isinstance(action, Message):
        return action
    if isinstance(action, str):
        return Message("assistant", action)
    return Message.from_dict({"role": "assistant", **dict(action)})


async def agent_turn(
    agent: Agent,
    env: Env,
    messages: Sequence[Message],
    tools: Sequence[ToolSpec],
    context: EpisodeContext,
) -> AgentReply:
    """One reply of ``agent`` in ``env``: scripted policies get the env, every other agent does not.

    This is the one place that hands an env to an agent-side object; callers that step envs (the
    rollout runner, :class:`~agentgym.core.wrappers.Opponents`) use it so ``act`` never sees the env.
    """
    policy = scripted_policy(agent)
    if policy is not None:
        return AgentReply(action_message(policy.scripted_action(env, context)))
    return await agent.act(messages, tools, context)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, also when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
