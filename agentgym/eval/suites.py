"""Eval suites: named lists of (env, frozen held-out task suite) pairs, read from the env specs.

A frozen suite (``tasks/suites/<family>/<name>.vN.jsonl``, see :mod:`agentgym.tasks.suite`) holds a
generator's held-out tasks; an :class:`EvalEntry` poses them on one env. Which envs are evaluated,
on which suite and how, is written in each env's spec (:class:`~agentgym.envspec.EnvSpec`): an env
whose spec names a generator poses that generator's newest frozen suite (or the spec's own
``suites``), as its :class:`~agentgym.envspec.SuitePlan` says (eval's turn cap, the demo's levels,
tasks per level and turn cap).

Families without a generator (webshop, gui, swe, TextArena's games) name pool suites in their
specs' ``suites`` (built by :mod:`agentgym.tasks.pools`).

Named eval suites: one per family that has frozen suites, ``all`` (every family) and ``demo``
(each plan's demo share: by default two tasks per generator at its two lowest levels, one reply
each; a plan with ``demo_levels=0`` or ``demo_per_level=0`` keeps its env out of the demo), small
enough for ``make demo`` with the bundled model in a few minutes on two CPU cores.

Every task an entry yields is checked to be held out (:func:`require_heldout`): evaluating on
training tasks is refused with :class:`~agentgym.core.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.core.task import Task


@dataclass(frozen=True)
class EvalEntry:
    """One env and the frozen tasks posed on it.

    ``suite_id`` is a frozen suite id (``puzzles/sat@v1``) or the path of a ``.jsonl`` task file.
    ``n_levels`` keeps the tasks of the lowest ``n_levels`` difficulty levels present and
    ``per_level`` the first ``per_level`` tasks of each level (file order); ``None`` keeps all.
    """

    env_id: str
    suite_id: str
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    n_levels: int | None = None
    per_level: int | None = None

    @property
    def family(self) -> str:
        """The env's family (the part of its id before the slash)."""
        return self.env_id.split("/", 1)[0]

    def load_tasks(self) -> list[Task]:
        """The entry's tasks, in suite order; raises ConfigError if any is not held out."""
        if self.suite_id.endswith(".jsonl"):
            from agentgym.tasks.io import read_tasks

            tasks = read_tasks(Path(self.suite_id))
        else:
            from agentgym.tasks.suite import load_suite

            tasks = load_suite(self.suite_id)
        tasks = select_tasks(tasks, self.n_levels, self.per_level)
        require_heldout(tasks, f"{self.suite_id} on {self.env_id}")
        return tasks

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable description (for ``results.json`` and resume checks)."""
        return {
            "env_id": self.env_id,
            "suite_id": self.suite_id,
            "env_kwargs": dict(self.env_kwargs),
            "n_levels": self.n_levels,
            "per_level": self.per_level,
        }


@dataclass(frozen=True)
class EvalSuite:
    """A named list of entries; env ids are unique within a suite (one store per env)."""

    name: str
    entries: tuple[EvalEntry, ...]
    description: str = ""

    def __post_init__(self) -> None:
        envs = [e.env_id for e in self.entries]
        dupes = sorted({e for e in envs if envs.count(e) > 1})
        if dupes:
            raise ConfigError(f"eval suite {self.name!r} poses tasks on {dupes} more than once")
        if not self.entries:
            raise ConfigError(f"eval suite {self.name!r} has no entries")

    @property
    def families(self) -> list[str]:
        """The families the suite covers, sorted."""
        return sorted({e.family for e in self.entries})


def level_of(task: Task | Mapping[str, Any] | None) -> int | None:
    """A task's difficulty level (``meta["level"]``), from a Task or its dict; None if unknown."""
    if task is None:
        return None
    meta = task.meta if isinstance(task, Task) else task.get("meta") or {}
    level = meta.get("level")
    return int(level) if isinstance(level, (int, float)) else None


def select_tasks(tasks: Sequence[Task], n_levels: int | None, per_level: int | None) -> list[Task]:
    """The tasks of the lowest ``n_levels`` levels present, the first ``per_level`` of each."""
    if n_levels is None and per_level is None:
        return list(tasks)
    present = sorted({lv for lv in (level_of(t) for t in tasks) if lv is not None})
    keep = set(present if n_levels is None else present[:n_levels])
    taken: dict[int | None, int] = {}
    out = []
    for task in tasks:
        level = level_of(task)
        if level not in keep and n_levels is not None:
            continue
        if per_level is not None and taken.get(level, 0) >= per_level:
            continue
        taken[level] = taken.get(level, 0) + 1
        out.append(task)
    return out


def require_heldout(tasks: Sequence[Task], where: str) -> None:
    """Raise ConfigError when any task belongs to the training split (or there are none)."""
    from agentgym.tasks.splits import split_of

    leaked = [t.short_id for t in tasks if split_of(t) != "heldout"]
    if leaked:
        raise ConfigError(
            f"refusing to evaluate on training-split tasks: {len(leaked)} of {len(tasks)} tasks in "
            f"{where} are not held out (e.g. {', '.join(leaked[:3])}); eval suites must hold "
            "held-out tasks only (agentgym generate --split heldout, or a frozen suite)"
        )
    if not tasks:
        raise ConfigError(f"{where} selects no tasks")


def envs_of_suite(generator: str) -> list[str]:
    """The env ids posing suites of ``generator`` (a generator or pool id): by generator or own suites."""
    from agentgym.registry import registry

    out = list(envs_of_generator().get(generator, []))
    for spec in registry.specs():
        own = any(s.split("@v")[0] == generator for s in spec.suites)
        if own and spec.plan is not None and spec.id not in out:
            out.append(spec.id)
    return out


def envs_of_generator() -> dict[str, list[str]]:
    """Generator id -> the registered env ids that pose its tasks in eval (from the specs)."""
    from agentgym.registry import registry

    out: dict[str, list[str]] = {}
    for spec in registry.specs():
        if spec.generator is not None and spec.plan is not None:
            out.setdefault(spec.generator, []).append(spec.id)
    return out


def _newest_frozen() -> dict[str, str]:
    """Generator id -> its newest frozen suite id (``family/name@vN``)."""
    from agentgym.tasks.suite import list_suites

    newest: dict[str, tuple[int, str]] = {}
    for suite_id in list_suites():
        generator, version = suite_id.split("@v")
        if generator not in newest or int(version) > newest[generator][0]:
            newest[generator] = (int(version), suite_id)
    return {g: s for g, (_, s) in sorted(newest.items())}


def _suite_of(spec: Any, frozen: Mapping[str, str]) -> str | None:
    """The frozen suite posed on an env: the spec's newest own suite, else its generator's."""
    if spec.plan is None:
        return None
    if spec.suites:
        return spec.suites[-1]
    return frozen.get(spec.generator) if spec.generator else None


def _entries(
    family: str | None, n_levels: int | None = None, per_level: int | None = None, demo: bool = False
) -> tuple[EvalEntry, ...]:
    from agentgym.registry import registry

    frozen = _newest_frozen()
    entries = []
    for spec in registry.specs(family):
        suite_id = _suite_of(spec, frozen)
        if suite_id is None:
            continue
        plan = spec.plan
        assert plan is not None
        if demo:  # each model call costs seconds on a CPU: the plan's demo share, few turns
            if not (plan.demo_levels and plan.demo_per_level):
                continue  # kept out of the demo by its plan
            kwargs: dict[str, Any] = {"max_turns": plan.demo_max_turns}
            levels, per = plan.demo_levels, plan.demo_per_level
            if spec.generator and _single_level(spec.generator):  # all of the share at that one level
                levels, per = 1, plan.demo_levels * plan.demo_per_level
        else:
            kwargs, levels, per = plan.eval_kwargs(spec.max_turns), n_levels, per_level
        entries.append(EvalEntry(spec.id, suite_id, kwargs, levels, per))
    return tuple(entries)


def _single_level(generator: str) -> bool:
    from agentgym.tasks.registry import generator_class

    return generator_class(generator).n_levels() == 1


def families() -> list[str]:
    """Families with at least one env posing a frozen suite."""
    return sorted({e.family for e in _entries(None)})


def eval_suites() -> dict[str, EvalSuite]:
    """Every named eval suite: one per family, ``all`` and ``demo``."""
    all_entries = _entries(None)
    out = {}
    for fam in sorted({e.family for e in all_entries}):
        out[fam] = EvalSuite(
            fam, tuple(e for e in all_entries if e.family == fam), f"every frozen {fam} suite, all levels"
        )
    out["all"] = EvalSuite("all", all_entries, "every family's frozen suites, all levels")
    out["demo"] = EvalSuite(
        "demo",
        _entries(None, demo=True),
        "each env's demo share (its spec's plan): single-turn generators 2 tasks (their 2 lowest "
        "levels), one reply each; multi-turn envs a few low-level tasks with a short turn cap "
        "(games, gui, swe, webshop: one task each)",
    )
    return out


def get_suite(name: str) -> EvalSuite:
    """A named eval suite, or a one-generator suite from a frozen suite id (``puzzles/sat@v1``)."""
    suites = eval_suites()
    if name in suites:
        return suites[name]
    from agentgym.tasks.suite import list_suites

    frozen = list_suites()
    generator = name.split("@v")[0]
    if name in frozen or any(s.split("@v")[0] == name for s in frozen):
        suite_id = name if "@v" in name else _newest_frozen()[generator]
        envs = envs_of_suite(generator)
        if not envs:
            raise ConfigError(f"no registered env poses tasks of {generator}")
        return EvalSuite(name, tuple(EvalEntry(e, suite_id) for e in envs), f"frozen suite {suite_id}")
    raise UnknownIdError("eval suite", name, [*suites, *frozen])
