"""The server's limits without a running server: refusals, reaping, backoff, the API's contract."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from starlette.testclient import TestClient

from agentgym.server import wire
from agentgym.server.app import FastPath, create_app
from agentgym.server.client import busy_delay
from agentgym.server.state import ServerConfig, ServerState, Session


@pytest.fixture(scope="module")
def api() -> TestClient:
    return TestClient(create_app(ServerConfig(workers=1)))  # no lifespan: no workers start


def test_openapi_declares_each_routes_typed_errors_with_the_error_body(api):
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    create = paths["/sessions"]["post"]["responses"]
    assert {"400", "403", "404", "413", "422", "500", "503", "504"} <= set(create)
    for path, method in [
        ("/sessions/{session_id}/step", "post"),
        ("/sessions/{session_id}/reset", "post"),
        ("/sessions/{session_id}/sample_action", "post"),
        ("/sessions/{session_id}/oracle_action", "post"),
        ("/sessions/{session_id}/tools", "get"),
        ("/sessions/{session_id}/verdict", "get"),
        ("/sessions/{session_id}", "delete"),
    ]:
        responses = paths[path][method]["responses"]
        assert {"400", "404", "409", "410", "413", "504"} <= set(responses), path
        ref = responses["410"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody")
    error = schema["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"code", "message", "retry_after"} <= set(error)


def test_405_names_the_allowed_methods(api):
    resp = api.put("/sessions")
    assert resp.status_code == 405 and resp.headers["allow"] == "POST"
    assert resp.json()["error"]["code"] == "method_not_allowed"
    resp = api.post("/sessions/abc/tools")
    assert resp.status_code == 405 and resp.headers["allow"] == "GET"


def test_a_refusal_beyond_capacity_reads_no_body_and_is_built_once():
    state = ServerState(ServerConfig(workers=1, max_sessions=1, retry_after_s=2.5))
    state.creating = 1  # full
    sent: list[dict] = []

    async def receive() -> dict:
        raise AssertionError("a refusal must not read the body")

    async def send(message: dict) -> None:
        sent.append(message)

    async def downstream(scope, receive, send) -> None:
        raise AssertionError("a refusal must not reach the router")

    app = FastPath(downstream, state)
    scope = {"type": "http", "method": "POST", "path": "/sessions"}
    for _ in range(3):
        asyncio.run(app(scope, receive, send))
    assert [m["status"] for m in sent[::2]] == [503] * 3
    assert sent[0] is sent[2] and sent[1] is sent[3]  # the same precomputed messages every time
    assert dict(sent[0]["headers"])[b"retry-after"] == b"3"
    assert wire.loads(sent[1]["body"])["error"] == {
        "code": "busy",
        "message": "the server holds its maximum of 1 sessions",
        "retry_after": 2.5,
    }
    assert state.counters["busy"] == 3 and not state.sessions


class FakeWorker:
    """Answers ``close`` at once, or (busy) never: a worker stuck behind a long call."""

    def __init__(self, busy: bool) -> None:
        self.busy, self.alive, self.generation, self.sessions = busy, True, 1, 2
        self.calls: list[asyncio.Future] = []

    def call(self, op: str, session_id: str, body: bytes, timeout: float) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        if not self.busy:
            fut.set_result((200, b'{"closed": true}'))
        self.calls.append(fut)
        return fut


def test_the_reaper_frees_expired_sessions_without_waiting_behind_a_busy_worker():
    async def go() -> None:
        state = ServerState(ServerConfig(workers=1, session_ttl_s=1.0))
        busy, idle = FakeWorker(busy=True), FakeWorker(busy=False)
        old = time.monotonic() - 60
        for i, worker in enumerate([busy, busy, idle, idle]):  # the busy worker's sessions first
            session = Session(f"s{i}", "toy/guess-v0", worker, 1)  # type: ignore[arg-type]
            session.last_used = old
            state.sessions[session.id] = session
        fresh = Session("fresh", "toy/guess-v0", idle, 1)  # type: ignore[arg-type]
        state.sessions["fresh"] = fresh
        reaped = await asyncio.wait_for(state.reap(), 10)  # never waits on the busy worker
        assert reaped == 4 and list(state.sessions) == ["fresh"]
        assert len(busy.calls) == 2 and len(idle.calls) == 2  # every close was sent, concurrently
        assert busy.sessions == 0 and idle.sessions == 0
        assert all(not f.done() for f in busy.calls)
        for f in busy.calls:  # the busy worker gets to them later; nothing is left pending
            f.set_result((200, b"{}"))
        await asyncio.sleep(0)
        assert not state._closing

    asyncio.run(go())


def test_busy_backoff_is_capped_exponential_with_full_jitter():
    rng = np.random.default_rng(0)
    draws = {n: [busy_delay(n, 1.0, 8.0, rng) for _ in range(2000)] for n in range(6)}
    for n, xs in draws.items():
        window = min(8.0, 2.0**n)
        assert min(xs) >= 0 and max(xs) <= window
        assert max(xs) > 0.9 * window and min(xs) < 0.1 * window  # spread over the whole window
    assert np.mean(draws[0]) < np.mean(draws[2]) < np.mean(draws[5])  # grows with refusals
    assert max(busy_delay(40, 1.0, 8.0, rng) for _ in range(100)) <= 8.0  # capped
    assert max(busy_delay(0, 3.0, 8.0, rng) for _ in range(500)) > 2.0  # Retry-After scales it


def test_the_worker_loop_answers_a_request_it_cannot_even_unpack():
    import pickle

    from agentgym.server.host import SessionHost
    from agentgym.server.worker_main import _answer

    host = SessionHost()
    for data in (b"not a pickle", pickle.dumps(("step",)), pickle.dumps(("step", "s", b"[" * 100_000))):
        status, body = _answer(host, data)
        assert status in (400, 410, 500) and "error" in wire.loads(body)
