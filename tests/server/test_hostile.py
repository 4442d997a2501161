"""Hostile request bodies on every route: each gets a 4xx, and the worker keeps serving its sessions.

The server runs one worker, so the hostile requests and the bystander session share a process:
a worker killed by one request would take the bystander with it (410 ``session_lost``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.server.conftest import Server, running_server

DEPTH = 100_000  # ~200 KB of brackets: far past any recursion limit


def deep(open_: str, close: str, inner: str = "1", depth: int = DEPTH) -> str:
    return open_ * depth + inner + close * depth


DEEP_ARRAY = deep("[", "]")
DEEP_OBJECT = deep('{"a":', "}")
DEEP_MIXED = deep('[{"a":', "}]", depth=DEPTH // 2)
# Within orjson's own limit (1024) and Python's recursion limit: parsed fine, too deep to use.
MEDIUM = deep("[", "]", depth=900)


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def with_deep(template: str) -> list[bytes]:
    """``template`` with ``@`` replaced by each deep value (the nesting sits inside a valid body)."""
    return [template.replace("@", d).encode() for d in (DEEP_ARRAY, DEEP_OBJECT, DEEP_MIXED, MEDIUM)]


NESTED = [
    *with_deep("@"),
    *with_deep('{"action": @}'),
    *with_deep('{"action": {"mapping": {"k": @}}}'),
    *with_deep('{"action": {"message": {"role": "assistant", "content": [@]}}}'),
    *with_deep(
        '{"action": {"message": {"role": "assistant", "content": "x", "tool_calls":'
        ' [{"id": "c", "type": "function", "function": {"name": "f", "arguments": @}}]}}}'
    ),
    *with_deep('{"seed": 1, "options": {"task": {"__task__": @}}}'),
    *with_deep('{"seed": 1, "options": {"k": @}}'),
    *with_deep('{"env_id": "toy/guess-v0", "kwargs": {"high": @}}'),
    *with_deep('{"env_id": @}'),
    *with_deep('{"rng_state": {"bit_generator": "PCG64", "state": @}}'),
]
MALFORMED = [
    b"",
    b"{not json",
    b'{"action": {"text": "\xff\xfe"}}',  # invalid UTF-8
    b'{"action": {"text": "\xed\xa0\x80"}}',  # a surrogate encoded as UTF-8 (invalid)
    b'{"action": {"text": "\\ud800"}, "env_id": "\\udfff", "seed": 1}',  # lone surrogates, escaped
    b'{"seed": 1' + b"0" * 100_000 + b"}",  # a number too long to convert
    b'{"seed": NaN}',
    b'{"seed": 1e400}',
    b"null",
    b"5",
    b'"string"',
    b"[]",
    b'{"action": {"text": "' + b"x" * 5_000_000 + b'"}}',  # a huge (but allowed) string
    b'{"env_id": "' + b"y" * 1_000_000 + b'"}',
]
WRONG_TYPES = [
    dumps(v)
    for v in (
        {"action": {"message": {"role": "assistant", "content": [1, 2]}}},
        {"action": {"message": {"role": 5, "tool_calls": [1]}}},
        {"action": {"message": {"role": "assistant", "tool_calls": "abc"}}},
        {"action": {"message": {"role": "assistant", "tool_calls": [{"function": 3}]}}},
        {"action": {"message": {"role": "assistant", "content": [{"type": "image_url", "image_url": 7}]}}},
        {"action": {"message": "hi"}},
        {"action": {"mapping": [1]}, "seed": "x"},
        {"seed": True, "options": {"task": {"__task__": 5}}},
        {"seed": 1, "options": {"task": {"__task__": {"family": []}}}},
        {"rng_state": {"bit_generator": "PCG64", "state": 5}},
        {"rng_state": {"bit_generator": "PCG64", "state": {"state": {"__int__": "zz"}}}},
        {"rng_state": {"bit_generator": "MT19937", "state": {"key": {"__array__": ["1"], "dtype": "q"}}}},
        {"env_id": ["x"]},
        {"env_id": "toy/guess-v0", "kwargs": [1]},
        {"env_id": "toy/guess-v0", "kwargs": {"high": {"a": 1}, "render_mode": 3}},
        {"env_id": "toy/guess-v0", "kwargs": {"**": 1, "": 2}},
    )
]
BODIES = NESTED + MALFORMED + WRONG_TYPES


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Server]:
    with running_server("--workers", "1", "--call-timeout", "30") as srv:
        yield srv


def test_hostile_bodies_on_every_route_get_4xx_and_the_worker_keeps_its_sessions(one_worker):
    srv = one_worker
    c = httpx.Client(base_url=srv.url, timeout=60)
    (pid,) = srv.worker_pids()

    def session() -> str:
        resp = c.post("/sessions", json={"env_id": "toy/guess-v0", "kwargs": {"high": 10**6}})
        assert resp.status_code == 200, resp.text
        sid = resp.json()["session_id"]
        assert c.post(f"/sessions/{sid}/reset", json={"seed": 3}).status_code == 200
        return sid

    bystander, target = session(), session()
    fresh = c.post("/sessions", json={"env_id": "toy/guess-v0"}).json()["session_id"]  # never reset
    routes = [("POST", "/sessions")]
    for sid in (target, fresh, "nosuchsession", "%ff%fe", "s" * 4000):
        routes += [("POST", f"/sessions/{sid}/{op}") for op in ("reset", "step", "sample_action")]
        routes += [("POST", f"/sessions/{sid}/oracle_action")]
        routes += [("GET", f"/sessions/{sid}/{op}") for op in ("tools", "verdict")]
    routes += [("DELETE", "/sessions/nosuchsession"), ("PUT", "/sessions"), ("PATCH", f"/sessions/{target}")]
    routes += [("GET", p) for p in ("/health", "/metrics", "/envs", "/openapi.json", "/nowhere")]
    served = 0
    for method, path in routes:
        for body in BODIES:
            resp = c.request(method, path, content=body)
            assert resp.status_code < 500, (method, path[:80], body[:80], resp.status_code, resp.text[:300])
            if resp.status_code >= 400:
                assert "code" in resp.json()["error"], resp.text[:300]
            served += resp.status_code < 400
        # The bystander (same worker) still resets and steps after each route's batch.
        assert c.post(f"/sessions/{bystander}/reset", json={"seed": 1}).status_code == 200
        step = c.post(f"/sessions/{bystander}/step", json={"action": {"text": "7"}})
        assert step.status_code == 200, (method, path[:80], step.text[:300])
    assert served  # the routes that ignore bodies answered them
    for route in ("/sessions", f"/sessions/{target}/step", f"/sessions/{target}/reset"):
        for body in NESTED:  # the nesting is refused as such, before anything uses the value
            resp = c.post(route, content=body)
            assert resp.status_code == 400 and "nested" in resp.json()["error"]["message"], resp.text[:300]
    assert c.request("DELETE", f"/sessions/{target}", content=DEEP_ARRAY.encode()).status_code == 200
    m = srv.metrics()
    assert srv.worker_pids() == [pid]
    assert m["worker_restarts"] == 0
    assert not m["counters"].get("sessions_lost") and not m["counters"].get("worker_losses")
    assert c.post(f"/sessions/{bystander}/step", json={"action": {"text": "8"}}).status_code == 200
