"""``agentgym eval``: run agents on a frozen held-out suite and write a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentgym.core.errors import ConfigError

console = Console()


def agent_options(
    spec: str,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The constructor options of agent ``spec`` from the CLI's model flags (None: agent default)."""
    options: dict[str, Any] = {}
    if spec.startswith("openai:"):
        options.update(temperature=temperature, max_tokens=max_tokens, base_url=base_url)
    elif spec.startswith(("hf:", "bundled")):
        options.update(temperature=temperature, max_new_tokens=max_tokens)
    return {k: v for k, v in options.items() if v is not None}


def print_suites() -> None:
    """The table behind ``agentgym eval --list-suites``."""
    from agentgym.eval.suites import eval_suites

    table = Table(title="eval suites")
    for col in ("name", "envs", "tasks", "families", "description"):
        table.add_column(col, justify="right" if col in ("envs", "tasks") else "left")
    for name, suite in eval_suites().items():
        n_tasks = sum(len(e.load_tasks()) for e in suite.entries)
        table.add_row(
            name, str(len(suite.entries)), str(n_tasks), ", ".join(suite.families), suite.description
        )
    console.print(table)
    console.print("A frozen suite id (agentgym eval --suite puzzles/sat@v1) is a one-generator suite too.")


def eval_command(
    suite: Annotated[
        str | None,
        typer.Option("--suite", "-s", help="Eval suite (see --list-suites) or a frozen suite id."),
    ] = None,
    agents: Annotated[
        list[str] | None,
        typer.Option("--agent", "-a", help="random | oracle | bundled | hf:PATH | openai:MODEL; repeatable."),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Samples per task (pass@k for k up to K).")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output dir (resumes an interrupted eval).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Agent calls in flight.")] = 8,
    seed: Annotated[int, typer.Option(help="Run seed: fixes every sampling seed.")] = 0,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint for openai:MODEL.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature for model agents.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Reply token budget for model agents.")] = None,
    turn_timeout: Annotated[float, typer.Option(help="Seconds an agent may take for one reply.")] = 300.0,
    episode_timeout: Annotated[float, typer.Option(help="Seconds one episode may take.")] = 3600.0,
    list_suites: Annotated[
        bool, typer.Option("--list-suites", help="List the eval suites and exit.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json instead of markdown.")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the progress bar.")] = False,
) -> None:
    """Evaluate agents on a suite's frozen held-out tasks; write DIR/report.html and results.json.

    Each agent runs every task k times; trajectories go to DIR/<agent>/<env>/trajectories.jsonl,
    so running the same command again after an interruption finishes the eval without redoing
    finished episodes. Tasks from the training split are refused.

    Example: agentgym eval --suite puzzles --agent oracle --agent openai:MODEL --k 4 --out runs/eval
    """
    if list_suites:
        print_suites()
        return
    if suite is None:
        raise ConfigError("give --suite NAME (agentgym eval --list-suites shows them)")
    if not agents:
        raise ConfigError("give at least one --agent")
    if base_url is not None and not any(a.startswith("openai:") for a in agents):
        raise ConfigError("--base-url applies to openai:MODEL agents only")
    from agentgym.eval.runner import run_eval

    out = out or Path("runs") / f"eval-{suite.replace('/', '_').replace('@', '_')}"
    options = {a: agent_options(a, temperature, max_tokens, base_url) for a in agents}
    try:
        result = run_eval(
            suite,
            agents,
            out,
            k=k,
            concurrency=concurrency,
            seed=seed,
            agent_options=options,
            turn_timeout_s=turn_timeout,
            episode_timeout_s=episode_timeout,
            progress=not no_progress,
        )
    except KeyboardInterrupt:
        console.print(
            f"[yellow]interrupted: finished episodes are stored in {out}; run the same command again[/]"
        )
        raise
    if as_json:
        typer.echo(json.dumps(result.results, indent=2))
        return
    typer.echo(result.markdown)  # raw markdown: pasteable into an issue or a PR
    console.print(f"report: {result.report_path}   results: {out / 'results.json'}")
