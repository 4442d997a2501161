"""``agentgym serve``: an env server over HTTP, in worker processes or Docker containers."""

from __future__ import annotations

from typing import Annotated

import typer

from agentgym.core.errors import ConfigError


def _patterns(envs: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for item in envs or []:
        out.extend(p.strip() for p in item.split(",") if p.strip())
    return tuple(out)


def serve_command(
    host: Annotated[str, typer.Option(help="Address to bind (keep 127.0.0.1 unless behind a proxy).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8000,
    envs: Annotated[
        list[str] | None,
        typer.Option("--envs", help="Env id globs to serve, e.g. 'puzzles/*' (repeatable; default all)."),
    ] = None,
    max_sessions: Annotated[int, typer.Option(help="Sessions held at once; beyond it: 503.")] = 1024,
    workers: Annotated[int, typer.Option(help="Worker processes hosting sessions (0: one per CPU).")] = 0,
    session_ttl: Annotated[float, typer.Option(help="Seconds an idle session lives.")] = 300.0,
    call_timeout: Annotated[float, typer.Option(help="Seconds one reset/step/... call may take.")] = 60.0,
    imports: Annotated[
        list[str] | None, typer.Option("--import", help="Module registering extra envs (repeatable).")
    ] = None,
    docker: Annotated[
        bool, typer.Option("--docker", help="Run the env servers in Docker containers.")
    ] = False,
    image: Annotated[
        str | None, typer.Option(help="Image for --docker (default: built from this checkout).")
    ] = None,
    replicas: Annotated[int, typer.Option(help="Containers to run with --docker.")] = 2,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    protocol: Annotated[
        str,
        typer.Option(help="Wire protocol: 'agentgym' (this server's) or 'openenv' (OpenEnv's, WebSocket)."),
    ] = "agentgym",
    env: Annotated[
        str | None,
        typer.Option("--env", help="One env id to serve (openenv: at the root, as OpenEnv servers do)."),
    ] = None,
    idle_timeout: Annotated[
        float | None, typer.Option(help="Seconds an idle session lives (default: --session-ttl).")
    ] = None,
) -> None:
    """Serve environments over HTTP: sessions, reset, step, tools; /health, /metrics, /docs.

    Sessions live in worker processes: a step that runs past --call-timeout gets its worker
    restarted (the call answers 504, that worker's sessions are lost), a crashed worker is
    replaced. With --docker the same server runs in containers and this process fronts them.

    With --protocol openenv the envs speak OpenEnv's protocol (episodes on the /ws WebSocket)
    through OpenEnv's own server: --env ID at the root, else every id under /<family>/<name>.

    Example: agentgym serve --envs 'puzzles/*' --port 8000 --max-sessions 512
    Example: agentgym serve --protocol openenv --env puzzles/maze-v0 --port 8000
    """
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be in 1..65535, got {port}")
    if protocol not in ("agentgym", "openenv"):
        raise ConfigError(f"--protocol must be 'agentgym' or 'openenv', got {protocol!r}")
    if idle_timeout is not None:
        session_ttl = idle_timeout
    if protocol == "openenv":
        _serve_openenv(
            host, port, env, _patterns(envs), max_sessions, session_ttl, call_timeout, docker, log_level
        )
        return
    if env is not None:
        envs = [*(envs or []), env]
    from agentgym.server.state import ServerConfig

    config = ServerConfig(
        host=host,
        port=port,
        env_patterns=_patterns(envs),
        max_sessions=max_sessions,
        workers=workers,
        session_ttl_s=session_ttl,
        call_timeout_s=call_timeout,
        imports=tuple(imports or ()),
    )
    config.validate()
    if docker:
        from agentgym.server.docker_fleet import serve_fleet

        serve_fleet(config, image=image, replicas=replicas, log_level=log_level)
        return
    if image is not None:
        raise ConfigError("--image applies with --docker only")
    from agentgym.server.run import reexec_with_system_malloc, serve

    reexec_with_system_malloc()
    typer.echo(f"agentgym env server on http://{host}:{port} (docs: /docs, metrics: /metrics)", err=True)
    serve(config, log_level=log_level)


def _serve_openenv(
    host: str,
    port: int,
    env: str | None,
    patterns: tuple[str, ...],
    max_sessions: int,
    idle_timeout: float,
    call_timeout: float,
    docker: bool,
    log_level: str,
) -> None:
    """``--protocol openenv``: OpenEnv's server (its WebSocket episodes) in front of the envs."""
    if docker:
        raise ConfigError("--docker applies to --protocol agentgym only")
    try:
        from agentgym.integrations.openenv_app import serve_openenv
    except ImportError as exc:
        raise ConfigError(
            f"--protocol openenv needs OpenEnv: pip install 'agentgym[openenv]' ({exc})"
        ) from exc

    where = f"http://{host}:{port}" + ("" if env else "/<family>/<name>")
    typer.echo(f"OpenEnv server on {where} (WebSocket /ws, /schema, /health)", err=True)
    serve_openenv(
        env,
        host=host,
        port=port,
        patterns=patterns,
        max_sessions=max_sessions,
        idle_timeout_s=idle_timeout,
        call_timeout_s=call_timeout,
        log_level=log_level,
    )
