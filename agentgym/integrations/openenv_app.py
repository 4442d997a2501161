"""``agentgym serve --protocol openenv``: AgentGym envs behind OpenEnv's own server (``create_app``).

One env id is served at the root, as OpenEnv servers are (``/ws``, ``/reset``, ``/step``, ``/state``,
``/schema``, ``/metadata``, ``/health``, and the task API under ``/<name>/...`` where ``<name>`` is
the id with ``/`` as ``-``). Without an id, every registered id (or those matching ``patterns``)
is served with ``/<family>/<name>`` as its base URL, plus ``/health`` and ``/envs`` at the root.

Sessions: each WebSocket is one session; at most ``max_sessions`` envs live at once across the app
(one more is refused at once: an error frame with code ``CAPACITY_REACHED`` for a single id, HTTP
503 for ``/reset``); a session idle past ``idle_timeout_s`` is closed and its slot freed (always
set: with OpenEnv's default, no timeout, an abandoned session holds its slot forever).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.types import ConcurrencyConfig

from agentgym.core.errors import AgentGymError, ConfigError
from agentgym.integrations.openenv_env import AgentGymEnvironment, CapacityError, SessionBudget
from agentgym.integrations.openenv_models import ChatAction, ChatObservation, ChatState

#: Seconds an idle session lives unless told otherwise (OpenEnv's default is forever).
DEFAULT_IDLE_TIMEOUT_S = 300.0
#: Seconds one reset or step may take unless told otherwise.
DEFAULT_CALL_TIMEOUT_S = 120.0
DEFAULT_MAX_SESSIONS = 64


def env_name(env_id: str) -> str:
    """OpenEnv's name for an env id (its task routes are ``/<name>/splits`` ...): ``/`` as ``-``."""
    return env_id.replace("/", "-")


def create_openenv_app(
    env_id: str | None = None,
    *,
    patterns: Sequence[str] = (),
    env_kwargs: Mapping[str, Any] | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
) -> FastAPI:
    """An OpenEnv app serving ``env_id`` at the root, or every matching id under ``/<id>``."""
    from agentgym.registry import registry

    if not idle_timeout_s or idle_timeout_s <= 0:
        raise ConfigError(f"idle timeout must be > 0 seconds, got {idle_timeout_s!r}")
    if call_timeout_s <= 0:
        raise ConfigError(f"call timeout must be > 0 seconds, got {call_timeout_s!r}")
    budget = SessionBudget(max_sessions)

    def one(eid: str) -> FastAPI:
        return _env_app(eid, env_kwargs, budget, max_sessions, idle_timeout_s, call_timeout_s)

    if env_id is not None:
        registry.spec(env_id)  # unknown ids fail here, with "did you mean"
        return one(env_id)
    ids = [i for i in registry.ids() if not patterns or any(fnmatch.fnmatchcase(i, p) for p in patterns)]
    if not ids:
        raise ConfigError(f"no registered env matches {list(patterns)}")
    apps = {i: one(i) for i in ids}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Starlette runs no lifespan of a mounted app: run each one's (OpenEnv's idle reaper) here.
        async with contextlib.AsyncExitStack() as stack:
            for sub in apps.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    root = FastAPI(title="AgentGym envs over OpenEnv", lifespan=lifespan)

    @root.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "healthy",
            "envs": len(apps),
            "live_envs": budget.used,
            "max_sessions": budget.limit,
        }

    @root.get("/envs")
    async def envs() -> list[dict[str, str]]:
        return [{"id": i, "base_url": f"/{i}", "name": env_name(i)} for i in apps]

    for i, sub in apps.items():
        root.mount(f"/{i}", sub)
    return root


def _env_app(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    budget: SessionBudget,
    max_sessions: int,
    idle_timeout_s: float,
    call_timeout_s: float,
) -> FastAPI:
    factory = functools.partial(
        AgentGymEnvironment, env_id, env_kwargs, budget=budget, call_timeout_s=call_timeout_s
    )
    app = create_app(
        factory,
        ChatAction,
        ChatObservation,
        env_name=env_name(env_id),
        concurrency_config=ConcurrencyConfig(
            max_concurrent_envs=max_sessions, session_timeout=idle_timeout_s
        ),
        state_cls=ChatState,
    )
    app.add_exception_handler(CapacityError, _busy)
    app.add_exception_handler(AgentGymError, _bad_request)
    return app


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": str(exc), "code": "CAPACITY_REACHED"}, status_code=503, headers={"Retry-After": "1"}
    )


async def _bad_request(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "code": type(exc).__name__}, status_code=400)


def serve_openenv(
    env_id: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    patterns: Sequence[str] = (),
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
    log_level: str = "warning",
) -> None:
    """Run the app with uvicorn until interrupted (WebSocket pings find vanished clients)."""
    import uvicorn

    app = create_openenv_app(
        env_id,
        patterns=patterns,
        max_sessions=max_sessions,
        idle_timeout_s=idle_timeout_s,
        call_timeout_s=call_timeout_s,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, ws_ping_interval=20.0, ws_ping_timeout=20.0)
