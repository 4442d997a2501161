"""What every curriculum shares: arms (generators), train-only draws, seeds, groups and saved state.

A curriculum is a :class:`~agentgym.rollout.TaskSource`: the runner asks it for each episode's task
(``next_task``) and feeds back the finished trajectory (``record``). Its choices are spread over
*arms*, each a generator under one fixed config. Everything random is derived, never global:

- the choice for the i-th draw uses an RNG made from ``(seed, i)``;
- arm ``a`` draws item ``j`` of its own stream ``generate(stream_seed(seed, a), j)``, skipping tasks
  of the held-out split, so a curriculum only ever emits training tasks;
- the k samples of one task group (``plan.sample_index > 0``) get their group's task again.

So the state is a handful of counters plus what each curriculum learned from rewards, and
``state_dict()`` / ``load_state_dict()`` carry it across a restart as plain JSON.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from agentgym.core.errors import ConfigError, TaskError
from agentgym.core.task import Task, canonical_json
from agentgym.tasks.base import MAX_SEED, TaskGenerator
from agentgym.tasks.registry import generator_class
from agentgym.tasks.splits import split_of

if TYPE_CHECKING:
    from agentgym.rollout import EpisodePlan
    from agentgym.trajectory import Trajectory

#: Trajectory statuses that say something about the agent; env and verifier failures are not
#: the agent's failures, so they are left out of every estimate (and counted as ignored).
COUNTED_STATUSES: tuple[str, ...] = ("ok", "truncated")
#: Keys of ``generator.difficulty()`` read as a difficulty estimate, first found wins.
ESTIMATE_KEYS: tuple[str, ...] = ("estimate", "saturn")
STATE_VERSION = 1
_DECISION = 0x5EED  # salt of the decision RNG, apart from the task streams
LadderMode = Literal["joint", "per_attribute"]
Estimator = Callable[[TaskGenerator], "float | None"]


@dataclass(frozen=True)
class Arm:
    """One source of tasks: a generator under a fixed config, its name, coordinates and difficulty.

    ``coords`` are the indices of the generator's difficulty-attribute levels this arm stands at
    (empty for arms that are not on a ladder); ``difficulty`` is the estimate a curriculum orders
    arms by.
    """

    name: str
    generator: TaskGenerator
    difficulty: float = 0.0
    coords: tuple[int, ...] = ()

    @property
    def fingerprint(self) -> str:
        """The generator id and config as canonical JSON: how a task is traced back to its arm."""
        return config_fingerprint(self.generator.id, self.generator.config.to_dict())


def config_fingerprint(generator_id: str, config: Mapping[str, Any]) -> str:
    """Canonical JSON of ``[generator_id, config]`` (equal for a generator and the tasks it makes)."""
    return canonical_json([generator_id, dict(config)])


def default_estimate(generator: TaskGenerator) -> float | None:
    """The generator's own difficulty estimate (``difficulty()["estimate"]`` or ``["saturn"]``), if any."""
    recorded = generator.difficulty()
    for key in ESTIMATE_KEYS:
        value = recorded.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def resolve_generator(generator: type[TaskGenerator] | str) -> type[TaskGenerator]:
    """A generator class, given the class or its registered id."""
    return generator_class(generator) if isinstance(generator, str) else generator


def level_arms(
    generator: type[TaskGenerator] | str,
    base_config: Mapping[str, Any] | None = None,
    mode: LadderMode = "joint",
    attributes: Sequence[str] | None = None,
    estimate: Estimator | None = None,
) -> list[Arm]:
    """The arms along a generator's declared difficulty levels.

    ``joint``: arm ``i`` sets every walked attribute to its ``i``-th level (clamped), as
    :meth:`TaskGenerator.at_level` does. ``per_attribute``: one arm per combination of the walked
    attributes' distinct values. ``attributes`` picks which attributes to walk (default: all);
    the others come from ``base_config`` or the defaults. Configs the generator rejects are left
    out, and so are repeats. Each arm's difficulty is ``estimate(generator)`` (default: the
    generator's own estimate), or, when that is missing for any arm, the sum of its level indices.
    """
    cls = resolve_generator(generator)
    base = dict(base_config or {})
    declared = {a.name: a for a in cls.difficulty_attrs}
    names = list(attributes) if attributes is not None else list(declared)
    if not declared:
        raise ConfigError(
            f"{cls.id} declares no difficulty levels, so a curriculum has nothing to move along "
            "(a DomainSampler can still mix it with other generators)"
        )
    unknown = [n for n in names if n not in declared]
    if unknown or not names:
        raise ConfigError(f"{cls.id}: attributes {unknown or names} are not among {sorted(declared)}")
    clash = sorted(set(names) & set(base))
    if clash:
        raise ConfigError(f"base_config sets {clash}, which the curriculum walks; leave them out")
    if mode == "joint":
        depth = max(len(declared[n].levels) for n in names)
        points = [tuple(min(i, len(declared[n].levels) - 1) for n in names) for i in range(depth)]
        values = {n: list(declared[n].levels) for n in names}
    elif mode == "per_attribute":
        values = {n: list(dict.fromkeys(declared[n].levels)) for n in names}  # distinct, in order
        points = list(itertools.product(*(range(len(values[n])) for n in names)))
    else:
        raise ConfigError(f"mode must be 'joint' or 'per_attribute', got {mode!r}")
    arms: list[Arm] = []
    seen: set[str] = set()
    for coords in points:
        overrides = {n: values[n][i] for n, i in zip(names, coords, strict=True)}
        try:
            gen = cls(**{**base, **overrides})
        except (TaskError, TypeError):  # a combination the config rejects (e.g. k > n_vars)
            continue
        arm = Arm(",".join(f"{n}={v}" for n, v in overrides.items()), gen, 0.0, coords)
        if arm.fingerprint not in seen:
            seen.add(arm.fingerprint)
            arms.append(arm)
    if not arms:
        raise ConfigError(f"{cls.id}: no valid config along its difficulty levels")
    estimates = [(estimate or default_estimate)(a.generator) for a in arms]
    if any(e is None for e in estimates):
        estimates = [float(sum(a.coords)) for a in arms]
    return [Arm(a.name, a.generator, float(e), a.coords) for a, e in zip(arms, estimates, strict=True)]  # type: ignore[arg-type]


def stream_seed(seed: int, fingerprint: str) -> int:
    """The task-stream seed of one arm: a 63-bit function of the curriculum seed and the arm's config."""
    digest = int(hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16], 16)
    return int(np.random.SeedSequence([seed, digest]).generate_state(1, np.uint64)[0] >> 1)


class Curriculum(ABC):
    """Base of the curricula: arms, train-only task draws, group reuse and JSON state.

    Subclasses implement :meth:`_choose` (which arm the next draw comes from) and :meth:`_observe`
    (learn from one counted episode), and extend :meth:`_extra_state` / :meth:`_load_extra_state`.
    """

    kind: ClassVar[str] = "curriculum"

    def __init__(
        self, arms: Sequence[Arm], seed: int = 0, max_draws: int = 10_000, group_cache: int = 1024
    ) -> None:
        if not arms:
            raise ConfigError("a curriculum needs at least one arm")
        if not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
            raise ConfigError(f"seed must be an int in [0, 2**63), got {seed!r}")
        if max_draws < 1 or group_cache < 1:
            raise ConfigError(f"max_draws and group_cache must be >= 1, got {max_draws}, {group_cache}")
        self.arms: tuple[Arm, ...] = tuple(arms)
        self._index = {arm.fingerprint: i for i, arm in enumerate(self.arms)}
        if len(self._index) != len(self.arms):
            raise ConfigError("two arms have the same generator config; their tasks could not be told apart")
        self.seed, self.max_draws, self.group_cache = seed, max_draws, group_cache
        self._streams = [stream_seed(seed, arm.fingerprint) for arm in self.arms]
        self._next_index = [0] * len(self.arms)
        self._draws = 0
        self._ignored = 0
        # group id -> (arm, stream index, task); the task is None until needed after a restore
        self._groups: OrderedDict[int, tuple[int, int, Task | None]] = OrderedDict()

    # ----- the TaskSource protocol --------------------------------------------------------------
    def next_task(self, plan: EpisodePlan) -> Task:
        """The task for ``plan``: its group's task for a repeat sample, else a fresh draw."""
        if plan.sample_index > 0 and plan.group_id in self._groups:
            arm, index, cached = self._groups[plan.group_id]
            if cached is None:  # restored from a saved state: made again from its stream
                cached = self.arms[arm].generator.generate(self._streams[arm], index)
                self._groups[plan.group_id] = (arm, index, cached)
            return cached
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self._draws, _DECISION]))
        self._draws += 1
        arm = self._choose(rng)
        task = self._draw(arm)
        self._groups[plan.group_id] = (arm, int(task.meta["index"]), task)
        self._groups.move_to_end(plan.group_id)
        while len(self._groups) > self.group_cache:
            self._groups.popitem(last=False)
        return task

    def record(self, task: Task, trajectory: Trajectory) -> None:
        """Learn from a finished episode; tasks of no arm and env/verifier failures are ignored."""
        arm = self.arm_of(task)
        if arm is None or trajectory.status not in COUNTED_STATUSES:
            self._ignored += 1
            return
        self._observe(arm, trajectory.passed, min(1.0, max(0.0, trajectory.reward)))

    # ----- what subclasses decide ---------------------------------------------------------------
    @abstractmethod
    def _choose(self, rng: np.random.Generator) -> int:
        """The arm the next task comes from (``rng`` is this draw's own generator)."""

    @abstractmethod
    def _observe(self, arm: int, passed: bool, reward: float) -> None:
        """Learn from one counted episode of ``arm`` (``reward`` clipped to [0, 1])."""

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        return None

    # ----- shared behaviour ---------------------------------------------------------------------
    def arm_of(self, task: Task) -> int | None:
        """The index of the arm whose generator config made ``task``, or None."""
        config = task.meta.get("config") if isinstance(task.meta, Mapping) else None
        generator = task.spec.get("generator")
        if not isinstance(config, Mapping) or not isinstance(generator, str):
            return None
        return self._index.get(config_fingerprint(generator, config))

    @property
    def draws(self) -> int:
        """How many fresh tasks this curriculum has drawn."""
        return self._draws

    @property
    def ignored(self) -> int:
        """How many recorded episodes were left out (unknown task, or an env/verifier failure)."""
        return self._ignored

    def _draw(self, arm: int) -> Task:
        """The next training-split task of ``arm``'s stream (held-out tasks are skipped)."""
        generator, index = self.arms[arm].generator, self._next_index[arm]
        for _ in range(self.max_draws):
            task = generator.generate(self._streams[arm], index)
            index += 1
            if split_of(task) == "train":
                self._next_index[arm] = index
                return task
        self._next_index[arm] = index
        raise TaskError(f"{self.arms[arm].name}: no training task in {self.max_draws} draws")

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this curriculum exactly, as JSON-serializable data."""
        return {
            "kind": self.kind,
            "version": STATE_VERSION,
            "seed": self.seed,
            "arms": [arm.fingerprint for arm in self.arms],
            "draws": self._draws,
            "ignored": self._ignored,
            "next_index": list(self._next_index),
            # A group's task is made again from (arm, stream index) when needed, not stored.
            "groups": [[gid, arm, index] for gid, (arm, index, _) in self._groups.items()],
            **self._extra_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output; the curriculum must have the same kind, seed and arms."""
        if state.get("kind") != self.kind or state.get("version") != STATE_VERSION:
            raise ConfigError(f"state of a {state.get('kind')!r} v{state.get('version')}, not {self.kind!r}")
        if state.get("seed") != self.seed or list(state.get("arms", [])) != [
            a.fingerprint for a in self.arms
        ]:
            raise ConfigError("the saved state belongs to a curriculum with another seed or other arms")
        next_index = [int(i) for i in state["next_index"]]
        if len(next_index) != len(self.arms):
            raise ConfigError("the saved state has the wrong number of arms")
        self._draws, self._ignored = int(state["draws"]), int(state["ignored"])
        self._next_index = next_index
        groups = [(int(gid), int(arm), int(index)) for gid, arm, index in state["groups"]]
        if any(not 0 <= arm < len(self.arms) for _, arm, _ in groups):
            raise ConfigError("the saved state names an arm out of range")
        self._groups = OrderedDict((gid, (arm, index, None)) for gid, arm, index in groups)
        self._load_extra_state(state)


def success_rate(window: Sequence[bool | int]) -> float:
    """The share of successes in ``window`` (0.0 when empty)."""
    return sum(bool(x) for x in window) / len(window) if window else 0.0
