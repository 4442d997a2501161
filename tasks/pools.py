"""Frozen suites of the families whose tasks come from no generator: fixed pools and seeded envs.

Each builder returns a suite's tasks, ``meta["level"]`` set, every one held out by the content-hash
split (:func:`~agentgym.tasks.splits.split_of`). Pools that ship with the project (the SWE tasks,
the GUI action sets) are hash-split like generated tasks: their held-out part is frozen here and
the rest is training data. :mod:`agentgym.tasks.suite` builds and stores them under the suite ids
of :data:`POOLS` (``python -m agentgym.tasks.suite build swe/patches``).

- ``webshop/instructions``: shopping instructions by the number of attributes the goal names
  (level ``n - 1``), over the default 1,000-product catalog.
- ``gui/miniwob_<page>``: the seeds of one MiniWoB++ page with a scripted solver (level 0).
- ``gui/action_miniwob`` / ``gui/action_shop``: UI-R1 action-prediction tasks, by the number of
  actions taken on the page before (level ``min(steps_before, 2)``).
- ``swe/patches``: the shipped SWE tasks by difficulty (:func:`swe_level`).
- ``games/ta_<game>``: TextArena games at fixed game seeds, against the registered random opponent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agentgym.core.task import Task
from agentgym.tasks.splits import split_of

#: Builder of a pool suite: ``(per_level, seed) -> tasks`` with ``meta["level"]``.
PoolBuilder = Callable[[int, int], list[Task]]

#: MiniWoB++ pages with a scripted solver (``environments/gui/oracles.py``), each a ``gui/miniwob_*`` suite.
MINIWOB_SOLVED: tuple[str, ...] = (
    "choose-list", "click-button", "click-button-sequence", "click-checkboxes", "click-dialog",
    "click-link", "click-option", "click-tab", "click-test", "click-test-2", "click-widget",
    "enter-password", "enter-text", "focus-text", "focus-text-2", "login-user",
)  # fmt: skip
#: TextArena games with fixed seeds: game -> seats (two-seat games play the random opponent).
TEXTARENA_GAMES: dict[str, int] = {
    "TicTacToe-v0": 2,
    "ConnectFour-v0": 2,
    "Nim-v0": 2,
    "GuessTheNumber-v0": 1,
    "TowerOfHanoi-v0": 1,
}
#: The opponent every two-seat TextArena suite task is played against (the registered default).
TEXTARENA_OPPONENT = "random"
#: Seeds per MiniWoB page and per TextArena game.
SEEDS_PER_POOL = 4


def with_level(task: Task, level: int) -> Task:
    """``task`` with ``meta["level"]`` set (the id, a hash of family and spec, is unchanged)."""
    return Task(task.family, task.spec, task.answer, task.difficulty, {**task.meta, "level": level})


def heldout_seeds(make: Callable[[int], Task], n: int, level: int = 0, start: int = 0) -> list[Task]:
    """The tasks ``make(seed)`` of the first ``n`` seeds from ``start`` whose task is held out."""
    out, seed = [], start
    while len(out) < n:
        task = make(seed)
        if split_of(task) == "heldout":
            out.append(with_level(task, level))
        seed += 1
    return out


def heldout_part(tasks: Iterable[Task], level_of: Callable[[Task], int]) -> list[Task]:
    """The held-out tasks of a shipped pool, levelled, sorted by level (pool order within one)."""
    kept = [with_level(t, level_of(t)) for t in tasks if split_of(t) == "heldout"]
    return sorted(kept, key=lambda t: t.meta["level"])


def webshop_instructions(per_level: int, seed: int) -> list[Task]:
    """Held-out instructions naming 1, 2 and 3 attributes (levels 0-2), ``per_level`` of each."""
    from agentgym.tasks.webshop.instructions import InstructionGenerator

    tasks: list[Task] = []
    for level in range(3):
        gen = InstructionGenerator(n_attributes=level + 1)
        found, index = 0, 0
        while found < per_level:
            task = gen.generate(seed + level, index)
            index += 1
            if split_of(task) == "heldout":
                tasks.append(with_level(task, level))
                found += 1
    return tasks


def miniwob_page(page: str, per_level: int, seed: int) -> list[Task]:
    """Held-out page seeds of MiniWoB++ ``page`` (the env's own task record: page and seed)."""
    del per_level  # one level; SEEDS_PER_POOL seeds

    def make(page_seed: int) -> Task:
        return Task(family="gui", spec={"miniwob": page, "seed": page_seed}, meta={"source": "miniwob"})

    return heldout_seeds(make, SEEDS_PER_POOL, start=seed % 100_000)


def action_set(source: str, per_level: int, seed: int) -> list[Task]:
    """The held-out part of the shipped ``source`` action-prediction set, by actions taken before."""
    del per_level, seed  # the pool is fixed: all of its held-out part
    from agentgym.tasks.gui import load_action_tasks

    return heldout_part(load_action_tasks(source), lambda t: min(int(t.spec["steps_before"]), 2))


def swe_level(difficulty: Mapping[str, Any]) -> int:
    """0: one bug, at most two failing tests; 1: one bug, more failing tests; 2: several bugs or files."""
    if int(difficulty.get("bugs", 1)) > 1 or int(difficulty.get("files", 1)) > 1:
        return 2
    return 1 if int(difficulty.get("failing_tests", 1)) > 2 else 0


def swe_patches(per_level: int, seed: int) -> list[Task]:
    """The held-out part of the shipped SWE tasks, by :func:`swe_level`."""
    del per_level, seed  # the pool is fixed: all of its held-out part
    from agentgym.tasks.swe.record import load_tasks

    return heldout_part([t.as_task() for t in load_tasks()], lambda t: swe_level(t.difficulty))


def textarena_game(game: str, per_level: int, seed: int) -> list[Task]:
    """Held-out game seeds of TextArena ``game`` (the task the env records, plus the opponent)."""
    del per_level  # one level; SEEDS_PER_POOL seeds
    players = TEXTARENA_GAMES[game]

    def make(game_seed: int) -> Task:
        spec: dict[str, Any] = {"source": "textarena", "game": game, "num_players": players}
        spec["seed"] = game_seed
        if players > 1:
            spec["opponent"] = TEXTARENA_OPPONENT
        return Task(family="games", spec=spec, answer=None)

    return heldout_seeds(make, SEEDS_PER_POOL, start=seed % 100_000)


def suite_name(family: str, name: str) -> str:
    """A suite id's generator part from a free-form name (``TicTacToe-v0`` -> ``ta_tictactoe``)."""
    return f"{family}/{name.removesuffix('-v0').replace('-', '_').lower()}"


def _pools() -> dict[str, PoolBuilder]:
    pools: dict[str, PoolBuilder] = {
        "webshop/instructions": webshop_instructions,
        "gui/action_miniwob": functools.partial(action_set, "miniwob"),
        "gui/action_shop": functools.partial(action_set, "shop"),
        "swe/patches": swe_patches,
    }
    for page in MINIWOB_SOLVED:
        pools[suite_name("gui", f"miniwob-{page}")] = functools.partial(miniwob_page, page)
    for game in TEXTARENA_GAMES:
        pools[suite_name("games", f"ta-{game}")] = functools.partial(textarena_game, game)
    return pools


#: Pool suite id (without version) -> its builder.
POOLS: dict[str, PoolBuilder] = _pools()
