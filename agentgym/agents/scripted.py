"""Scripted agents: ``random`` (the env's random policy) and ``oracle`` (the env's solver)."""

from __future__ import annotations

from collections.abc import Sequence

from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.env import Action
from agentgym.core.errors import AgentError
from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec


def _as_message(action: Action) -> Message:
    if isinstance(action, Message):
        return action
    if isinstance(action, str):
        return Message("assistant", action)
    return Message.from_dict({"role": "assistant", **dict(action)})


class RandomAgent:
    """Plays ``env.sample_action(rng)``: a well-formed random reply, seeded per episode."""

    name = "random"

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Return the env's random action for this episode's RNG."""
        if context is None:
            raise AgentError("the random agent needs the episode context (run it through the runner)")
        return AgentReply(_as_message(context.env.sample_action(context.rng)))


class OracleAgent:
    """Plays ``env.oracle_action()``: the env's scripted solver, where it has one."""

    name = "oracle"

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Return the env's oracle action for the current state."""
        if context is None:
            raise AgentError("the oracle agent needs the episode context (run it through the runner)")
        if not context.env.has_oracle:
            raise AgentError(f"{type(context.env).__name__} has no oracle")
        return AgentReply(_as_message(context.env.oracle_action()))
