"""Eval suites: named lists of (env, frozen held-out task suite) pairs.

A frozen suite (``tasks/suites/<family>/<name>.vN.jsonl``, see :mod:`agentgym.tasks.suite`) holds a
generator's held-out tasks; an :class:`EvalEntry` poses them on one env. Every generator suite is
posed on the env(s) that generator backs (the registry's ``kwargs["generator"]``) and on the
multi-turn envs that accept its tasks (:data:`MULTI_TURN_ENVS`).

Named eval suites: one per family that has frozen suites (``puzzles``; ``rg`` appears when
``tasks/suites/rg/`` holds files), ``all`` (every family) and ``demo`` (two tasks per generator at
its two lowest levels, one per level, one reply per task; the multi-turn maze on two level-0 tasks
capped at a few turns), small enough for ``make demo`` with the bundled model in a few minutes on
two CPU cores.

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

#: Multi-turn envs that pose a generator's tasks through ``reset(options={"task": task})``. Outside
#: the demo they run without the registry's turn cap (``max_turns=None``): the env's own budget
#: ends an episode, so every task stays solvable (maze-v0's cap of 150 turns is below the shortest
#: path of its hardest frozen mazes).
MULTI_TURN_ENVS: dict[str, tuple[str, ...]] = {
    "puzzles/maze": ("puzzles/maze-v0",),
    "search/qa": ("search/qa-v0",),
}
#: Demo overrides per multi-turn generator: (levels, tasks per level, turn cap). Search poses one
#: question per hop count (1-4); its oracle needs at most 9 turns on the frozen suite.
DEMO_MULTI_TURN: dict[str, tuple[int, int, int]] = {"search/qa": (4, 1, 10)}
#: The demo's turn cap for multi-turn envs: its two level-0 mazes need 7 and 8 moves (oracle-tested).
DEMO_MAX_TURNS = 8


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


def envs_of_generator() -> dict[str, list[str]]:
    """Generator id -> the registered env ids that pose its tasks (the inverse of the registry)."""
    from agentgym.registry import registry

    out: dict[str, list[str]] = {}
    for spec in registry.specs():
        generator = spec.kwargs.get("generator")
        if isinstance(generator, str):
            out.setdefault(generator, []).append(spec.id)
    known = set(registry.ids())
    for generator, extra in MULTI_TURN_ENVS.items():
        have = out.setdefault(generator, [])
        have.extend(e for e in extra if e in known and e not in have)
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


def _entries(
    family: str | None, n_levels: int | None = None, per_level: int | None = None, demo: bool = False
) -> tuple[EvalEntry, ...]:
    envs = envs_of_generator()
    entries = []
    for generator, suite_id in _newest_frozen().items():
        if family is not None and generator.split("/", 1)[0] != family:
            continue
        for env_id in envs.get(generator, []):
            multi_turn = env_id in MULTI_TURN_ENVS.get(generator, ())
            kwargs: dict[str, Any] = {}
            if demo:  # one reply per single-turn task: each model call costs seconds on a CPU
                kwargs["max_turns"] = DEMO_MAX_TURNS if multi_turn else 1
            elif multi_turn:  # the env's own budget: a registry turn cap can be below a task's shortest path
                kwargs["max_turns"] = None
            # Multi-turn episodes cost many model calls: the demo poses one level there; generators
            # without difficulty levels (rg) give their two tasks at that one level.
            single_level = demo and (multi_turn or _single_level(generator))
            levels = 1 if single_level else n_levels
            per = 2 if single_level else per_level
            if demo and multi_turn and generator in DEMO_MULTI_TURN:
                levels, per, kwargs["max_turns"] = DEMO_MULTI_TURN[generator]
            entries.append(EvalEntry(env_id, suite_id, kwargs, levels, per))
    return tuple(sorted(entries, key=lambda e: e.env_id))


def _single_level(generator: str) -> bool:
    from agentgym.tasks.registry import generator_class

    return generator_class(generator).n_levels() == 1


def families() -> list[str]:
    """Families with at least one frozen suite posed on a registered env."""
    envs = envs_of_generator()
    return sorted({g.split("/", 1)[0] for g in _newest_frozen() if envs.get(g)})


def eval_suites() -> dict[str, EvalSuite]:
    """Every named eval suite: one per family, ``all`` and ``demo``."""
    out = {}
    for fam in families():
        out[fam] = EvalSuite(fam, _entries(fam), f"every frozen {fam} suite, all levels")
    out["all"] = EvalSuite("all", _entries(None), "every family's frozen suites, all levels")
    out["demo"] = EvalSuite(
        "demo",
        _entries(None, n_levels=2, per_level=1, demo=True),
        "2 tasks per generator (one at each of its 2 lowest levels), one reply each; multi-turn "
        f"envs: 2 level-0 tasks, at most {DEMO_MAX_TURNS} turns",
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
        envs = envs_of_generator().get(generator, [])
        if not envs:
            raise ConfigError(f"no registered env poses tasks of {generator}")
        return EvalSuite(name, tuple(EvalEntry(e, suite_id) for e in envs), f"frozen suite {suite_id}")
    raise UnknownIdError("eval suite", name, [*suites, *frozen])
