"""Run an env server under uvicorn (uvloop and httptools when installed)."""

from __future__ import annotations

import importlib.util
from typing import Any

from agentgym.server.app import create_app
from agentgym.server.state import ServerConfig

__all__ = ["create_app", "serve", "uvicorn_config"]


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
        timeout_keep_alive=max(5, int(config.session_ttl_s)),
        backlog=4096,
        lifespan="on",
    )


def serve(config: ServerConfig, log_level: str = "warning") -> None:
    """Serve until interrupted (workers are stopped and their sessions closed on exit)."""
    import uvicorn

    config.validate()
    uvicorn.Server(uvicorn_config(config, log_level=log_level)).run()
