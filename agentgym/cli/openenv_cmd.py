"""``agentgym openenv``: package AgentGym envs for OpenEnv (``openenv.yaml`` and its app).

``agentgym openenv manifest ENV_ID [--out DIR] [--port N]`` writes ``DIR/openenv.yaml`` and the app
it names (``DIR/server/app.py``); serve it with ``cd DIR && uvicorn server.app:app`` or serve any
env directly with ``agentgym serve --protocol openenv --env ENV_ID``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

openenv_app = typer.Typer(
    name="openenv",
    help=(
        "OpenEnv packaging for AgentGym envs (pip install 'agentgym[openenv]').\n\n"
        "  agentgym openenv manifest puzzles/maze-v0 --out build/maze-openenv\n\n"
        "  agentgym serve --protocol openenv --env puzzles/maze-v0 --port 8000"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@openenv_app.callback()
def _openenv_group() -> None:
    """OpenEnv packaging (a group even while it has a single command)."""


@openenv_app.command("manifest")
def manifest_command(
    env_id: Annotated[str, typer.Argument(help="Registered env id, e.g. puzzles/maze-v0.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write openenv.yaml and server/app.py in.")
    ] = Path("."),
    port: Annotated[int, typer.Option(help="Port written in the manifest.")] = 8000,
    max_sessions: Annotated[int, typer.Option(help="Sessions the written app holds at once.")] = 64,
    idle_timeout: Annotated[
        float, typer.Option(help="Seconds an idle session lives in the written app.")
    ] = 300.0,
) -> None:
    """Write ENV_ID's openenv.yaml (spec_version 1, runtime fastapi, app server.app:app) and its app."""
    from agentgym.core.errors import ConfigError
    from agentgym.integrations.openenv_manifest import write_manifest

    if not 0 < port < 65536:
        raise ConfigError(f"--port must be in 1..65535, got {port}")
    if idle_timeout <= 0:
        raise ConfigError(f"--idle-timeout must be > 0, got {idle_timeout}")
    path = write_manifest(env_id, out, port=port, max_sessions=max_sessions, idle_timeout_s=idle_timeout)
    typer.echo(str(path))
