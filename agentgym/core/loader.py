"""The one loader of ``"package.module:attr"`` entry points (envs, generators, verifiers, sandboxes)."""

from __future__ import annotations

import importlib
from typing import Any

from agentgym.core.errors import ConfigError


def load_entry_point(entry: str, what: str = "entry point") -> Any:
    """Import ``package.module`` and return its ``attr`` (dotted attributes allowed).

    ``what`` names the thing in errors (``"env puzzles/sat-v0"``). A malformed string or a missing
    attribute raises :class:`ConfigError`; an ImportError of the module itself propagates, so a
    missing optional dependency keeps its own message.
    """
    module_name, sep, attr = entry.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"{what}: {entry!r} must look like 'package.module:attr'")
    value: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ConfigError(f"{what}: {module_name} has no attribute {attr!r}") from None
    return value
