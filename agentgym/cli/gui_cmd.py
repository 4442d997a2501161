"""``agentgym gui``: MiniWoB++ pages in headless Chromium (tasks, demo, action-prediction export).

``agentgym gui tasks`` lists the registered MiniWoB++ envs and the scripted solvers;
``agentgym gui demo click-checkboxes --episodes 5`` plays the solver and prints each action and
reward; ``agentgym gui export-actions --n 200 --out actions.jsonl`` renders single-step action
prediction tasks (screenshot + instruction -> one action) from live pages (.jsonl or .parquet).
"""

from __future__ import annotations

from typing import Annotated

import typer

gui_app = typer.Typer(
    name="gui",
    help=(
        "GUI envs: MiniWoB++ pages in headless Chromium, UI-R1 style action prediction.\n\n"
        "  agentgym gui tasks\n\n"
        "  agentgym gui demo click-checkboxes --episodes 3\n\n"
        "  agentgym gui export-actions --n 200 --out actions.jsonl"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@gui_app.command("tasks")
def tasks_command() -> None:
    """List the registered MiniWoB++ tasks (a * marks those with a scripted solver)."""
    from agentgym.environments.gui.oracles import ORACLES
    from agentgym.environments.gui.registration import MINIWOB_EXCLUDED, MINIWOB_TASKS

    for task in MINIWOB_TASKS:
        typer.echo(f"gui/miniwob-{task}-v0{' *' if task in ORACLES else ''}")
    typer.echo(f"{len(MINIWOB_TASKS)} registered; {len(MINIWOB_EXCLUDED)} pages left out (see README).")


@gui_app.command("demo")
def demo_command(
    task: Annotated[str, typer.Argument(help="MiniWoB++ task with a scripted solver, e.g. click-button.")],
    episodes: Annotated[int, typer.Option(help="Episodes to play.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the first episode.")] = 0,
) -> None:
    """Play the scripted solver on a MiniWoB++ task and print its actions and rewards."""
    from agentgym.core.errors import ConfigError
    from agentgym.environments.gui.miniwob import MiniWoBEnv
    from agentgym.environments.gui.oracles import ORACLES

    if task not in ORACLES:
        raise ConfigError(f"no scripted solver for {task!r}; solvers: {', '.join(sorted(ORACLES))}")
    env = MiniWoBEnv(task, observation="dom")
    try:
        for episode in range(episodes):
            env.reset(seed=seed + episode)
            typer.echo(f"episode {episode} (seed {seed + episode}): {env.current_instruction}")
            for _ in range(20):
                action = env.oracle_action()
                _, reward, terminated, truncated, _ = env.step(action)
                typer.echo(f"  {action}")
                if terminated or truncated:
                    break
            typer.echo(f"  reward {reward:g}")
    finally:
        env.close()


@gui_app.command("export-actions")
def export_actions_command(
    out: Annotated[str, typer.Option("--out", help="Output file (.jsonl or .parquet).")],
    n: Annotated[int, typer.Option("--n", help="Tasks to render.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the task draws.")] = 0,
) -> None:
    """Render action-prediction tasks from live MiniWoB++ pages and write them."""
    from agentgym.environments.gui.action_prediction import render_miniwob_tasks
    from agentgym.tasks.io import write_tasks

    count = write_tasks(render_miniwob_tasks(n, seed), out)
    typer.echo(f"wrote {count} tasks to {out}")
