"""An env id's tasks as OpenEnv task splits: ``train`` from its generator, ``test`` its frozen suite.

Both come from the env's spec (:func:`agentgym.registry.spec`), nothing else keeps a table:

- ``train``: the first :data:`TRAIN_WINDOW` training-split tasks of the spec's generator stream
  (seed :data:`TRAIN_SEED`; held-out tasks skipped, so none equals a held-out one), built on demand.
- ``test``: the env's frozen held-out suite, as eval poses it (the spec's newest own suite, else the
  newest frozen suite of its generator). Any frozen suite id (``puzzles/maze@v1``) is a split too.

A task is served as its full dict (``Task.to_dict()``, answer included, so it can be passed back to
``reset(task=...)``) plus ``split`` and ``index``. Keep the task routes away from the policy.
"""

from __future__ import annotations

import threading
from typing import Any

from agentgym.core.errors import ConfigError
from agentgym.core.task import Task

#: Seed of the generator stream the ``train`` split is cut from.
TRAIN_SEED = 0
#: How many training tasks the ``train`` split offers (the generator's stream is endless).
TRAIN_WINDOW = 10_000
#: Most tasks ``list_tasks`` returns (a preview for big splits; ``num_tasks`` tells the size).
LIST_PREVIEW = 100

_lock = threading.Lock()
_train_cache: dict[str, tuple[list[Task], list[int]]] = {}
_suite_cache: dict[str, list[Task]] = {}


def heldout_suite_id(env_id: str) -> str | None:
    """The frozen suite eval poses on ``env_id`` (None when it has none)."""
    from agentgym.registry import spec
    from agentgym.tasks.suite import list_suites

    s = spec(env_id)
    if s.suites:
        return s.suites[-1]
    if s.generator is None:
        return None
    versions = [x for x in list_suites() if x.split("@v")[0] == s.generator]
    return max(versions, key=lambda x: int(x.split("@v")[1])) if versions else None


def list_splits(env_id: str) -> list[dict[str, Any]]:
    """The env's splits as OpenEnv split descriptors (``name``, ``type``, and where they come from)."""
    from agentgym.registry import spec

    out: list[dict[str, Any]] = []
    generator = spec(env_id).generator
    if generator is not None:
        out.append({"name": "train", "type": "train", "generator": generator, "seed": TRAIN_SEED})
    suite = heldout_suite_id(env_id)
    if suite is not None:
        out.append({"name": "test", "type": "test", "suite": suite})
    return out


def num_tasks(env_id: str, split: str) -> int:
    """How many tasks ``split`` holds."""
    if split == "train":
        _require_generator(env_id)
        return TRAIN_WINDOW
    return len(_suite_tasks(env_id, split))


def get_task(env_id: str, split: str, index: int) -> dict[str, Any]:
    """Task ``index`` of ``split`` (``IndexError`` when out of range), as a dict ``reset`` takes back."""
    return {**task_at(env_id, split, index).to_dict(), "split": split, "index": index}


def list_tasks(env_id: str, split: str, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
    """Tasks ``[start, stop)`` of ``split``; without ``stop`` at most :data:`LIST_PREVIEW` of them."""
    total = num_tasks(env_id, split)
    begin, end, _ = slice(start, stop).indices(total)
    if stop is None:
        end = min(end, begin + LIST_PREVIEW)
    return [get_task(env_id, split, i) for i in range(begin, end)]


def task_at(env_id: str, split: str, index: int) -> Task:
    """The :class:`Task` at ``index`` of ``split``."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise IndexError(f"task index must be a non-negative integer, got {index!r}")
    if split == "train":
        if index >= TRAIN_WINDOW:
            raise IndexError(f"the train split holds {TRAIN_WINDOW} tasks; index {index} is out of range")
        return _train_task(env_id, index)
    tasks = _suite_tasks(env_id, split)
    if index >= len(tasks):
        raise IndexError(f"split {split!r} holds {len(tasks)} tasks; index {index} is out of range")
    return tasks[index]


def _require_generator(env_id: str) -> str:
    from agentgym.registry import spec

    generator = spec(env_id).generator
    if generator is None:
        raise ConfigError(
            f"{env_id} has no task generator, so no 'train' split; splits: {list_splits(env_id)}"
        )
    return generator


def _train_task(env_id: str, index: int) -> Task:
    from agentgym.tasks.registry import make_generator
    from agentgym.tasks.splits import split_of

    generator_id = _require_generator(env_id)
    with _lock:  # the stream is extended in order, once, whoever asks
        tasks, cursor = _train_cache.setdefault(generator_id, ([], [0]))
        if len(tasks) <= index:
            generator = make_generator(generator_id)
            draws = 0
            while len(tasks) <= index:
                task = generator.generate(TRAIN_SEED, cursor[0])
                cursor[0] += 1
                draws += 1
                if split_of(task) == "train":
                    tasks.append(task)
                elif draws > 50 * (index + 1) + 1000:
                    raise ConfigError(
                        f"{generator_id}: too few training tasks in its stream for index {index}"
                    )
        return tasks[index]


def _suite_tasks(env_id: str, split: str) -> list[Task]:
    from agentgym.tasks.suite import load_suite

    if split == "test":
        suite = heldout_suite_id(env_id)
        if suite is None:
            raise ConfigError(f"{env_id} has no frozen suite, so no 'test' split")
    elif "/" in split:
        suite = split
    else:
        raise ConfigError(f"unknown split {split!r}: 'train', 'test' or a frozen suite id (family/name@vN)")
    with _lock:
        if suite not in _suite_cache:
            _suite_cache[suite] = load_suite(suite)
        return _suite_cache[suite]
