"""Task generators by id (``family/name``, e.g. ``puzzles/sat``): a view of :mod:`agentgym.registry`.

Generators are registered by their family next to the envs that pose them
(``agentgym.registry.register_generator``), with the same loader and duplicate rule as env specs.
"""

from __future__ import annotations

from typing import Any

from agentgym.core.errors import ConfigError
from agentgym.core.loader import load_entry_point
from agentgym.tasks.base import TaskGenerator


def register_generator(generator_id: str, entry_point: str) -> None:
    """Register ``"package.module:Class"`` under ``generator_id`` (the same id twice: same entry)."""
    from agentgym.registry import registry

    registry.register_generator(generator_id, entry_point)


def generator_class(generator_id: str) -> type[TaskGenerator]:
    """The class registered under ``generator_id``; unknown ids raise with close matches."""
    from agentgym.registry import registry

    entry = registry.generator_entry(generator_id)
    cls = load_entry_point(entry, f"generator {generator_id}")
    if getattr(cls, "id", None) != generator_id:
        raise ConfigError(f"{entry} declares id {getattr(cls, 'id', None)!r}, registered as {generator_id!r}")
    return cls


def make_generator(generator_id: str, **config: Any) -> TaskGenerator:
    """Build the generator ``generator_id`` with config overrides (unknown fields are rejected)."""
    return generator_class(generator_id)(**config)


def list_generators(family: str | None = None) -> list[str]:
    """All registered generator ids, optionally of one family."""
    from agentgym.registry import registry

    return registry.generator_ids(family)
