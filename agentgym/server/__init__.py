"""The env server: environments in their own processes (or containers), behind HTTP.

``agentgym serve`` runs :func:`create_app` under uvicorn; :class:`RemoteEnv` is the client side,
an :class:`~agentgym.core.env.Env` whose episodes run on a server. FastAPI, uvicorn and httpx are
the ``server`` extra, imported only when these names are used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RemoteEnv", "ServerClient", "ServerConfig", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("RemoteEnv", "ServerClient"):
        from agentgym.server import client

        return getattr(client, name)
    if name == "ServerConfig":
        from agentgym.server.state import ServerConfig

        return ServerConfig
    if name in ("create_app", "serve"):
        from agentgym.server import run

        return getattr(run, name)
    raise AttributeError(name)
