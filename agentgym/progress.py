"""A rich progress bar for rollouts: done/total, success rate, mean reward, errors, rate."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from agentgym.trajectory import Trajectory


class RolloutProgress:
    """Context manager that shows a progress bar when enabled and stderr is a terminal."""

    def __init__(self, total: int, env_id: str, agent: str, enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.passed = 0
        self.reward = 0.0
        self.errors = 0
        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn(f"[bold]{env_id}[/] · {agent}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled or not console.is_terminal,
            transient=False,
        )
        self._task = self._progress.add_task("rollouts", total=total, stats="")
        self._enabled = not self._progress.disable

    def advance(self, trajectory: Trajectory) -> None:
        """Count one finished episode."""
        self.done += 1
        self.passed += trajectory.passed
        self.reward += trajectory.reward
        self.errors += trajectory.status not in ("ok", "truncated")
        if not self._enabled:
            return
        stats = f"success {self.passed / self.done:.0%} · reward {self.reward / self.done:.2f}"
        if self.errors:
            stats += f" · [red]{self.errors} errors[/]"
        self._progress.update(self._task, advance=1, stats=stats)

    def __enter__(self) -> RolloutProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()
