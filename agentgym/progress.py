"""Progress for long work: a Rich bar on a terminal, plain lines everywhere else.

On a terminal (stderr), a bar with done/total, running stats, elapsed and remaining time. When
stderr is not a terminal (CI, a log file, ``2>&1 | tee``), plain lines on stderr instead: one when
a part of the work finishes (an env of an eval, say), a heartbeat after :data:`HEARTBEAT_S`
seconds without a line (from a background thread, so even while nothing finishes), and a last
line with the totals, so a person reading the log is never left with minutes of silence.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from agentgym.trajectory import Trajectory

#: Longest silence in plain-line mode, in seconds.
HEARTBEAT_S = 60.0


class StatsProgress:
    """Progress over ``total`` items with a stats text: a bar on a terminal, else plain lines.

    Subclasses count their items and call :meth:`update` with the stats text (Rich markup).
    ``enabled=False`` shows nothing at all.
    """

    def __init__(self, total: int, label: str, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total, self.label, self.count = total, label, 0
        self._stream = stream
        console = Console(stderr=True) if stream is None else Console(file=stream)
        terminal = console.is_terminal
        self._progress = Progress(
            TextColumn(f"[bold]{escape(label)}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled or not terminal,
        )
        self._task = self._progress.add_task(label, total=total, stats="")
        self.visible = not self._progress.disable
        #: plain lines instead of a bar (enabled, but not on a terminal)
        self.plain = enabled and not terminal
        self._stats = ""
        self._started = self._last_line = time.monotonic()
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None

    def update(self, stats: str) -> None:
        """Advance by one item and show ``stats``."""
        self.count += 1
        self._stats = stats
        if self.visible:
            self._progress.update(self._task, advance=1, stats=stats)
        else:
            self.beat()

    def beat(self) -> None:
        """In plain mode, print a progress line when nothing was printed for :data:`HEARTBEAT_S`."""
        if self.plain and time.monotonic() - self._last_line >= HEARTBEAT_S:
            self.line(f"{self.count}/{self.total} done")

    def _beat_until_stopped(self) -> None:
        while not self._stop.wait(HEARTBEAT_S / 4):
            self.beat()

    def line(self, what: str, stats: str | None = None) -> None:
        """Print one plain line (plain mode only): label, what, stats, elapsed time."""
        if not self.plain:
            return
        stats = self._stats if stats is None else stats
        text = f"{self.label}: {what}" + (f" · {stats}" if stats else "")
        plain = Text.from_markup(text).plain
        stream = self._stream or sys.stderr
        print(f"{plain} · {_clock(time.monotonic() - self._started)}", file=stream, flush=True)
        self._last_line = time.monotonic()

    def __enter__(self) -> StatsProgress:
        self._progress.start()
        if self.plain:
            self.line(f"started, {self.total} to do", stats="")
            # a heartbeat even while no item finishes (a slow model's first replies take minutes)
            self._beater = threading.Thread(target=self._beat_until_stopped, daemon=True)
            self._beater.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
        self._stop.set()
        if self._beater is not None:
            self._beater.join()
        if self.plain:
            state = "interrupted" if exc_type is not None else "finished"
            self.line(f"{state}, {self.count}/{self.total} done")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass
class _Tally:
    todo: int
    done: int = 0
    passed: int = 0
    reward: float = 0.0


class RolloutProgress(StatsProgress):
    """Rollout progress: success rate, mean reward and errors so far.

    ``per_env`` (env id -> episodes to do) makes plain mode print a line as each env finishes.
    """

    def __init__(
        self,
        total: int,
        env_id: str,
        agent: str,
        enabled: bool = True,
        per_env: Mapping[str, int] | None = None,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(total, f"{env_id} · {agent}", enabled, stream)
        self.done = self.passed = self.errors = 0
        self.reward = 0.0
        self._per_env = {env: _Tally(todo=n) for env, n in (per_env or {}).items()}

    def advance(self, trajectory: Trajectory) -> None:
        """Count one finished episode."""
        self.done += 1
        self.passed += trajectory.passed
        self.reward += trajectory.reward
        self.errors += trajectory.status not in ("ok", "truncated")
        if not (self.visible or self.plain):
            return
        self._env_done(trajectory)
        self.update(self._summary(self.done, self.passed, self.reward, self.errors))

    def _env_done(self, trajectory: Trajectory) -> None:
        tally = self._per_env.get(trajectory.env_id)
        if tally is None:
            return
        tally.done += 1
        tally.passed += trajectory.passed
        tally.reward += trajectory.reward
        if tally.done == tally.todo and len(self._per_env) > 1:
            stats = self._summary(tally.done, tally.passed, tally.reward, 0)
            self.line(f"{trajectory.env_id} done ({tally.done} episodes)", stats)

    @staticmethod
    def _summary(done: int, passed: int, reward: float, errors: int) -> str:
        stats = f"success {passed / done:.0%} · reward {reward / done:.2f}"
        if errors:
            stats += f" · [red]{errors} errors[/]"
        return stats
