"""Run an env server under uvicorn (uvloop and httptools when installed)."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

from agentgym.server.app import create_app
from agentgym.server.state import ServerConfig

__all__ = ["create_app", "serve", "uvicorn_config"]

#: Seconds an idle HTTP connection stays open on the server.
KEEP_ALIVE_S = 5


def uvicorn_config(config: ServerConfig, app: Any = None, log_level: str = "warning") -> Any:
    """A uvicorn Config for ``config``: the fastest event loop and HTTP parser installed."""
    import uvicorn

    return uvicorn.Config(
        app if app is not None else create_app(config),
        host=config.host,
        port=config.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        log_level=log_level,
        access_log=False,
        # Above the client's keepalive_s (3 s), and short: each response arms a keep-alive timer
        # that holds its connection until it fires, so after a burst of thousands of connections
        # a long timeout (it was the session TTL, 300 s) kept their memory for that long.
        timeout_keep_alive=KEEP_ALIVE_S,
        backlog=4096,
        lifespan="on",
    )


#: Set to 1 to keep CPython's small-object allocator in the server's front process.
KEEP_PYMALLOC_ENV = "AGENTGYM_SERVER_PYMALLOC"


def reexec_with_system_malloc() -> None:
    """Restart this process with ``PYTHONMALLOC=malloc`` unless it has it (or opted out).

    The front process answers bursts of thousands of connections; CPython's small-object arenas
    stay pinned by a few long-lived objects afterwards, so its memory never returns after an
    overload (+32 MB measured at 4x the default capacity). With the system allocator the reaper's
    ``malloc_trim`` hands the freed heap back to the OS. The variable must be set before the
    interpreter starts, hence the exec (same pid, same arguments).
    """
    if os.environ.get("PYTHONMALLOC") or os.environ.get(KEEP_PYMALLOC_ENV) == "1":
        return
    env = {**os.environ, "PYTHONMALLOC": "malloc"}
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def serve(config: ServerConfig, log_level: str = "warning") -> None:
    """Serve until interrupted (workers are stopped and their sessions closed on exit)."""
    import uvicorn

    config.validate()
    uvicorn.Server(uvicorn_config(config, log_level=log_level)).run()
