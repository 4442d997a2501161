"""``agentgym sandbox``: run one command in a sandbox, for scripting and debugging.

``agentgym sandbox exec [--backend local|docker|unsafe-process] [--timeout S] [--memory MB]
[--disk SIZE] [--network] -- CMD ...`` prints the ExecResult as one JSON object and exits 0 whenever the
sandbox ran (the command's own status is in ``exit_code``, ``timed_out``, ``oom`` and
``disk_full``). ``--disk`` takes sizes such as ``512M`` or ``1G`` (the work dir's quota). A backend
that cannot run here is one clear error line with exit code 2 (from the main entry point).
Other sandbox commands (``build-image``) register on :data:`sandbox_app` too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agentgym.cli import sandbox_docker_cmd
from agentgym.core.errors import SandboxError

sandbox_app = typer.Typer(
    name="sandbox",
    help=(
        "Sandboxes for untrusted code: run a command isolated, with hard limits.\n\n"
        "  agentgym sandbox exec -- python3 -c 'print(1)'\n\n"
        "  agentgym sandbox exec --timeout 5 --memory 256 -- sh -c 'ulimit -a'\n\n"
        "  agentgym sandbox exec --disk 256M -- sh -c 'df -h /work'\n\n"
        "  agentgym sandbox exec --backend unsafe-process -- true   # tests only: no isolation"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@sandbox_app.callback()
def _sandbox_group() -> None:
    """Sandboxes for untrusted code (a group even while it has a single command)."""


def _parse_env(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict; SandboxError on a pair without ``=``."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SandboxError(f"--env expects KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


@sandbox_app.command("exec")
def exec_command(
    cmd: Annotated[list[str], typer.Argument(help="The command and its arguments (after `--`).")],
    backend: Annotated[
        str,
        typer.Option("--backend", "-b", help="local (bubblewrap), docker, unsafe-process (tests)."),
    ] = "local",
    timeout: Annotated[float, typer.Option("--timeout", "-t", help="Wall-clock limit in seconds.")] = 30.0,
    memory: Annotated[int | None, typer.Option("--memory", "-m", help="Memory limit in MB.")] = None,
    cpu: Annotated[int | None, typer.Option("--cpu", help="CPU-time limit in seconds.")] = None,
    processes: Annotated[int | None, typer.Option("--processes", help="Process limit.")] = None,
    disk: Annotated[
        str | None, typer.Option("--disk", help="Work dir quota, e.g. 512M or 1G (default 1G).")
    ] = None,
    network: Annotated[bool, typer.Option("--network", help="Allow network access.")] = False,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE for the command (repeatable).")
    ] = None,
    indent: Annotated[int | None, typer.Option("--indent", help="Pretty-print the JSON.")] = None,
) -> None:
    """Run CMD in a fresh sandbox and print the ExecResult as JSON."""
    import dataclasses
    import json

    from agentgym.sandbox.base import Limits, parse_size_mb
    from agentgym.sandbox.factory import make_sandbox

    disk_mb = parse_size_mb(disk) if disk is not None else None
    overrides = {"memory_mb": memory, "cpu_seconds": cpu, "processes": processes, "disk_mb": disk_mb}
    limits = dataclasses.replace(
        Limits(network=network), **{k: v for k, v in overrides.items() if v is not None}
    )
    environment = _parse_env(env or [])
    with make_sandbox(backend, limits) as sandbox:
        result = sandbox.exec(cmd, timeout=timeout, env=environment)
    typer.echo(json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=indent))


# Further sandbox commands register on ``sandbox_app`` here.
sandbox_app.command("build-image")(sandbox_docker_cmd.build_image_command)
