"""Public home of AgentGym's typed errors (re-exported from :mod:`agentgym.core.errors`)."""

from agentgym.core.errors import (
    AgentError,
    AgentGymError,
    ConfigError,
    EnvError,
    SandboxError,
    TaskError,
    UnknownIdError,
    VerifierError,
)

__all__ = [
    "AgentError",
    "AgentGymError",
    "ConfigError",
    "EnvError",
    "SandboxError",
    "TaskError",
    "UnknownIdError",
    "VerifierError",
]
