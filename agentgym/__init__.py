"""AgentGym: multi-turn, verifiable environments for LLM agents behind one step API.

>>> import agentgym
>>> env = agentgym.make("puzzles/sat-v0", difficulty={"n_vars": 5})
>>> obs, info = env.reset(seed=7)
>>> obs[0].role
'system'

Heavy stacks (torch, transformers, playwright, docker, ray) are imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Env": "agentgym.core.env",
    "StepResult": "agentgym.core.env",
    "Message": "agentgym.core.messages",
    "ToolCall": "agentgym.core.messages",
    "TextPart": "agentgym.core.messages",
    "ImagePart": "agentgym.core.messages",
    "ToolSpec": "agentgym.core.tools",
    "Task": "agentgym.core.task",
    "Verdict": "agentgym.core.verdict",
    "Agent": "agentgym.core.agent",
    "AgentReply": "agentgym.core.agent",
    "EpisodeContext": "agentgym.core.agent",
    "ScriptedPolicy": "agentgym.core.agent",
    "EnvSpec": "agentgym.envspec",
    "SuitePlan": "agentgym.envspec",
    "register_generator": "agentgym.registry",
    "register": "agentgym.registry",
    "make": "agentgym.registry",
    "spec": "agentgym.registry",
    "list_envs": "agentgym.registry",
    "check_env": "agentgym.checker",
    "make_agent": "agentgym.agents",
    "run_rollouts": "agentgym.rollout",
    "RolloutConfig": "agentgym.rollout",
    "Trajectory": "agentgym.trajectory",
    "TrajectoryStore": "agentgym.trajectory",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentgym' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
