"""Rich progress bars for long work: done/total, running stats, elapsed and remaining time."""

from __future__ import annotations

from types import TracebackType

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

from agentgym.trajectory import Trajectory


class StatsProgress:
    """A progress bar on stderr with a stats column; hidden unless enabled and stderr is a terminal.

    Subclasses count their items and call :meth:`update` with the stats text.
    """

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.total = total
        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn(f"[bold]{escape(label)}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled or not console.is_terminal,
        )
        self._task = self._progress.add_task(label, total=total, stats="")
        self.visible = not self._progress.disable

    def update(self, stats: str) -> None:
        """Advance by one item and show ``stats``."""
        self._progress.update(self._task, advance=1, stats=stats)

    def __enter__(self) -> StatsProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()


class RolloutProgress(StatsProgress):
    """Rollout progress: success rate, mean reward and errors so far."""

    def __init__(self, total: int, env_id: str, agent: str, enabled: bool = True) -> None:
        super().__init__(total, f"{env_id} · {agent}", enabled)
        self.done = self.passed = self.errors = 0
        self.reward = 0.0

    def advance(self, trajectory: Trajectory) -> None:
        """Count one finished episode."""
        self.done += 1
        self.passed += trajectory.passed
        self.reward += trajectory.reward
        self.errors += trajectory.status not in ("ok", "truncated")
        if not self.visible:
            return
        stats = f"success {self.passed / self.done:.0%} · reward {self.reward / self.done:.2f}"
        if self.errors:
            stats += f" · [red]{self.errors} errors[/]"
        self.update(stats)
