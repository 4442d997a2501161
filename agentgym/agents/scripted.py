"""Scripted agents: ``random`` (the env's random policy) and ``oracle`` (the env's solver)."""

from __future__ import annotations

from collections.abc import Sequence

from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.env import Action, Env
from agentgym.core.errors import AgentError
from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec


def _as_message(action: Action) -> Message:
    if isinstance(action, Message):
        return action
    if isinstance(action, str):
        return Message("assistant", action)
    return Message.from_dict({"role": "assistant", **dict(action)})


class _ScriptedAgent:
    """An agent that asks the env itself for its action (needs the episode context)."""

    name = "scripted"

    def _action(self, context: EpisodeContext) -> Action:
        raise NotImplementedError

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Return the env's scripted action for the current state."""
        if context is None or not isinstance(context.env, Env):
            raise AgentError(f"the {self.name} agent needs the episode context (run it through the runner)")
        return AgentReply(_as_message(self._action(context)))


class RandomAgent(_ScriptedAgent):
    """Plays ``env.sample_action(rng)``: a well-formed random reply, seeded per episode."""

    name = "random"

    def _action(self, context: EpisodeContext) -> Action:
        return context.env.sample_action(context.rng)


class OracleAgent(_ScriptedAgent):
    """Plays ``env.oracle_action()``: the env's scripted solver, where it has one."""

    name = "oracle"

    def _action(self, context: EpisodeContext) -> Action:
        if not context.env.has_oracle:
            raise AgentError(f"{type(context.env).__name__} has no oracle")
        return context.env.oracle_action()
