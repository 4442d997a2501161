"""What an env is, written once: :class:`EnvSpec` and :class:`SuitePlan`.

An :class:`EnvSpec` holds the entry point, kwargs, turn cap, wrappers, the task generator the env
poses, its verifier, its frozen suites and what it needs installed; a :class:`SuitePlan` says how
eval and the demo pose its frozen tasks.

Specs are registered next to the env's code (:mod:`agentgym.registry`); the generator registry,
curricula, eval suites, the demo, ``agentgym list`` and the servers all read them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from agentgym.core.env import Env
from agentgym.core.errors import ConfigError
from agentgym.core.loader import load_entry_point
from agentgym.core.wrappers import MaxTurns

#: A wrapper in a spec: an entry point string (``"pkg.mod:Wrapper"``) or a callable env -> env.
WrapperRef = str | Callable[[gym.Env], gym.Env]


@dataclass(frozen=True)
class SuitePlan:
    """How eval and the demo pose an env's frozen tasks.

    ``max_turns`` is eval's turn cap: ``"spec"`` keeps the spec's, ``None`` lets the env's own
    budget end episodes (multi-turn envs whose hardest frozen tasks need more turns than the
    registry cap). The demo poses the first ``demo_per_level`` tasks of each of the lowest
    ``demo_levels`` levels, capped at ``demo_max_turns`` turns; ``demo_levels=0`` or
    ``demo_per_level=0`` keeps the env out of the demo.
    """

    max_turns: int | str | None = "spec"
    demo_levels: int = 2
    demo_per_level: int = 1
    demo_max_turns: int | None = 1

    def eval_kwargs(self, spec_max_turns: int | None) -> dict[str, Any]:
        """The env kwargs eval uses (the turn cap)."""
        return {} if self.max_turns == "spec" else {"max_turns": self.max_turns}


#: The plan of a single-turn env posing generator tasks: two tasks (levels 0 and 1), one reply each.
SINGLE_TURN = SuitePlan()


@dataclass(frozen=True)
class EnvSpec:
    """How to build one registered env, and everything that goes with it.

    ``entry_point`` is ``"pkg.module:Class"`` or a callable; ``kwargs`` its default arguments.
    ``generator`` names the task generator the env poses (passed to the env as ``generator=`` when
    its constructor takes one); ``suites`` are frozen suite ids posed on it besides the generator's
    own; ``suite_plan`` says how eval and the demo pose them (``None``: not evaluated);
    ``verifier`` names the verifier behind its terminal verdict (``None``: the env's own rubric);
    ``extras``/``system`` what it needs installed; ``wrappers`` are applied by :meth:`make` inside
    the turn cap.
    """

    id: str
    entry_point: str | Callable[..., Env]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_turns: int | None = None
    description: str = ""
    #: pip extras the env needs (``"search"``: ``pip install 'agentgym[search]'``).
    extras: tuple[str, ...] = ()
    #: programs the env runs (``"chromium"``), installed with the system's package manager.
    system: tuple[str, ...] = ()
    generator: str | None = None
    suites: tuple[str, ...] = ()
    suite_plan: SuitePlan | None = None
    verifier: str | None = None
    wrappers: tuple[WrapperRef, ...] = ()

    @property
    def family(self) -> str:
        """The part of the id before the slash."""
        return self.id.split("/", 1)[0]

    @property
    def plan(self) -> SuitePlan | None:
        """The suite plan: the declared one, else the single-turn plan for generator-backed envs."""
        if self.suite_plan is not None:
            return self.suite_plan
        return SINGLE_TURN if self.generator else None

    def load(self) -> Callable[..., Env]:
        """Import and return the env class or factory named by ``entry_point``."""
        if callable(self.entry_point):
            return self.entry_point
        return load_entry_point(self.entry_point, f"env {self.id}")

    def requirement_problems(self) -> list[str]:
        """What is missing to run this env (extras, programs), each with the command that installs it."""
        from agentgym.requirements import problems

        return problems(self.extras, self.system)

    def make(self, **overrides: Any) -> gym.Env:
        """Build the env with the spec's kwargs updated by ``overrides``, wrapped as the spec says.

        Raises :class:`ConfigError` naming the install command when an extra or program it needs
        is missing, or when the kwargs do not fit the env.
        """
        missing = self.requirement_problems()
        if missing:
            raise ConfigError(f"{self.id} cannot run here: {'; '.join(missing)}")
        max_turns = overrides.pop("max_turns", self.max_turns)
        factory = self.load()
        kwargs = {**self.kwargs, **overrides}
        if self.generator is not None and "generator" not in kwargs and _takes_generator(factory):
            kwargs["generator"] = self.generator
        try:
            env = factory(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"cannot build {self.id!r} with {sorted(kwargs)}: {exc}") from exc
        env.spec_id = self.id  # type: ignore[attr-defined]
        for wrapper in self.wrappers:
            wrap = load_entry_point(wrapper, f"wrapper of {self.id}") if isinstance(wrapper, str) else wrapper
            env = wrap(env)
        return MaxTurns(env, max_turns) if max_turns else env


@functools.lru_cache(maxsize=512)
def _takes_generator(factory: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return "generator" in parameters
