"""SATURN-style threshold promotion along a generator's declared difficulty levels.

The curriculum stands on one arm (a config on the difficulty ladder) and serves only its tasks. It
keeps the last ``window`` outcomes at that arm; once the window is full and the success rate in it
reaches ``threshold`` it promotes, and (optionally) below ``demote_below`` it steps back to the arm
it came from. Each move empties the window; outcomes of tasks drawn before a move are ignored.

Step size (SATURN's rule): a promotion goes to the first harder arm whose estimated difficulty
exceeds the current one by at least ``min_delta`` (SATURN moves one of (n, k, l) at a time by a
small rise of ``D``, see :mod:`agentgym.tasks.difficulty`); when no arm is that much harder, to the
hardest harder one; at the top, nowhere. In ``joint`` mode the harder arms are the later rungs of
the ladder in declared order (a rung that the estimate rates no harder is skipped); in
``per_attribute`` mode they are the arms one attribute higher, easiest first.

SATURN checks pass@k on a held-back test set at the current difficulty against its threshold; here
the check is the success rate (pass@1) over the recent training episodes at the current arm.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.tasks.base import TaskGenerator
from agentgym.tasks.curriculum.base import Curriculum, Estimator, LadderMode, level_arms, success_rate
from agentgym.tasks.difficulty import SATURN_MIN_DELTA

#: Promotion threshold on the window's success rate. (SATURN promotes when pass@k at the current
#: difficulty reaches a threshold; its exact value is not taken from the paper here.)
DEFAULT_THRESHOLD = 0.75


class ThresholdCurriculum(Curriculum):
    """Walks one generator's difficulty levels, promoting when recent success reaches a threshold.

    ``generator`` is a generator class or id; ``base_config`` fixes its other fields. ``mode`` is
    ``joint`` (one level for every attribute) or ``per_attribute`` (a level per attribute);
    ``attributes`` picks the attributes to walk. ``estimate`` maps a generator to its difficulty
    (default: the generator's own estimate, SATURN's ``D`` for SAT). ``start`` is the arm index to
    begin at.
    """

    kind = "threshold"

    def __init__(
        self,
        generator: type[TaskGenerator] | str,
        base_config: Mapping[str, Any] | None = None,
        *,
        mode: LadderMode = "joint",
        attributes: Sequence[str] | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        window: int = 32,
        demote_below: float | None = None,
        min_delta: float = SATURN_MIN_DELTA,
        estimate: Estimator | None = None,
        start: int = 0,
        seed: int = 0,
        max_draws: int = 10_000,
    ) -> None:
        arms = level_arms(generator, base_config, mode, attributes, estimate)
        super().__init__(arms, seed=seed, max_draws=max_draws)
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"threshold must be in (0, 1], got {threshold}")
        if demote_below is not None and not 0.0 <= demote_below < threshold:
            raise ConfigError(f"demote_below must be in [0, threshold={threshold}), got {demote_below}")
        if window < 1:
            raise ConfigError(f"window must be >= 1, got {window}")
        if min_delta < 0:
            raise ConfigError(f"min_delta must be >= 0, got {min_delta}")
        if not 0 <= start < len(self.arms):
            raise ConfigError(f"start must be an arm index in [0, {len(self.arms)}), got {start}")
        self.mode, self.threshold, self.window = mode, threshold, window
        self.demote_below, self.min_delta = demote_below, min_delta
        self._current = start
        self._recent: deque[bool] = deque(maxlen=window)
        self._history: list[int] = []  # arms promoted from, for demotion
        self._events: list[dict[str, Any]] = []
        self._counted = 0
        self._stale = 0

    # ----- what the curriculum stands on ----------------------------------------------------------
    @property
    def level(self) -> int:
        """The index of the current arm (for ``joint`` mode: the ladder level)."""
        return self._current

    @property
    def current(self) -> TaskGenerator:
        """The generator the next fresh tasks come from."""
        return self.arms[self._current].generator

    @property
    def difficulty(self) -> float:
        """The current arm's difficulty estimate."""
        return self.arms[self._current].difficulty

    @property
    def success(self) -> float:
        """The success rate in the current window (0.0 when empty)."""
        return success_rate(self._recent)

    @property
    def stale(self) -> int:
        """Counted episodes left out because their task was drawn at a level since left."""
        return self._stale

    @property
    def events(self) -> list[dict[str, Any]]:
        """The moves so far: ``{"after": counted episodes, "from", "to", "rate", "move"}``."""
        return list(self._events)

    def harder_arm(self) -> int | None:
        """The arm a promotion from the current one goes to (SATURN's step rule), or None at the top."""
        here = self.arms[self._current]
        if self.mode == "joint":
            candidates = list(range(self._current + 1, len(self.arms)))
        else:
            candidates = sorted(
                (i for i, arm in enumerate(self.arms) if _one_attribute_up(here.coords, arm.coords)),
                key=lambda i: (self.arms[i].difficulty, sum(self.arms[i].coords), i),
            )
        harder = [i for i in candidates if self.arms[i].difficulty > here.difficulty]
        for i in harder:
            if self.arms[i].difficulty >= here.difficulty + self.min_delta:
                return i
        return max(harder, key=lambda i: self.arms[i].difficulty) if harder else None

    # ----- Curriculum hooks -----------------------------------------------------------------------
    def _choose(self, rng: np.random.Generator) -> int:
        return self._current

    def _observe(self, arm: int, passed: bool, reward: float) -> None:
        if arm != self._current:  # drawn before the last move: says nothing about this arm
            self._stale += 1
            return
        self._counted += 1
        self._recent.append(passed)
        if len(self._recent) < self.window:
            return
        rate = success_rate(self._recent)
        if rate >= self.threshold:
            target = self.harder_arm()
            if target is not None:
                self._history.append(self._current)
                self._move(target, rate, "promote")
        elif self.demote_below is not None and rate < self.demote_below and self._history:
            self._move(self._history.pop(), rate, "demote")

    def _move(self, target: int, rate: float, move: str) -> None:
        self._events.append(
            {"after": self._counted, "from": self._current, "to": target, "rate": rate, "move": move}
        )
        self._current = target
        self._recent.clear()

    def _extra_state(self) -> dict[str, Any]:
        return {
            "current": self._current,
            "recent": [int(x) for x in self._recent],
            "history": list(self._history),
            "events": list(self._events),
            "counted": self._counted,
            "stale": self._stale,
        }

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        current = int(state["current"])
        if not 0 <= current < len(self.arms):
            raise ConfigError(f"saved current arm {current} is out of range")
        self._current = current
        self._recent = deque((bool(x) for x in state["recent"]), maxlen=self.window)
        self._history = [int(i) for i in state["history"]]
        self._events = [dict(e) for e in state["events"]]
        self._counted, self._stale = int(state["counted"]), int(state["stale"])


def _one_attribute_up(here: tuple[int, ...], there: tuple[int, ...]) -> bool:
    """True when ``there`` is higher than ``here`` in exactly one coordinate and equal elsewhere."""
    diffs = [b - a for a, b in zip(here, there, strict=True)]
    return sum(d != 0 for d in diffs) == 1 and max(diffs) > 0
