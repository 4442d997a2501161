"""The env registry: ids ``family/Name-vN`` mapped to lazy entry points.

Built-in envs register from :mod:`agentgym.environments` and third-party packages through the
entry-point group ``agentgym.envs`` (each entry point names a module or a zero-argument function
that calls :func:`register`). Both load on first use, so ``import agentgym`` stays light.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from agentgym.core.env import Env
from agentgym.core.errors import ConfigError, EnvError, UnknownIdError
from agentgym.core.wrappers import MaxTurns

ENTRY_POINT_GROUP = "agentgym.envs"
_ID_PATTERN = re.compile(
    r"^(?P<family>[a-z][a-z0-9_]*)/(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)-v(?P<version>\d+)$"
)


@dataclass(frozen=True)
class EnvSpec:
    """How to build one registered env: ``entry_point`` is ``"pkg.module:Class"`` or a callable."""

    id: str
    entry_point: str | Callable[..., Env]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_turns: int | None = None
    description: str = ""
    #: pip extras the env needs (``"search"``: ``pip install 'agentgym[search]'``).
    extras: tuple[str, ...] = ()
    #: programs the env runs (``"chromium"``), installed with the system's package manager.
    system: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """The part of the id before the slash."""
        return self.id.split("/", 1)[0]

    def load(self) -> Callable[..., Env]:
        """Import and return the env class or factory named by ``entry_point``."""
        if callable(self.entry_point):
            return self.entry_point
        module_name, _, attr = self.entry_point.partition(":")
        if not attr:
            raise ConfigError(f"entry point {self.entry_point!r} must look like 'package.module:Class'")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ConfigError(f"entry point {self.entry_point!r}: {module_name} has no {attr!r}") from None

    def requirement_problems(self) -> list[str]:
        """What is missing to run this env (extras, programs), each with the command that installs it."""
        from agentgym.requirements import problems

        return problems(self.extras, self.system)

    def make(self, **overrides: Any) -> gym.Env:
        """Build the env with the spec's kwargs updated by ``overrides``, wrapped in MaxTurns.

        Raises :class:`ConfigError` naming the install command when an extra or program it needs
        is missing.
        """
        missing = self.requirement_problems()
        if missing:
            raise ConfigError(f"{self.id} cannot run here: {'; '.join(missing)}")
        max_turns = overrides.pop("max_turns", self.max_turns)
        factory = self.load()
        kwargs = {**self.kwargs, **overrides}
        try:
            env = factory(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"cannot build {self.id!r} with {sorted(kwargs)}: {exc}") from exc
        env.spec_id = self.id  # type: ignore[attr-defined]
        return MaxTurns(env, max_turns) if max_turns else env


class Registry:
    """A set of :class:`EnvSpec` by id, with plugin loading on first lookup."""

    def __init__(self, builtin_modules: tuple[str, ...] = ("agentgym.environments",)) -> None:
        self._specs: dict[str, EnvSpec] = {}
        self._builtin_modules = builtin_modules
        self._loaded = False
        self._loading = False
        self._lock = threading.RLock()
        self.plugin_errors: dict[str, str] = {}

    def register(
        self,
        id: str,
        entry_point: str | Callable[..., Env],
        kwargs: Mapping[str, Any] | None = None,
        max_turns: int | None = None,
        description: str = "",
        extras: tuple[str, ...] = (),
        system: tuple[str, ...] = (),
    ) -> EnvSpec:
        """Add an env spec; ids must look like ``family/Name-vN`` and must not be taken.

        ``extras`` and ``system`` name what the env needs beyond the base install (checked by
        :meth:`EnvSpec.make`, listed by ``agentgym list``).
        """
        if not _ID_PATTERN.match(id):
            raise ConfigError(f"env id {id!r} must look like 'family/Name-vN' (e.g. 'puzzles/sat-v0')")
        if max_turns is not None and max_turns < 1:
            raise ConfigError(f"max_turns must be >= 1, got {max_turns}")
        with self._lock:
            if id in self._specs:
                raise ConfigError(f"env id {id!r} is already registered")
            spec = EnvSpec(
                id, entry_point, dict(kwargs or {}), max_turns, description, tuple(extras), tuple(system)
            )
            self._specs[id] = spec
            return spec

    def __contains__(self, id: object) -> bool:
        """True when ``id`` is registered already (does not trigger plugin loading)."""
        return id in self._specs

    def unregister(self, id: str) -> None:
        """Remove a spec (mainly for tests)."""
        with self._lock:
            self._specs.pop(id, None)

    def _ensure_loaded(self) -> None:
        with self._lock:
            if self._loaded or self._loading:
                return
            self._loading = True
            try:
                for module in self._builtin_modules:
                    importlib.import_module(module)
                self._load_entry_points()
                self._loaded = True  # only on success: a failed built-in import raises again next time
            finally:
                self._loading = False

    def _load_entry_points(self) -> None:
        builtin = set(self._builtin_modules)
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.module in builtin or any(ep.module.startswith(b + ".") for b in builtin):
                importlib.import_module(ep.module)  # registered by the import above
                continue
            try:
                loaded = ep.load()
                if callable(loaded):
                    loaded()
            except Exception as exc:  # a broken plugin must not break the registry
                self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"

    def spec(self, id: str) -> EnvSpec:
        """The spec registered under ``id``; unknown ids raise with close matches."""
        self._ensure_loaded()
        try:
            return self._specs[id]
        except KeyError:
            raise UnknownIdError("env id", id, self._specs) from None

    def ids(self, family: str | None = None) -> list[str]:
        """All registered ids (optionally of one family), sorted."""
        self._ensure_loaded()
        return sorted(i for i in self._specs if family is None or i.split("/", 1)[0] == family)

    def specs(self, family: str | None = None) -> list[EnvSpec]:
        """All registered specs (optionally of one family), sorted by id."""
        return [self._specs[i] for i in self.ids(family)]

    def make(self, id: str, **overrides: Any) -> gym.Env:
        """Build the env registered under ``id``; ``overrides`` update its kwargs."""
        return self.spec(id).make(**overrides)


registry = Registry()


def register(
    id: str,
    entry_point: str | Callable[..., Env],
    kwargs: Mapping[str, Any] | None = None,
    max_turns: int | None = None,
    description: str = "",
    extras: tuple[str, ...] = (),
    system: tuple[str, ...] = (),
) -> EnvSpec:
    """Register an env in the global registry (see :meth:`Registry.register`)."""
    return registry.register(id, entry_point, kwargs, max_turns, description, extras, system)


def make(id: str, **overrides: Any) -> gym.Env:
    """Build a registered env, e.g. ``make("puzzles/sat-v0", difficulty={"n_vars": 8})``."""
    return registry.make(id, **overrides)


def spec(id: str) -> EnvSpec:
    """The spec of a registered env."""
    return registry.spec(id)


def list_envs(family: str | None = None) -> list[str]:
    """The ids of registered envs, optionally of one family."""
    return registry.ids(family)


def unwrap(env: gym.Env) -> Env:
    """The innermost :class:`Env` under any wrappers; raises EnvError if there is none."""
    base = env.unwrapped
    if not isinstance(base, Env):
        raise EnvError(f"{type(base).__name__} is not an agentgym Env")
    return base
