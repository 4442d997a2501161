"""Scripted agents: ``random`` (the env's random policy) and ``oracle`` (the env's solver).

Both are :class:`~agentgym.core.agent.ScriptedPolicy` objects: they never receive the env through
``act``. The runner that steps the env calls ``scripted_action(env, context)`` for them (see
:func:`~agentgym.core.agent.agent_turn`), also through wrappers that expose ``wrapped_agent``.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.env import Action, Env
from agentgym.core.errors import AgentError
from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec


class _ScriptedAgent:
    """An agent whose action comes from the env itself, through the runner's scripted hook."""

    name = "scripted"

    def scripted_action(self, env: Env, context: EpisodeContext) -> Action:
        """The action for ``env``'s current state (called by the runner, which holds the env)."""
        raise NotImplementedError

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Refuse: a scripted agent reads the env, which only the runner holds."""
        raise AgentError(
            f"the {self.name} agent plays through the runner's scripted hook, not act(): run it with "
            "agentgym.rollout / eval, or call agentgym.core.agent.agent_turn(agent, env, ...)"
        )


class RandomAgent(_ScriptedAgent):
    """Plays ``env.sample_action(rng)``: a well-formed random reply, seeded per episode."""

    name = "random"

    def scripted_action(self, env: Env, context: EpisodeContext) -> Action:
        """A random action of ``env``, drawn with the episode's agent RNG."""
        return env.sample_action(context.rng)


class OracleAgent(_ScriptedAgent):
    """Plays ``env.oracle_action()``: the env's scripted solver, where it has one."""

    name = "oracle"

    def scripted_action(self, env: Env, context: EpisodeContext) -> Action:
        """The next action of ``env``'s solver; AgentError when it has none."""
        if not env.has_oracle:
            raise AgentError(f"{type(env).__name__} has no oracle")
        return env.oracle_action()
