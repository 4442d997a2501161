"""Train / held-out splits decided by a task's content hash.

A task is held out when the first 64 bits of its id (a SHA-256 of family and spec) fall below
``HELDOUT_FRACTION`` of the hash space. The split is a property of the task's content, so a
generated training task can never equal a held-out one, whatever seed or generator produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import numpy as np

from agentgym.core.errors import EnvError, TaskError
from agentgym.core.task import Task
from agentgym.tasks.base import TaskGenerator

Split = Literal["train", "heldout"]
SPLITS: tuple[str, ...] = ("train", "heldout")
HELDOUT_FRACTION = 0.1
_HASH_SPACE = 2**64


def hash_position(task_id: str) -> float:
    """Where a task id falls in [0, 1): its first 64 bits over 2**64."""
    return int(task_id[:16], 16) / _HASH_SPACE


def split_of(task: Task | str, heldout_fraction: float = HELDOUT_FRACTION) -> Split:
    """``"heldout"`` when the task's hash falls in the held-out range, else ``"train"``."""
    task_id = task.id if isinstance(task, Task) else task
    return "heldout" if hash_position(task_id) < heldout_fraction else "train"


def generate_split(
    generator: TaskGenerator,
    seed: int,
    n: int,
    split: Split = "train",
    start_index: int = 0,
    max_draws: int | None = None,
) -> Iterator[Task]:
    """The first ``n`` tasks of the stream ``seed`` that belong to ``split``, in index order.

    Tasks of the other split are skipped, never emitted. ``max_draws`` (default ``50 * n + 1000``)
    bounds the search for generators whose task space is too small to fill the split.
    """
    if split not in SPLITS:
        raise TaskError(f"split must be one of {SPLITS}, got {split!r}")
    if n < 0:
        raise TaskError(f"n must be >= 0, got {n}")
    limit = max_draws if max_draws is not None else 50 * n + 1000
    found = 0
    index = start_index
    while found < n:
        if index - start_index >= limit:
            raise TaskError(
                f"{generator.id}: only {found} of {n} {split} tasks in {limit} draws; "
                "the config's task space is too small for this split"
            )
        task = generator.generate(seed, index)
        index += 1
        if split_of(task) == split:
            found += 1
            yield task


#: How many seeds an env draws before giving up on finding a task of its split.
MAX_SPLIT_DRAWS = 10_000


def draw_in_split(
    generator: Any, rng: np.random.Generator, split: str, max_draws: int = MAX_SPLIT_DRAWS
) -> Task | None:
    """A task in ``split`` (``"all"`` takes any) from seeds drawn off ``rng``; None after ``max_draws``.

    ``generator`` is anything with ``generate(seed, index)``; each draw asks for index 0 of a fresh
    seed, so an env's task is a pure function of its RNG state (the envs' seeded determinism).
    """
    for _ in range(max_draws):
        task = generator.generate(int(rng.integers(2**63 - 1)), 0)
        if split == "all" or split_of(task) == split:
            return task
    return None


def draw_task(generator: Any, rng: np.random.Generator, split: str, max_draws: int = MAX_SPLIT_DRAWS) -> Task:
    """:func:`draw_in_split`, raising EnvError (naming the split and generator) when it finds none."""
    task = draw_in_split(generator, rng, split, max_draws)
    if task is None:
        raise EnvError(f"no {split} task in {max_draws} draws of {generator.id}")
    return task


def given_task(
    options: Mapping[str, Any],
    generator: Any = None,
    accepts: Callable[[Task], bool] | None = None,
    expected: str | None = None,
) -> Task | None:
    """``options["task"]`` checked for an env's ``reset``; None when no task is given.

    The task must be a :class:`Task` that ``accepts`` takes (by default: one of ``generator``'s, its
    ``spec["generator"]`` equal to ``generator.id``), else EnvError ``options['task'] must be
    {expected}`` (by default ``a Task of {generator.id}``).
    """
    task = options.get("task")
    if task is None:
        return None
    if not isinstance(task, Task) or not (
        accepts(task) if accepts is not None else task.spec.get("generator") == generator.id
    ):
        raise EnvError(f"options['task'] must be {expected or f'a Task of {generator.id}'}")
    return task


def pose_task(
    options: Mapping[str, Any],
    generator: Any,
    rng: np.random.Generator,
    split: str,
    accepts: Callable[[Task], bool] | None = None,
    expected: str | None = None,
) -> Task:
    """The task an env's ``reset`` poses: ``options["task"]`` when given, else one drawn in ``split``.

    See :func:`given_task` (the checks and ``accepts`` / ``expected``) and :func:`draw_task`.
    """
    task = given_task(options, generator, accepts, expected)
    return task if task is not None else draw_task(generator, rng, split)
