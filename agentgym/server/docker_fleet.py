"""``agentgym serve --docker``: env servers in Docker containers behind one front server.

The front process starts ``replicas`` containers of the env-server image (each runs ``agentgym
serve`` on its own port, published on 127.0.0.1 only), waits for their ``/health``, and serves
the same HTTP API itself: a new session goes to the healthy container holding the fewest, and
every later call of that session is forwarded to it. Containers carry owner labels: those left by
a dead front process are removed at start (:func:`agentgym.sandbox.docker_owner.reap_leftovers`)
and this process removes its own on exit. A container that exits or stops answering health checks
is replaced; its sessions answer ``session_lost`` (410).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from agentgym.server.host import env_allowed, error_reply
from agentgym.server.state import ServerConfig

CONTAINER_PORT = 8000
LABEL_FLEET = "agentgym.fleet.index"
HEALTH_TIMEOUT_S = 180.0
#: Consecutive failed health checks after which a running container is replaced.
UNHEALTHY_AFTER = 3


@dataclass
class Backend:
    """One env-server container."""

    index: int
    container: Any = None
    url: str | None = None
    generation: int = 0
    healthy: bool = False
    sessions: set[str] = field(default_factory=set)
    restarts: int = 0
    failures: int = 0


class Fleet:
    """The containers, their health, and the session -> container map of one front server."""

    def __init__(self, config: ServerConfig, image: str, replicas: int, docker: Any) -> None:
        self.config, self.image, self.docker = config, image, docker
        self.backends = [Backend(i) for i in range(max(1, replicas))]
        self.routes: dict[str, tuple[Backend, int, str]] = {}
        self.last_used: dict[str, float] = {}
        self._monitor: asyncio.Task[None] | None = None
        self._http: Any = None

    # ----- containers ----------------------------------------------------------------------------
    def _command(self) -> list[str]:
        c = self.config
        per_replica = max(1, c.max_sessions // len(self.backends))
        cmd = ["python3", "-m", "agentgym.cli.main", "serve", "--host", "0.0.0.0"]
        cmd += ["--port", str(CONTAINER_PORT), "--max-sessions", str(per_replica)]
        cmd += ["--session-ttl", str(c.session_ttl_s), "--call-timeout", str(c.call_timeout_s)]
        cmd += ["--workers", str(c.workers or 1)]
        for pattern in c.env_patterns:
            cmd += ["--envs", pattern]
        return cmd

    def _start_container(self, backend: Backend) -> None:
        from agentgym.sandbox.docker_owner import owner_labels

        labels = {**owner_labels("env-server"), LABEL_FLEET: str(backend.index)}
        container = self.docker.containers.run(
            self.image,
            self._command(),
            detach=True,
            labels=labels,
            ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", None)},
            environment={"PYTHONUNBUFFERED": "1"},
            init=True,
        )
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"][f"{CONTAINER_PORT}/tcp"][0]["HostPort"]
        backend.container, backend.url = container, f"http://127.0.0.1:{port}"
        backend.generation += 1
        backend.healthy, backend.failures = False, 0

    def _remove_container(self, backend: Backend) -> None:
        container, backend.container = backend.container, None
        backend.healthy = False
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)

    async def _wait_healthy(self, backend: Backend, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self._check(backend):
                backend.healthy = True
                return
            await asyncio.sleep(0.25)
        logs = ""
        with contextlib.suppress(Exception):
            logs = backend.container.logs(tail=20).decode("utf-8", "replace")
        raise RuntimeError(f"env-server container {backend.index} did not become healthy:\n{logs}")

    async def _check(self, backend: Backend) -> bool:
        if backend.url is None:
            return False
        try:
            resp = await self._http.get(backend.url + "/health", timeout=5.0)
            return resp.status_code == 200
        except Exception:
            return False

    async def _replace(self, backend: Backend) -> None:
        for sid in list(backend.sessions):
            self.routes.pop(sid, None)
        backend.sessions.clear()
        backend.restarts += 1
        await asyncio.to_thread(self._remove_container, backend)
        await asyncio.to_thread(self._start_container, backend)
        await self._wait_healthy(backend)

    async def _monitor_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for backend in self.backends:
                running = await asyncio.to_thread(self._running, backend)
                ok = running and await self._check(backend)
                backend.failures = 0 if ok else backend.failures + 1
                backend.healthy = ok
                if not running or backend.failures >= UNHEALTHY_AFTER:
                    with contextlib.suppress(Exception):
                        await self._replace(backend)
            self._forget_idle()

    def _running(self, backend: Backend) -> bool:
        try:
            backend.container.reload()
            return backend.container.status == "running"
        except Exception:
            return False

    def _forget_idle(self) -> None:
        horizon = time.monotonic() - 2 * self.config.session_ttl_s
        for sid, used in list(self.last_used.items()):
            if used < horizon:
                self._drop(sid)

    def _drop(self, sid: str) -> None:
        self.last_used.pop(sid, None)
        route = self.routes.pop(sid, None)
        if route is not None:
            route[0].sessions.discard(sid)

    async def start(self) -> None:
        """Reap leftovers of dead front servers, start the containers, wait for their health."""
        import httpx

        from agentgym.sandbox.docker_owner import reap_leftovers

        self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.config.create_timeout_s + 30, connect=5))
        await asyncio.to_thread(reap_leftovers, self.docker)
        for backend in self.backends:
            await asyncio.to_thread(self._start_container, backend)
        await asyncio.gather(*(self._wait_healthy(b) for b in self.backends))
        self._monitor = asyncio.get_running_loop().create_task(self._monitor_forever())

    async def stop(self) -> None:
        """Stop monitoring and remove every container of this fleet."""
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        await asyncio.gather(*(asyncio.to_thread(self._remove_container, b) for b in self.backends))
        if self._http is not None:
            await self._http.aclose()

    # ----- forwarding ----------------------------------------------------------------------------
    async def forward(self, backend: Backend, method: str, path: str, body: bytes) -> tuple[int, bytes, Any]:
        """One call to a container; a connection failure reads as a lost session."""
        import httpx

        try:
            resp = await self._http.request(method, backend.url + path, content=body or None)
        except httpx.HTTPError as exc:
            backend.failures += 1
            status, out = error_reply("session_lost", f"env-server container {backend.index} failed: {exc}")
            return status, out, None
        return resp.status_code, resp.content, resp.headers.get("retry-after")

    async def create(self, env_id: str, body: bytes) -> tuple[int, bytes, Any]:
        """Open a session on the healthy container with the fewest sessions."""
        from agentgym.server import wire

        if not env_allowed(env_id, self.config.env_patterns):
            return (*error_reply("env_not_allowed", f"env {env_id!r} is not served here"), None)
        live = [b for b in self.backends if b.healthy]
        if not live:
            return (*error_reply("busy", "no env-server container is healthy", retry_after=1.0), "1")
        backend = min(live, key=lambda b: len(b.sessions))
        generation = backend.generation
        status, out, retry = await self.forward(backend, "POST", "/sessions", body)
        if status != 200:
            return status, out, retry
        data = wire.loads(out)
        sid = f"{backend.index}-{generation}-{data['session_id']}"
        self.routes[sid] = (backend, generation, data["session_id"])
        self.last_used[sid] = time.monotonic()
        backend.sessions.add(sid)
        data["session_id"] = sid
        return status, wire.dumps(data), None

    async def call(self, sid: str, method: str, op: str | None, body: bytes) -> tuple[int, bytes, Any]:
        """Forward one session call to its container."""
        route = self.routes.get(sid)
        if route is None:
            return (*error_reply("session_lost", f"no session {sid!r} (closed, idle or lost)"), None)
        backend, generation, remote = route
        if backend.generation != generation:
            self._drop(sid)
            return (*error_reply("session_lost", f"session {sid}: its container was replaced"), None)
        self.last_used[sid] = time.monotonic()
        path = f"/sessions/{remote}" + (f"/{op}" if op else "")
        status, out, retry = await self.forward(backend, method, path, body)
        if op is None or status in (404, 410):
            self._drop(sid)
        return status, out, retry

    async def metrics(self) -> dict[str, Any]:
        """Per container: url, health, sessions, restarts and the container's own metrics."""
        rows = []
        for b in self.backends:
            row: dict[str, Any] = {
                "index": b.index,
                "url": b.url,
                "healthy": b.healthy,
                "sessions": len(b.sessions),
                "restarts": b.restarts,
                "container": b.container.id[:12] if b.container is not None else None,
            }
            with contextlib.suppress(Exception):
                row["metrics"] = (await self._http.get(b.url + "/metrics", timeout=5.0)).json()
            rows.append(row)
        return {"sessions": len(self.routes), "backends": rows}


def create_fleet_app(config: ServerConfig, image: str, replicas: int, docker: Any) -> FastAPI:
    """The front server's FastAPI app (the same session API as :func:`create_app`)."""
    from contextlib import asynccontextmanager

    from agentgym.server import wire

    fleet = Fleet(config, image, replicas, docker)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await fleet.start()
        try:
            yield
        finally:
            await fleet.stop()

    app = FastAPI(title="AgentGym env server (Docker fleet)", version="1", lifespan=lifespan)
    app.state.fleet = fleet

    def respond(reply: tuple[int, bytes, Any]) -> Response:
        status, body, retry = reply
        headers = {"Retry-After": str(retry)} if retry else None
        return Response(body, status, media_type="application/json", headers=headers)

    @app.get("/health")
    async def health() -> Response:
        live = sum(b.healthy for b in fleet.backends)
        body = {"status": "ok" if live else "down", "containers_healthy": live, "sessions": len(fleet.routes)}
        return Response(wire.dumps(body), 200 if live else 503, media_type="application/json")

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(wire.dumps(await fleet.metrics()), media_type="application/json")

    @app.post("/sessions")
    async def create(request: Request) -> Response:
        body = await request.body()
        try:
            payload = wire.loads(body)
        except ValueError as exc:
            return respond((*error_reply("bad_request", str(exc)), None))
        env_id = payload.get("env_id") if isinstance(payload, dict) else None
        if not isinstance(env_id, str):
            return respond(
                (*error_reply("bad_request", "create takes {'env_id': str, 'kwargs': object}"), None)
            )
        return respond(await fleet.create(env_id, body))

    @app.api_route("/sessions/{sid}/{op}", methods=["GET", "POST"])
    async def session_op(sid: str, op: str, request: Request) -> Response:
        return respond(await fleet.call(sid, request.method, op, await request.body()))

    @app.delete("/sessions/{sid}")
    async def close(sid: str) -> Response:
        return respond(await fleet.call(sid, "DELETE", None, b""))

    return app


def serve_fleet(config: ServerConfig, image: str | None, replicas: int, log_level: str = "warning") -> None:
    """Build (or take) the image, then serve the fleet's front server until interrupted."""
    import sys

    import uvicorn

    from agentgym.core.errors import ConfigError
    from agentgym.sandbox.engine import docker_client, ensure_engine
    from agentgym.server.docker_image import family_extras, server_image
    from agentgym.server.run import uvicorn_config

    if replicas < 1:
        raise ConfigError(f"--replicas must be >= 1, got {replicas}")
    if config.imports:
        raise ConfigError("--import is not available with --docker (the image holds the envs it serves)")
    ensure_engine(start=True)
    docker = docker_client()
    if image is None:
        say = lambda msg: print(f"[image] {msg}", file=sys.stderr, flush=True)  # noqa: E731
        image = server_image(family_extras(config.env_patterns), client=docker, log=say)
    print(f"agentgym env server fleet: {replicas} containers of {image}", file=sys.stderr, flush=True)
    app = create_fleet_app(config, image, replicas, docker)
    uvicorn.Server(uvicorn_config(config, app=app, log_level=log_level)).run()
