"""The env server's HTTP API (FastAPI): sessions, reset, step, tools, health and metrics.

Every error is typed JSON ``{"error": {"code", "message"}}`` with a matching status: 400 malformed
body (not JSON, nested too deeply, wrong types), 403 env not served, 404 unknown env or session,
405 wrong method (with ``Allow``), 409 call out of order (step before reset), 410 session lost, 413
body too large, 422 invalid env kwargs, 500 env failure, 503 busy (with ``Retry-After``), 504 call
timeout; each route declares its own in the OpenAPI schema. Request bodies are passed to the
worker as bytes and decoded there (bounded in size and depth), so the front process does little
besides moving bytes; a create beyond capacity is refused before its body is read.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentgym.server import wire
from agentgym.server.host import error_reply
from agentgym.server.state import Reply, ServerConfig, ServerState


class CreateRequest(BaseModel):
    """Body of ``POST /sessions``."""

    env_id: str = Field(description="Registered env id, e.g. puzzles/sat-v0")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Env constructor kwargs")


class ResetRequest(BaseModel):
    """Body of ``POST /sessions/{id}/reset``."""

    seed: int | None = None
    options: dict[str, Any] | None = Field(None, description="Reset options; a task as {'__task__': {...}}")


class StepRequest(BaseModel):
    """Body of ``POST /sessions/{id}/step``: exactly one of the action forms."""

    action: dict[str, Any] = Field(
        description="{'text': str} | {'message': OpenAI chat message} | {'mapping': object}"
    )


class SampleRequest(BaseModel):
    """Body of ``POST /sessions/{id}/sample_action``."""

    rng_state: dict[str, Any] = Field(description="numpy bit generator state (ints as {'__int__': str})")


class ErrorDetail(BaseModel):
    """The ``error`` member of every error answer."""

    code: str = Field(description="bad_request | env_not_allowed | not_found | unknown_env | ...")
    message: str
    retry_after: float | None = Field(None, description="Seconds to wait (503 busy only)")
    type: str | None = Field(None, description="The exception's class name (env failures)")


class ErrorBody(BaseModel):
    """Body of every 4xx/5xx answer."""

    error: ErrorDetail


_ERROR_DOCS = {
    400: "Malformed body: not JSON, too deeply nested, wrong types",
    403: "The env is not served here",
    404: "Unknown env id (with 'did you mean') or session",
    409: "Call out of order (e.g. step before reset)",
    410: "Session lost: its worker died or restarted, it timed out, or it idled past the TTL",
    413: "Body larger than the server's limit",
    422: "Invalid env kwargs",
    500: "The env failed",
    503: "Busy: the server holds its maximum of sessions (see Retry-After)",
    504: "The call ran past the per-call timeout (the session is lost)",
}
_SESSION_ERRORS = (400, 404, 409, 410, 413, 500, 504)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the typed errors a route answers."""
    return {s: {"model": ErrorBody, "description": _ERROR_DOCS[s]} for s in statuses}


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _respond(reply: tuple[int, bytes], retry_after: str = "1") -> Response:
    status, body = reply
    headers = {"Retry-After": retry_after} if status == 503 else None
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


async def _read_body(request: Request) -> bytes | Response:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > wire.MAX_BODY_BYTES:
        return _respond(error_reply("payload_too_large", f"the body exceeds {wire.MAX_BODY_BYTES} bytes"))
    body = await request.body()
    if len(body) > wire.MAX_BODY_BYTES:
        return _respond(error_reply("payload_too_large", f"the body exceeds {wire.MAX_BODY_BYTES} bytes"))
    return body


async def create_reply(state: ServerState, body: bytes) -> Reply:
    """Answer ``POST /sessions``: the body is read here (bounded) only to route it."""
    try:
        payload = wire.loads(body)
    except ValueError as exc:
        return error_reply("bad_request", str(exc))
    env_id = payload.get("env_id") if isinstance(payload, dict) else None
    if not isinstance(env_id, str):
        return error_reply("bad_request", "create takes {'env_id': str, 'kwargs': object}")
    return await state.create(env_id, body)


_FAST_OPS = frozenset({"step", "reset", "sample_action", "oracle_action"})
_JSON = (b"content-type", b"application/json")
_TOO_LARGE = error_reply("payload_too_large", f"the body exceeds {wire.MAX_BODY_BYTES} bytes")


class FastPath:
    """ASGI middleware answering ``POST /sessions`` and ``POST /sessions/{id}/{step,reset,...}``.

    These calls are the hot path (one per agent turn, and every retry of a refused create); the
    routes declared on the app answer the same calls identically (and document them in the
    OpenAPI schema), only slower. A create beyond capacity gets a response built once, at start:
    its body is not read, nothing is parsed or allocated for it.
    """

    def __init__(self, app: Any, state: ServerState) -> None:
        self.app, self.state = app, state
        retry = str(max(1, math.ceil(state.config.retry_after_s))).encode()
        status, body = state.busy_reply
        self._busy_start = {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), (b"retry-after", retry)],
        }
        self._busy_body = {"type": "http.response.body", "body": body}
        self._retry = retry

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve a hot-path call directly; pass anything else to the app."""
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path == "/sessions":
                if self.state.full():
                    self.state.counters["busy"] += 1
                    await send(self._busy_start)
                    await send(self._busy_body)
                    return
                body = await self._body(receive)
                await self._send(send, _TOO_LARGE if body is None else await create_reply(self.state, body))
                return
            parts = path.split("/")
            if len(parts) == 4 and parts[1] == "sessions" and parts[3] in _FAST_OPS:
                body = await self._body(receive)
                reply = _TOO_LARGE if body is None else await self.state.call(parts[2], parts[3], body)
                await self._send(send, reply)
                return
        await self.app(scope, receive, send)

    async def _send(self, send: Any, reply: Reply) -> None:
        status, out = reply
        headers = [_JSON, (b"content-length", str(len(out)).encode())]
        if status == 503:
            headers.append((b"retry-after", self._retry))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    @staticmethod
    async def _body(receive: Any) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > wire.MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The FastAPI app of one env server (workers start with the app's lifespan)."""
    config = config or ServerConfig()
    config.validate()
    state = ServerState(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="AgentGym env server",
        version="1",
        description=__doc__,
        lifespan=lifespan,
    )
    app.state.server = state
    app.add_middleware(FastPath, state=state)

    retry = str(max(1, math.ceil(config.retry_after_s)))

    def respond(reply: Reply) -> Response:
        return _respond(reply, retry)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        _status, body = error_reply(code, str(exc.detail))
        # 405 carries Allow (Starlette puts it on the exception), as RFC 9110 asks.
        return Response(body, exc.status_code, media_type="application/json", headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return respond(error_reply("bad_request", f"invalid request: {exc.errors()!r:.1000}"))

    @app.exception_handler(Exception)
    async def _internal_error(_request: Request, exc: Exception) -> Response:
        return respond(error_reply("internal", f"{type(exc).__name__}: {exc}"))

    @app.get("/health", summary="Liveness: ok while at least one worker runs", responses=_errors(503))
    async def health() -> Response:
        live = sum(w.alive for w in state.pool.workers)
        body = {"status": "ok" if live else "down", "workers_alive": live, "sessions": len(state.sessions)}
        return Response(wire.dumps(body), 200 if live else 503, media_type="application/json")

    @app.get("/metrics", summary="Sessions, calls, errors, p50/p99 latency per operation, resources")
    async def metrics() -> Response:
        return Response(wire.dumps(state.metrics()), media_type="application/json")

    @app.get("/envs", summary="The env ids this server serves")
    async def envs() -> Response:
        import importlib

        from agentgym.registry import registry
        from agentgym.server.host import env_allowed

        for module in config.imports:  # the workers registered these envs; list them here too
            importlib.import_module(module)
        ids = [i for i in registry.ids() if env_allowed(i, config.env_patterns)]
        return Response(wire.dumps({"envs": ids}), media_type="application/json")

    @app.post(
        "/sessions",
        status_code=200,
        summary="Create a session",
        openapi_extra=_body_doc(CreateRequest),
        responses=_errors(400, 403, 404, 413, 422, 500, 503, 504),
    )
    async def create_session(request: Request) -> Response:
        if state.full():
            state.counters["busy"] += 1
            return respond(state.busy_reply)
        body = await _read_body(request)
        if isinstance(body, Response):
            return body
        return respond(await create_reply(state, body))

    async def _op(session_id: str, op: str, request: Request | None) -> Response:
        body = b""
        if request is not None:
            read = await _read_body(request)
            if isinstance(read, Response):
                return read
            body = read
        return respond(await state.call(session_id, op, body))

    session_errors = _errors(*_SESSION_ERRORS)

    @app.post(
        "/sessions/{session_id}/reset",
        summary="Reset",
        openapi_extra=_body_doc(ResetRequest),
        responses=session_errors,
    )
    async def reset(session_id: str, request: Request) -> Response:
        return await _op(session_id, "reset", request)

    @app.post(
        "/sessions/{session_id}/step",
        summary="Step",
        openapi_extra=_body_doc(StepRequest),
        responses=session_errors,
    )
    async def step(session_id: str, request: Request) -> Response:
        return await _op(session_id, "step", request)

    @app.post(
        "/sessions/{session_id}/sample_action",
        summary="The env's random action, drawn with the caller's generator state",
        openapi_extra=_body_doc(SampleRequest),
        responses=session_errors,
    )
    async def sample_action(session_id: str, request: Request) -> Response:
        return await _op(session_id, "sample_action", request)

    @app.post(
        "/sessions/{session_id}/oracle_action",
        summary="The env's scripted solver's next action",
        responses=session_errors,
    )
    async def oracle_action(session_id: str) -> Response:
        return await _op(session_id, "oracle_action", None)

    @app.get(
        "/sessions/{session_id}/tools", summary="The session's tools (JSON schemas)", responses=session_errors
    )
    async def tools(session_id: str) -> Response:
        return await _op(session_id, "tools", None)

    @app.get(
        "/sessions/{session_id}/verdict",
        summary="The verifier's judgement of the episode so far",
        responses=session_errors,
    )
    async def verdict(session_id: str) -> Response:
        return await _op(session_id, "verdict", None)

    @app.delete("/sessions/{session_id}", summary="Close a session", responses=session_errors)
    async def close(session_id: str) -> Response:
        return await _op(session_id, "close", None)

    return app
