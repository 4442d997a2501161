"""Generator ids (``family/name``, e.g. ``puzzles/sat``) mapped to lazily imported classes."""

from __future__ import annotations

import importlib
from typing import Any

from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.tasks.base import TaskGenerator

_GENERATORS: dict[str, str] = {}


def register_generator(generator_id: str, entry_point: str) -> None:
    """Register ``"package.module:Class"`` under ``generator_id``; ids are unique."""
    if generator_id in _GENERATORS and _GENERATORS[generator_id] != entry_point:
        raise ConfigError(f"generator id {generator_id!r} is already registered")
    _GENERATORS[generator_id] = entry_point


def generator_class(generator_id: str) -> type[TaskGenerator]:
    """The class registered under ``generator_id``; unknown ids raise with close matches."""
    _load_builtins()
    try:
        entry = _GENERATORS[generator_id]
    except KeyError:
        raise UnknownIdError("generator", generator_id, _GENERATORS) from None
    module, _, attr = entry.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if cls.id != generator_id:
        raise ConfigError(f"{entry} declares id {cls.id!r}, registered as {generator_id!r}")
    return cls


def make_generator(generator_id: str, **config: Any) -> TaskGenerator:
    """Build the generator ``generator_id`` with config overrides (unknown fields are rejected)."""
    return generator_class(generator_id)(**config)


def list_generators(family: str | None = None) -> list[str]:
    """All registered generator ids, optionally of one family."""
    _load_builtins()
    return sorted(g for g in _GENERATORS if family is None or g.split("/", 1)[0] == family)


def _load_builtins() -> None:
    importlib.import_module("agentgym.tasks.builtin")
