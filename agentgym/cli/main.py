"""The ``agentgym`` command line: list, run, show, check, demo.

Errors are one clear line on stderr with exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentgym.cli import eval_cmd, generate_cmd, run_cmd, show_cmd, train_cmd
from agentgym.cli.openenv_cmd import openenv_app
from agentgym.cli.sandbox_cmd import sandbox_app
from agentgym.cli.serve_cmd import serve_command
from agentgym.cli.verifiers_cmd import verifiers_app
from agentgym.core.errors import AgentGymError

app = typer.Typer(
    name="agentgym",
    help=(
        "AgentGym: multi-turn, verifiable environments for LLM agents.\n\n"
        "Typical session:\n\n"
        "  agentgym list                                   # what envs exist\n\n"
        "  agentgym run puzzles/sat-v0 --agent oracle --episodes 20 --out runs/sat\n\n"
        "  agentgym show runs/sat                          # read an episode\n\n"
        "  agentgym check puzzles/sat-v0                   # test an env against the contract\n\n"
        "  agentgym eval --suite demo --agent oracle --agent bundled --out runs/eval  # report"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command("list")
def list_command(
    family: Annotated[str | None, typer.Option("--family", "-f", help="Only envs of this family.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List registered environments (built-in and from installed plugins)."""
    from agentgym.registry import registry

    specs = registry.specs(family)
    if as_json:
        rows = [
            {
                "id": s.id,
                "family": s.family,
                "max_turns": s.max_turns,
                "extras": list(s.extras),
                "system": list(s.system),
                "ready": not s.requirement_problems(),
                "description": s.description,
            }
            for s in specs
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(specs)} environments")
    for col in ("id", "max turns", "needs", "description"):
        table.add_column(col)
    for s in specs:
        needs = escape(", ".join([*(f"[{x}]" for x in s.extras), *s.system]) or "-")
        if s.requirement_problems():
            needs = f"[red]{needs} (missing)[/]"
        table.add_row(s.id, str(s.max_turns or "-"), needs, s.description)
    console.print(table)
    for name, err in registry.plugin_errors.items():
        console.print(f"[yellow]plugin {name!r} failed to load: {err}[/]")


@app.command("check")
def check_command(
    env_id: Annotated[str, typer.Argument(help="Registered env id, e.g. puzzles/sat-v0.")],
    seed: Annotated[int, typer.Option(help="Seed for the determinism runs.")] = 0,
) -> None:
    """Check an env against the contract: determinism, malformed actions, close, pickle/fork."""
    from agentgym.checker import check_env

    report = check_env(env_id, seed=seed, raise_on_failure=False)
    table = Table(title=f"check_env {env_id}")
    table.add_column("check")
    table.add_column("result")
    for r in report.results:
        table.add_row(r.name, "[green]pass[/]" if r.passed else f"[red]FAIL[/] {r.message}")
    console.print(table)
    if not report.passed:
        raise typer.Exit(1)


app.command("run")(run_cmd.run_command)
app.command("demo")(run_cmd.demo_command)
app.command("show")(show_cmd.show_command)
app.command("generate")(generate_cmd.generate_command)
app.command("eval")(eval_cmd.eval_command)
app.command("train")(train_cmd.train_command)
app.command("export")(train_cmd.export_command)
app.command("serve")(serve_command)
app.add_typer(verifiers_app, name="verifiers")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(openenv_app, name="openenv")


def _add_family_commands() -> None:
    """The families' own sub-commands (``agentgym gui ...``), as each family registered them."""
    from agentgym.core.loader import load_entry_point
    from agentgym.registry import registry

    taken = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    for name, entry in registry.commands().items():
        if name in taken:
            raise AgentGymError(f"command {name!r} registered by a family clashes with a built-in one")
        app.add_typer(load_entry_point(entry, f"command {name!r}"), name=name)


_add_family_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``agentgym`` script: one-line errors with exit code 2 unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = app(args=args, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        sys.exit(130)
    except (AgentGymError, ValueError, OSError, ImportError) as exc:
        if debug:
            raise
        Console(stderr=True, highlight=False).print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors and aborts
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        if debug:
            raise
        Console(stderr=True, highlight=False).print(
            f"[red]error:[/] {type(exc).__name__}: {escape(str(exc))} (rerun with --debug for the traceback)",
            soft_wrap=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
