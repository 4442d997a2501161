"""Adapters that put AgentGym envs behind other projects' protocols (OpenEnv, trainers).

Everything here is imported lazily: ``import agentgym.integrations`` costs nothing, and each name
pulls in its third-party stack (``openenv``, FastAPI) only when first used.

- :func:`create_openenv_app` / :func:`serve_openenv`: env ids over OpenEnv's protocol
  (``pip install 'agentgym[openenv]'``; ``agentgym serve --protocol openenv``).
- :class:`AgentGymEnvironment`: one OpenEnv ``Environment`` session over an AgentGym env id.
- :class:`ChatAction` / :class:`ChatObservation` / :class:`ChatState`: its wire types.
- :mod:`agentgym.integrations.trl`: TRL ``GRPOTrainer`` adapters, ``environment_factory(env_id)``
  and ``rollout_func(env_id)`` (:class:`TRLRollout`; ``pip install 'agentgym[trl]'``).
- :class:`AgentGymAgentLoop`: verl's agent loop ``"agentgym"`` for every env id
  (``pip install 'agentgym[verl]'``); :func:`write_agent_loop_config` writes the file verl reads.
- :class:`AgentGymTextEnv` / :func:`register_skyrl_envs`: SkyRL-gym ``BaseTextEnv`` over any env
  id, and the registration of env ids in ``skyrl_gym`` (``pip install 'agentgym[skyrl]'``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "create_openenv_app": "agentgym.integrations.openenv_app",
    "serve_openenv": "agentgym.integrations.openenv_app",
    "AgentGymEnvironment": "agentgym.integrations.openenv_env",
    "SessionBudget": "agentgym.integrations.openenv_env",
    "ChatAction": "agentgym.integrations.openenv_models",
    "ChatObservation": "agentgym.integrations.openenv_models",
    "ChatState": "agentgym.integrations.openenv_models",
    "write_manifest": "agentgym.integrations.openenv_manifest",
    "AgentGymAgentLoop": "agentgym.integrations.verl",
    "write_agent_loop_config": "agentgym.integrations.verl",
    "AgentGymTextEnv": "agentgym.integrations.skyrl",
    "register_skyrl_envs": "agentgym.integrations.skyrl",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
