"""Frozen held-out suites: versioned task files in ``tasks/suites/``, loaded by id.

A suite holds, for one generator, ``PER_LEVEL`` held-out tasks at each of its difficulty levels
(task ``meta["level"]``); families without a generator (fixed pools, seeded envs) have pool suites,
built by :data:`agentgym.tasks.pools.POOLS`. Files are written once by
``python -m agentgym.tasks.suite build`` and committed; later generator changes never alter a
frozen version (a new version gets a new file).
Ids: ``puzzles/sat@v1``, or ``puzzles/sat`` for the newest version.
"""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.core.task import Task
from agentgym.tasks.io import read_tasks, write_tasks
from agentgym.tasks.registry import generator_class, list_generators
from agentgym.tasks.splits import split_of

SUITES_DIR = Path(__file__).parent / "suites"
PER_LEVEL = 8
SUITE_SEED = 20_261_123
_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.jsonl$")


def suite_path(generator_id: str, version: int) -> Path:
    """Where version ``version`` of ``generator_id``'s suite lives."""
    family, name = generator_id.split("/", 1)
    return SUITES_DIR / family / f"{name}.v{version}.jsonl"


def list_suites() -> list[str]:
    """Every stored suite id (``family/name@vN``)."""
    out = []
    for path in sorted(SUITES_DIR.glob("*/*.jsonl")):
        match = _FILE.match(path.name)
        if match:
            out.append(f"{path.parent.name}/{match['name']}@v{match['version']}")
    return out


def resolve(suite_id: str) -> Path:
    """The file of ``suite_id``; without ``@vN`` the newest version."""
    known = list_suites()
    if "@v" in suite_id:
        if suite_id not in known:
            raise UnknownIdError("suite", suite_id, known)
        generator_id, version = suite_id.split("@v")
        return suite_path(generator_id, int(version))
    versions = [int(s.split("@v")[1]) for s in known if s.split("@v")[0] == suite_id]
    if not versions:
        raise UnknownIdError("suite", suite_id, known)
    return suite_path(suite_id, max(versions))


def load_suite(suite_id: str) -> list[Task]:
    """The tasks of a stored suite; every one is checked to belong to the held-out split."""
    tasks = read_tasks(resolve(suite_id))
    leaked = [t.short_id for t in tasks if split_of(t) != "heldout"]
    if leaked:
        raise ConfigError(f"suite {suite_id} holds training-split tasks {leaked[:3]}: the file is corrupt")
    return tasks


def build_suite(
    generator_id: str, per_level: int = PER_LEVEL, seed: int = SUITE_SEED, max_draws: int = 2000
) -> list[Task]:
    """Up to ``per_level`` distinct held-out tasks at each difficulty level (level in ``meta``).

    Levels whose task space is tiny may hold fewer held-out tasks, or none; they get what exists.
    A pool suite id (:data:`~agentgym.tasks.pools.POOLS`) is built by its pool's builder.
    """
    from agentgym.tasks.pools import POOLS

    if generator_id in POOLS:
        return POOLS[generator_id](per_level, seed)
    cls = generator_class(generator_id)
    tasks: list[Task] = []
    for level in range(cls.n_levels()):
        gen = cls.at_level(level)
        seen: set[str] = set()
        for index in range(max_draws):
            task = gen.generate(seed + level, index)
            if split_of(task) == "heldout" and task.id not in seen:
                seen.add(task.id)
                meta = {**task.meta, "level": level}
                tasks.append(Task(task.family, task.spec, task.answer, task.difficulty, meta))
                if len(seen) == per_level:
                    break
    return tasks


def main(argv: list[str] | None = None) -> None:
    """``python -m agentgym.tasks.suite build [GENERATOR|POOL ...] [--version N]``: write suite files."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=["build", "list"])
    parser.add_argument(
        "generators", nargs="*", help="generator or pool ids (default: every generator and pool)"
    )
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="overwrite an existing version")
    args = parser.parse_args(argv)
    importlib.import_module("agentgym.environments")  # env families register generators too (rg/*)
    if args.command == "list":
        print("\n".join(list_suites()))
        return
    from agentgym.tasks.pools import POOLS

    for generator_id in args.generators or [*list_generators(), *POOLS]:
        path = suite_path(generator_id, args.version)
        if path.exists() and not args.force:
            print(f"{path} exists (frozen); skipping")
            continue
        tasks = build_suite(generator_id)
        write_tasks(tasks, path)
        print(f"{generator_id}@v{args.version}: {len(tasks)} tasks -> {path}")


if __name__ == "__main__":
    main()
