"""``agentgym show``: a readable transcript of one stored episode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.trajectory import Trajectory, TrajectoryStore

console = Console()
_STYLE = {"system": "dim", "user": "cyan", "assistant": "green", "tool": "magenta"}


def _render(m: Message, max_chars: int) -> Panel:
    body = m.text
    if m.images:
        body += f"\n[{len(m.images)} image(s)]"
    for call in m.tool_calls:
        body += f"\n→ {call.name}({call.arguments})"
    if len(body) > max_chars:
        body = body[:max_chars] + f"\n… ({len(body) - max_chars} more characters)"
    return Panel(Text(body), title=m.role, title_align="left", border_style=_STYLE.get(m.role, "white"))


def pick(trajectories: list[Trajectory], episode: str | None, index: int | None, failed: bool) -> Trajectory:
    """Choose the episode to show: by id, by position, the first failure, or the first episode."""
    if not trajectories:
        raise ConfigError("no episodes stored yet")
    if episode is not None:
        for t in trajectories:
            if t.episode_id == episode:
                return t
        raise ConfigError(
            f"no episode {episode!r} (stored: {', '.join(t.episode_id for t in trajectories[:5])}...)"
        )
    if failed:
        for t in trajectories:
            if not t.passed:
                return t
        raise ConfigError("every stored episode passed")
    position = index or 0
    if not -len(trajectories) <= position < len(trajectories):
        raise ConfigError(f"--index {position} is out of range (0..{len(trajectories) - 1})")
    return trajectories[position]


def show_command(
    run_dir: Annotated[Path, typer.Argument(help="A run dir (or its trajectories.jsonl).")],
    episode: Annotated[str | None, typer.Option("--episode", "-e", help="Episode id.")] = None,
    index: Annotated[int | None, typer.Option("--index", "-i", help="Episode position in the file.")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Show the first episode that did not pass.")
    ] = False,
    max_chars: Annotated[int, typer.Option(help="Cut messages longer than this.")] = 4000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw record.")] = False,
) -> None:
    """Print a readable transcript of one stored episode (default: the first)."""
    path = run_dir / TrajectoryStore.FILENAME if run_dir.is_dir() else run_dir
    if not path.exists():
        raise ConfigError(f"{path} does not exist; run `agentgym run ... --out {run_dir}` first")
    with TrajectoryStore(path) as store:
        chosen = pick(store.load(), episode, index, failed)
    if as_json:
        typer.echo(json.dumps(chosen.to_dict(), indent=2, ensure_ascii=False))
        return
    console.rule(
        f"{chosen.env_id} · {chosen.agent} · episode {chosen.episode_id} · task {str(chosen.task_id)[:12]}"
    )
    turn_of = {}
    for t in chosen.turns:
        turn_of[id(t.action)] = t
    for m in chosen.messages():
        console.print(_render(m, max_chars))
        turn = turn_of.get(id(m))
        if turn is not None:
            console.print(
                f"  [dim]turn {turn.index}: reward {turn.reward:g} · agent {turn.agent_s:.2f}s"
                f" · env {turn.env_s * 1000:.1f}ms[/]"
            )
    verdict = chosen.verdict.to_dict() if chosen.verdict is not None else {}
    console.rule(
        f"status {chosen.status} · reward {chosen.reward:g} · passed {chosen.passed} · "
        f"{len(chosen.turns)} turns · {chosen.duration_s:.2f}s"
    )
    if verdict:
        console.print(f"verdict: {json.dumps(verdict, ensure_ascii=False)}")
    if chosen.error:
        console.print(f"[red]error: {chosen.error}[/]")
