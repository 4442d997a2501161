"""The env server over real HTTP on 127.0.0.1: wire fidelity, typed errors, limits, faults."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from agentgym.agents import make_agent
from agentgym.cli.main import main as cli_main
from agentgym.registry import registry
from agentgym.rollout import RolloutConfig, arun_rollouts
from agentgym.server import RemoteEnv
from agentgym.server.client import ServerClient
from agentgym.server.wire import ServerBusyError, ServerTimeoutError, SessionLostError
from agentgym.trajectory import TrajectoryStore
from tests.server.conftest import running_server

TIMING = ("started_at", "duration_s")


def comparable(path) -> list[str]:
    """The store's lines without wall-clock fields, in episode order."""
    out = []
    for line in (path / "trajectories.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for key in TIMING:
            rec.pop(key)
        for turn in rec["turns"]:
            turn.pop("agent_s"), turn.pop("env_s")
        out.append(json.dumps(rec))
    return sorted(out)


@pytest.fixture
def picture_env_registered():
    """The test envs registered in this process too (only for the test: the checker sees none)."""
    from tests.server.envs import ENVS

    for env_id, (cls, kwargs) in ENVS.items():
        if env_id not in registry:
            registry.register(env_id, cls, kwargs=kwargs, max_turns=12)
    yield ENVS
    for env_id in ENVS:
        registry.unregister(env_id)


@pytest.mark.parametrize(
    ("env_id", "agent"),
    [("puzzles/maze-v0", "random"), ("puzzles/sat-v0", "oracle"), ("toy/picture-v0", "random")],
)
def test_same_seeds_give_byte_identical_trajectories_over_http(
    server, tmp_path, env_id, agent, picture_env_registered
):
    common = [env_id, "--agent", agent, "--episodes", "4", "--seed", "11", "--no-progress", "--json"]
    if env_id == "puzzles/maze-v0":
        common += ["--max-turns", "15"]
    cli_main(["run", *common, "--out", str(tmp_path / "local")])
    cli_main(["run", *common, "--out", str(tmp_path / "remote"), "--server", server.url])
    a, b = comparable(tmp_path / "local"), comparable(tmp_path / "remote")
    assert len(a) == 4 and a == b
    if env_id == "toy/picture-v0":
        assert "data:image/png;base64," in a[0]


def test_run_server_flag_needs_a_served_env(server, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["run", "puzzles/nope-v0", "--agent", "random", "--server", server.url, "-o", str(tmp_path)])
    assert exc.value.code == 2
    assert "unknown env id" in capsys.readouterr().err


def test_malformed_requests_get_typed_4xx(server):
    c = httpx.Client(base_url=server.url, timeout=30)

    def err(resp, status, code):
        assert resp.status_code == status, resp.text
        assert resp.json()["error"]["code"] == code
        return resp.json()["error"]["message"]

    err(c.post("/sessions", content=b"{not json"), 400, "bad_request")
    err(c.post("/sessions", json={"kwargs": {}}), 400, "bad_request")
    err(c.post("/sessions", json=[1, 2]), 400, "bad_request")
    assert "did you mean" in err(c.post("/sessions", json={"env_id": "puzzles/maze-v1"}), 404, "unknown_env")
    err(c.post("/sessions", json={"env_id": "toy/guess-v0", "kwargs": {"nope": 1}}), 422, "invalid_config")
    err(c.post("/sessions/abc/step", json={"action": {"text": "1"}}), 404, "not_found")
    sid = c.post("/sessions", json={"env_id": "toy/guess-v0"}).json()["session_id"]
    err(c.post(f"/sessions/{sid}/step", json={"action": {"text": "1"}}), 409, "env_state")
    err(c.post(f"/sessions/{sid}/reset", json={"seed": -3}), 400, "bad_request")
    err(c.post(f"/sessions/{sid}/reset", json={"seed": 1, "options": "x"}), 400, "bad_request")
    assert c.post(f"/sessions/{sid}/reset", json={"seed": 1}).status_code == 200
    err(c.post(f"/sessions/{sid}/step", json={"act": 1}), 400, "bad_request")
    err(c.post(f"/sessions/{sid}/step", json={"action": 5}), 400, "bad_request")
    err(c.post(f"/sessions/{sid}/step", content=b"\xff\xfe"), 400, "bad_request")
    big = b'{"action": {"text": "' + b"x" * (33 * 1024 * 1024) + b'"}}'
    err(c.post(f"/sessions/{sid}/step", content=big), 413, "payload_too_large")
    err(c.get("/no/such/route"), 404, "not_found")
    assert c.put("/sessions").status_code == 405
    # A malformed *action* is the env's business: an error observation, not an HTTP error.
    ok = c.post(f"/sessions/{sid}/step", json={"action": {"message": {"role": "user", "content": "1"}}})
    assert ok.status_code == 200 and "Invalid action" in ok.json()["observation"][0]["content"]
    assert c.delete(f"/sessions/{sid}").json() == {"closed": True}
    err(c.post(f"/sessions/{sid}/step", json={"action": {"text": "1"}}), 410, "session_lost")
    schema = c.get("/openapi.json").json()
    assert "/sessions/{session_id}/step" in schema["paths"]
    assert server.get("/health")["status"] == "ok"


def test_remote_env_api_sync_and_async(server):
    env = RemoteEnv(server.url, "toy/guess-v0", high=50)
    obs, info = env.reset(seed=4)
    assert obs[0].role == "system" and info["turn"] == 0 and env.task is not None and env.has_oracle
    guess = env.oracle_action()
    _obs, _reward, _terminated, _truncated, info = env.step(guess)
    assert info["turn"] == 1 and env.turn == 1
    env.close()
    assert env.closed

    async def go():
        e = RemoteEnv(server.url, "toy/guess-v0")
        await e.areset(seed=4)
        out = await e.astep("10")
        await e.aclose()
        return out

    obs, *_ = asyncio.run(go())
    assert obs[0].text in ("Higher.", "Lower.", "Correct!")


def test_busy_server_answers_503_with_retry_after_and_serves_only_its_envs():
    with running_server("--max-sessions", "3", "--envs", "toy/*") as srv:
        c = httpx.Client(base_url=srv.url, timeout=30)
        resp = c.post("/sessions", json={"env_id": "puzzles/sat-v0"})
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "env_not_allowed"
        assert set(c.get("/envs").json()["envs"]) == {
            "toy/guess-v0",
            "toy/slow-guess-v0",
            "toy/hang-v0",
            "toy/picture-v0",
        }
        ids = [c.post("/sessions", json={"env_id": "toy/guess-v0"}).json()["session_id"] for _ in range(3)]
        resp = c.post("/sessions", json={"env_id": "toy/guess-v0"})
        assert resp.status_code == 503 and resp.json()["error"]["code"] == "busy"
        assert int(resp.headers["retry-after"]) >= 1
        client = ServerClient(srv.url, busy_wait_s=0.5)
        with pytest.raises(ServerBusyError):
            RemoteEnv(srv.url, "toy/guess-v0", client=client).connect()
        c.delete(f"/sessions/{ids[0]}")
        RemoteEnv(srv.url, "toy/guess-v0", client=client).connect().close()
        assert srv.metrics()["counters"]["busy"] >= 2


def test_hung_step_hits_its_timeout_and_the_worker_is_replaced(server):
    before = server.metrics()
    # Sessions alternate over the 2 workers: envs[0] and envs[2] share one.
    envs = [RemoteEnv(server.url, "toy/hang-v0") for _ in range(4)]
    for env in envs:
        env.reset(seed=0)
    hung, neighbour = envs[0], envs[2]
    outcomes: dict[str, BaseException] = {}

    def call(name, env, action):
        try:
            env.step(action)
        except BaseException as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=call, args=("hung", hung, "hang"))]
    # A large body queued behind the hung call must not stall the server's event loop.
    threads.append(threading.Thread(target=call, args=("queued", neighbour, "7" * 4_000_000)))
    for t in threads:
        t.start()
        time.sleep(0.3)
    assert httpx.get(server.url + "/health", timeout=2.5).status_code == 200  # answered while hung
    for t in threads:
        t.join(60)
    assert isinstance(outcomes["hung"], ServerTimeoutError) and "timeout" in str(outcomes["hung"])
    assert isinstance(outcomes["queued"], SessionLostError)
    with pytest.raises(SessionLostError):
        hung.step("1")
    envs[1].step("1")  # the other worker's sessions live on
    for env in envs[1:]:
        env.close()
    hung.reset(seed=0)  # a new session on a live worker
    hung.step("1")
    hung.close()
    after = server.metrics()
    assert after["worker_restarts"] == before["worker_restarts"] + 1
    assert after["counters"]["timeouts"] == before["counters"].get("timeouts", 0) + 1


def test_a_vanished_client_frees_its_session_within_the_ttl():
    with running_server("--session-ttl", "1") as srv:
        code = (
            "from agentgym.server import RemoteEnv; import os, sys;"
            f"e = RemoteEnv({srv.url!r}, 'toy/guess-v0'); e.reset(seed=1);"
            "print(e.session_id, flush=True); os.kill(os.getpid(), 9)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == -signal.SIGKILL
        sid = out.stdout.strip()
        deadline = time.monotonic() + 20
        while srv.metrics()["sessions"] and time.monotonic() < deadline:
            time.sleep(0.2)
        m = srv.metrics()
        assert m["sessions"] == 0 and m["counters"]["sessions_reaped"] == 1
        resp = httpx.post(f"{srv.url}/sessions/{sid}/step", json={"action": {"text": "1"}})
        assert resp.status_code == 410 and "TTL" in resp.json()["error"]["message"]


def test_a_worker_killed_mid_episode_gives_env_error_and_the_run_completes(tmp_path):
    with running_server("--call-timeout", "30") as srv:
        client = ServerClient(srv.url)
        factory = lambda: RemoteEnv(srv.url, "toy/slow-guess-v0", client=client, high=10**6)  # noqa: E731
        config = RolloutConfig(episodes=12, concurrency=6, progress=False)
        victim = srv.worker_pids()[0]

        async def go():
            async def killer():
                while srv.metrics()["counters"].get("step_calls", 0) < 20:
                    await asyncio.sleep(0.05)
                os.kill(victim, signal.SIGKILL)

            kill = asyncio.create_task(killer())
            with TrajectoryStore(tmp_path) as store:
                result = await arun_rollouts(factory, make_agent("random"), config, store, env_id="toy/guess")
            await kill
            return result

        result = asyncio.run(go())
        statuses = [t.status for t in result.trajectories]
        assert len(statuses) == 12 and len(TrajectoryStore(tmp_path)) == 12
        assert "env_error" in statuses and "truncated" in statuses
        lost = [t for t in result.trajectories if t.status == "env_error"]
        assert all("lost" in t.error or "died" in t.error for t in lost)
        deadline = time.monotonic() + 60
        while not all(w["alive"] for w in srv.metrics()["workers"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert victim not in srv.worker_pids() and len(srv.worker_pids()) == 2


def test_an_episode_timeout_mid_step_closes_the_remote_session(server):
    client = ServerClient(server.url)
    factory = lambda: RemoteEnv(server.url, "toy/slow-guess-v0", client=client, high=10**6)  # noqa: E731
    config = RolloutConfig(episodes=3, concurrency=3, episode_timeout_s=0.3, progress=False)
    before = len(os.listdir("/proc/self/fd"))
    result = asyncio.run(arun_rollouts(factory, make_agent("random"), config, env_id="toy/slow-guess-v0"))
    assert [t.status for t in result.trajectories] == ["timeout"] * 3
    deadline = time.monotonic() + 10
    while server.metrics()["sessions"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.metrics()["sessions"] == 0
    client.close()
    assert len(os.listdir("/proc/self/fd")) <= before
