"""Typed errors, named by the boundary they cross.

Every error the library raises on purpose derives from :class:`AgentGymError`, so callers can catch
one type. Failures inside a rollout are recorded on the trajectory instead of being raised.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AgentGymError(Exception):
    """Base class of every error AgentGym raises on purpose."""


class ConfigError(AgentGymError, ValueError):
    """A configuration, spec string or argument is invalid."""


class EnvError(AgentGymError):
    """An environment failed or was used out of order (e.g. step before reset)."""


class AgentError(AgentGymError):
    """An agent could not produce a reply (endpoint down, model failed, bad output)."""


class SandboxError(AgentGymError):
    """A sandbox could not be created or a command could not be run in it."""


class VerifierError(AgentGymError):
    """A verifier could not score a response."""


class TaskError(AgentGymError, ValueError):
    """A task or generator config is invalid, or a task could not be generated."""


class UnknownIdError(ConfigError, KeyError):
    """An id (env, agent, generator) is not registered; the message suggests close matches."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = "" if close else f" (known: {', '.join(known[:10])}{'...' if len(known) > 10 else ''})"
        super().__init__(f"unknown {kind} {name!r}{hint}{listing}")
        self.name = name
        self.suggestions = close

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])
