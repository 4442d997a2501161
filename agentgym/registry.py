"""The registry: env specs by id (``family/Name-vN``) and task generators by id (``family/name``).

One registry holds both, with one loader (:func:`~agentgym.core.loader.load_entry_point`) and one
duplicate rule: registering the same thing twice is a no-op, registering something else under a
taken id is an error. Each family registers its generators and env specs together, next to the
env's code (:mod:`agentgym.environments`); third-party packages do the same through the
entry-point group ``agentgym.envs`` (each entry point names a module or a zero-argument function
that calls :func:`register`). Both load on first use, so ``import agentgym`` stays light.
:mod:`agentgym.tasks.registry` (generators) and the eval suites are views of this registry.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from agentgym.core.env import Env
from agentgym.core.errors import ConfigError, EnvError, UnknownIdError
from agentgym.envspec import EnvSpec, SuitePlan, WrapperRef

__all__ = ["EnvSpec", "Registry", "SuitePlan", "make", "register", "registry", "spec", "unwrap"]

ENTRY_POINT_GROUP = "agentgym.envs"
_ID_PATTERN = re.compile(
    r"^(?P<family>[a-z][a-z0-9_]*)/(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)-v(?P<version>\d+)$"
)
_GENERATOR_PATTERN = re.compile(r"^[a-z][a-z0-9_]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class Registry:
    """Env specs and generator entry points by id, with plugin loading on first lookup."""

    def __init__(self, builtin_modules: tuple[str, ...] = ("agentgym.environments",)) -> None:
        self._specs: dict[str, EnvSpec] = {}
        self._generators: dict[str, str] = {}
        self._commands: dict[str, str] = {}
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
        *,
        generator: str | None = None,
        suites: tuple[str, ...] = (),
        suite_plan: SuitePlan | None = None,
        verifier: str | None = None,
        wrappers: tuple[WrapperRef, ...] = (),
    ) -> EnvSpec:
        """Add an env spec (see :class:`EnvSpec` for the fields); returns the registered spec.

        Ids look like ``family/Name-vN``. Registering an equal spec again returns the one there;
        another spec under a taken id raises :class:`ConfigError`.
        """
        if not _ID_PATTERN.match(id):
            raise ConfigError(f"env id {id!r} must look like 'family/Name-vN' (e.g. 'puzzles/sat-v0')")
        if max_turns is not None and max_turns < 1:
            raise ConfigError(f"max_turns must be >= 1, got {max_turns}")
        if generator is not None and not _GENERATOR_PATTERN.match(generator):
            raise ConfigError(f"{id}: generator id {generator!r} must look like 'family/name'")
        spec = EnvSpec(
            id,
            entry_point,
            dict(kwargs or {}),
            max_turns,
            description,
            tuple(extras),
            tuple(system),
            generator,
            tuple(suites),
            suite_plan,
            verifier,
            tuple(wrappers),
        )
        with self._lock:
            return self._add(self._specs, id, spec, "env id")

    def register_generator(self, generator_id: str, entry_point: str) -> None:
        """Register a task generator class (``"package.module:Class"``) under ``family/name``."""
        if not _GENERATOR_PATTERN.match(generator_id):
            raise ConfigError(f"generator id {generator_id!r} must look like 'family/name'")
        with self._lock:
            self._add(self._generators, generator_id, entry_point, "generator id")

    def register_command(self, name: str, entry_point: str) -> None:
        """Register a family's ``agentgym NAME ...`` sub-command group (``"pkg.mod:typer_app"``)."""
        if not re.match(r"^[a-z][a-z0-9-]*$", name):
            raise ConfigError(f"command name {name!r} must be lower-case letters, digits and dashes")
        with self._lock:
            self._add(self._commands, name, entry_point, "command")

    def commands(self) -> dict[str, str]:
        """Sub-command name -> its Typer app's entry point, as the families registered them."""
        self._ensure_loaded()
        return dict(sorted(self._commands.items()))

    @staticmethod
    def _add(table: dict[str, Any], key: str, value: Any, kind: str) -> Any:
        old = table.get(key)
        if old is not None and old != value:
            raise ConfigError(f"{kind} {key!r} is already registered (as {_describe(old)})")
        table.setdefault(key, value)
        return table[key]

    def __contains__(self, id: object) -> bool:
        """True when ``id`` is registered already (does not trigger plugin loading)."""
        return id in self._specs

    def unregister(self, id: str) -> None:
        """Remove an env spec or a generator (mainly for tests)."""
        with self._lock:
            self._specs.pop(id, None)
            self._generators.pop(id, None)

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
        """All registered env ids (optionally of one family), sorted."""
        self._ensure_loaded()
        return sorted(i for i in self._specs if family is None or i.split("/", 1)[0] == family)

    def specs(self, family: str | None = None) -> list[EnvSpec]:
        """All registered specs (optionally of one family), sorted by id."""
        return [self._specs[i] for i in self.ids(family)]

    def make(self, id: str, **overrides: Any) -> gym.Env:
        """Build the env registered under ``id``; ``overrides`` update its kwargs."""
        return self.spec(id).make(**overrides)

    def generator_entry(self, generator_id: str) -> str:
        """The entry point of a registered generator; unknown ids raise with close matches."""
        self._ensure_loaded()
        try:
            return self._generators[generator_id]
        except KeyError:
            raise UnknownIdError("generator", generator_id, self._generators) from None

    def generator_ids(self, family: str | None = None) -> list[str]:
        """All registered generator ids (optionally of one family), sorted."""
        self._ensure_loaded()
        return sorted(g for g in self._generators if family is None or g.split("/", 1)[0] == family)

    def envs_posing(self, generator_id: str) -> list[str]:
        """The ids of the envs whose spec names ``generator_id``, sorted."""
        return [s.id for s in self.specs() if s.generator == generator_id]


def _describe(value: Any) -> str:
    if isinstance(value, EnvSpec):
        return repr(value.entry_point)
    return repr(value)


registry = Registry()


def register(
    id: str,
    entry_point: str | Callable[..., Env],
    kwargs: Mapping[str, Any] | None = None,
    max_turns: int | None = None,
    description: str = "",
    extras: tuple[str, ...] = (),
    system: tuple[str, ...] = (),
    **fields: Any,
) -> EnvSpec:
    """Register an env in the global registry (see :meth:`Registry.register`)."""
    return registry.register(id, entry_point, kwargs, max_turns, description, extras, system, **fields)


def register_generator(generator_id: str, entry_point: str) -> None:
    """Register a task generator in the global registry (see :meth:`Registry.register_generator`)."""
    registry.register_generator(generator_id, entry_point)


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
