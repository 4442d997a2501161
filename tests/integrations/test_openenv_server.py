"""``agentgym serve --protocol openenv``: OpenEnv's own client plays AgentGym envs over ``/ws``.

Rewards over the wire equal in-process ones for the same seeds and actions (one env per family);
sessions are bounded, a dropped or abandoned session frees its slot, a failing or hung env ends only
its own episode. Servers run in-process (uvicorn in a thread) on free 127.0.0.1 ports.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("openenv", reason="OpenEnv is not installed (pip install 'agentgym[openenv]')")
uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed")

import httpx  # noqa: E402
from openenv import GenericEnvClient  # noqa: E402

from agentgym.core.messages import Message  # noqa: E402
from agentgym.core.task import Task  # noqa: E402
from agentgym.integrations.openenv_app import create_openenv_app, env_name  # noqa: E402
from agentgym.integrations.openenv_models import ChatAction, action_payload, coerce_text  # noqa: E402
from agentgym.registry import make, registry, spec, unwrap  # noqa: E402
from tests.server.envs import HangEnv  # noqa: E402  (registers toy/guess-v0 and toy/hang-v0)

SEED = 5
MAX_TURNS = 30  # turns replayed per family (episodes end sooner with the oracle)
WAIT_S = 30.0  # bound on every wait for a slot to free


class BoomEnv(HangEnv):
    """The guessing game, whose step raises when the reply says 'boom'."""

    def _step(self, action: Message) -> Any:
        if "boom" in action.text:
            raise RuntimeError("boom")
        return super()._step(action)


if "toy/boom-v0" not in registry:
    registry.register("toy/boom-v0", BoomEnv, max_turns=12, description="openenv test env")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on 127.0.0.1; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the OpenEnv server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


def client(url: str) -> Any:
    """OpenEnv's generic client (sync), with a bounded wait per message."""
    return GenericEnvClient(base_url=url, message_timeout_s=120.0).sync()


def eventually(check: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    """True as soon as ``check()`` is; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


# ----- per-family reward equality -------------------------------------------------------------
FAMILY_ENVS = [
    pytest.param("puzzles/maze-v0", id="puzzles"),
    pytest.param("rg/gcd-v0", id="rg"),
    pytest.param("search/qa-v0", id="search", marks=pytest.mark.slow),
    pytest.param("games/sokoban-v0", id="games"),
    pytest.param("webshop/shop-text-v0", id="webshop", marks=pytest.mark.slow),
    pytest.param("gui/miniwob-click-test-v0", id="gui", marks=[pytest.mark.slow, pytest.mark.browser]),
    pytest.param("swe/patch-v0", id="swe", marks=pytest.mark.slow),
]


def in_process(
    env_id: str, seed: int, oracle: bool = True
) -> tuple[list[Any], list[float], list[bool], dict[str, Any] | None, list[str]]:
    """Actions (oracle, else random), rewards, dones, final verdict and tools of one in-process episode."""
    env = make(env_id)
    base = unwrap(env)
    rng = np.random.default_rng(seed)
    actions, rewards, dones, verdict = [], [], [], None
    try:
        env.reset(seed=seed)
        tools = [t.name for t in base.tools]
        for _ in range(MAX_TURNS):
            action = base.oracle_action() if oracle and base.has_oracle else base.sample_action(rng)
            _, reward, terminated, truncated, info = env.step(action)
            actions.append(action)
            rewards.append(float(reward))
            dones.append(bool(terminated or truncated))
            if terminated or truncated:
                verdict = info["verdict"].to_dict()
                break
    finally:
        env.close()
    return actions, rewards, dones, verdict, tools


@pytest.fixture(scope="module")
def family_server() -> Iterator[str]:
    """Every family's env id under ``/<family>/<name>`` on one OpenEnv app."""
    ids = [p.values[0] for p in FAMILY_ENVS]
    with serving(create_openenv_app(patterns=ids, max_sessions=8, idle_timeout_s=60)) as url:
        yield url


@pytest.mark.parametrize("env_id", FAMILY_ENVS)
@pytest.mark.parametrize("oracle", [True, False], ids=["oracle", "random"])
def test_rewards_over_ws_equal_in_process(env_id: str, oracle: bool, family_server: str) -> None:
    problems = spec(env_id).requirement_problems()
    if problems:
        pytest.skip(f"{env_id} cannot run here: {problems}")
    actions, rewards, dones, verdict, tools = in_process(env_id, SEED, oracle)
    assert actions, "the in-process episode took no turn"
    with client(f"{family_server}/{env_id}") as c:
        first = c.reset(seed=SEED)
        assert first.observation["messages"], "reset gave no messages"
        assert first.metadata["env_id"] == env_id and first.done is False
        assert [t["function"]["name"] for t in first.observation["tools"]] == tools
        got_rewards, got_dones, last = [], [], first
        for action in actions:
            last = c.step(action_payload(action))
            assert "error" not in (last.metadata or {}), last.metadata
            got_rewards.append(last.reward)
            got_dones.append(last.done)
    assert got_rewards == rewards
    assert got_dones == dones
    if verdict is not None:
        assert last.metadata["verdict"] == json.loads(json.dumps(verdict, default=repr))


# ----- the action: OpenAI chat, coerced ------------------------------------------------------
def test_non_string_content_is_coerced_to_text(family_server: str) -> None:
    env = make("rg/gcd-v0")
    env.reset(seed=SEED)
    payload = {"answer": [1, 2]}
    _, want, *_ = env.step(json.dumps(payload))
    env.close()
    with client(f"{family_server}/rg/gcd-v0") as c:
        c.reset(seed=SEED)
        result = c.step({"content": payload})  # a dict where text belongs: coerced, not a 422
    assert result.reward == want
    assert coerce_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    assert coerce_text(None) == "" and coerce_text(3) == "3"
    assert ChatAction.model_validate({"role": "assistant", "content": 7}).content == "7"


def test_tool_call_action_round_trips() -> None:
    message = Message.from_dict(
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
            ],
        }
    )
    from agentgym.integrations.openenv_models import to_agentgym_action

    action = ChatAction.model_validate(action_payload(message))
    assert to_agentgym_action(action) == message
    assert to_agentgym_action(ChatAction(content="hi")) == "hi"


# ----- tasks: splits and frozen suites -------------------------------------------------------
def test_task_api_and_reset_with_a_task(family_server: str) -> None:
    name = env_name("puzzles/maze-v0")
    base = f"{family_server}/puzzles/maze-v0"
    splits = httpx.get(f"{base}/{name}/splits", timeout=30).json()
    assert [s["name"] for s in splits] == ["train", "test"]
    assert httpx.post(f"{base}/{name}/num_tasks", json={"split": "test"}, timeout=30).json()["num_tasks"] > 0
    task = httpx.post(f"{base}/{name}/task", json={"split": "test", "index": 1}, timeout=30).json()["task"]
    assert Task.from_dict(task).id == task["id"]
    train = httpx.post(f"{base}/{name}/task", json={"split": "train", "index": 3}, timeout=30).json()["task"]
    assert (
        httpx.post(f"{base}/{name}/task", json={"split": "test", "index": 10**6}, timeout=30).status_code
        == 400
    )
    with client(base) as c:
        assert c.reset(seed=1, task=task).metadata["task_id"] == task["id"]
        assert c.reset(split="test", index=1).metadata["task_id"] == task["id"]
        assert c.reset(split="train", index=3).metadata["task_id"] == train["id"]
        with pytest.raises(RuntimeError, match="reset takes"):
            c.reset(seed=1, bogus=True)  # a typo is an error, not silently ignored
        assert c.reset(seed=2).done is False  # the session is still usable


# ----- sessions: capacity, dropped and abandoned sockets, failing envs ----------------------
def _slot_free(url: str) -> bool:
    try:
        with client(url) as c:
            return c.reset(seed=0).done is False
    except RuntimeError:
        return False


def test_capacity_refusal_and_dropped_socket_frees_the_slot() -> None:
    from websockets.sync.client import connect

    app = create_openenv_app("toy/guess-v0", max_sessions=1, idle_timeout_s=60)
    with serving(app) as url, contextlib.ExitStack() as stack:
        holder = stack.enter_context(connect(url.replace("http", "ws") + "/ws"))
        stack.enter_context(contextlib.suppress(Exception))  # closing the dropped socket may fail
        holder.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
        assert json.loads(holder.recv(timeout=30))["type"] == "observation"
        with client(url) as other, pytest.raises(RuntimeError, match="CAPACITY_REACHED"):
            other.reset(seed=2)  # refused at once, not queued
        assert httpx.post(f"{url}/reset", json={"seed": 3}, timeout=30).status_code == 503
        holder.socket.shutdown(socket.SHUT_RDWR)  # the client vanishes without a close frame
        holder.socket.close()
        assert eventually(lambda: _slot_free(url)), "the dropped session kept its slot"


def test_abandoned_session_is_reaped_and_its_client_recovers() -> None:
    app = create_openenv_app("toy/guess-v0", max_sessions=1, idle_timeout_s=1.0)
    with serving(app) as url, client(url) as abandoned:
        assert abandoned.reset(seed=1).done is False
        # OpenEnv's reaper looks every max(timeout / 4, 5) s: the slot frees within ~6 s.
        assert eventually(lambda: _slot_free(url)), "the idle session kept its slot"
        with pytest.raises(RuntimeError, match="closed"):
            abandoned.step({"content": "3"})  # its session is gone: told so, not left hanging
        abandoned.disconnect()  # a new socket is a new session (OpenEnv's client reconnects)
        assert abandoned.reset(seed=1).done is False
        assert abandoned.step({"content": "3"}).metadata["turn"] == 1


def test_failing_and_hung_envs_end_only_their_own_episode() -> None:
    app = create_openenv_app(
        patterns=["toy/boom-v0", "toy/hang-v0"], max_sessions=4, idle_timeout_s=60, call_timeout_s=2
    )
    with serving(app) as url:
        with client(f"{url}/toy/boom-v0") as c:
            c.reset(seed=1)
            boom = c.step({"content": "boom"})
            assert boom.done and boom.metadata["error"]["code"] == "env_error"
            with pytest.raises(RuntimeError, match="no episode"):
                c.step({"content": "3"})
            assert c.reset(seed=1).done is False  # the session goes on with a fresh env
        with client(f"{url}/toy/hang-v0") as c:
            c.reset(seed=1)
            hung = c.step({"content": "hang"})
            assert hung.done and hung.metadata["error"]["code"] == "timeout"
            assert (
                httpx.get(f"{url}/health", timeout=30).json()["live_envs"] >= 1
            )  # the hung one holds its slot
        with client(f"{url}/toy/boom-v0") as other:  # the server goes on serving
            assert other.reset(seed=2).done is False
            assert other.step({"content": "10"}).done in (True, False)


# ----- packaging -----------------------------------------------------------------------------
def test_manifest_command_writes_a_valid_openenv_yaml(tmp_path: Path) -> None:
    import yaml
    from openenv.validation.parsers.openenv_yaml import OpenEnvYamlParser
    from typer.testing import CliRunner

    from agentgym.cli.openenv_cmd import openenv_app

    result = CliRunner().invoke(openenv_app, ["manifest", "puzzles/maze-v0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((tmp_path / "openenv.yaml").read_text())
    assert data["spec_version"] == 1 and data["runtime"] == "fastapi" and data["app"] == "server.app:app"
    assert data["name"] == "puzzles-maze-v0" and data["port"] == 8000
    parsed = OpenEnvYamlParser().parse(tmp_path)  # OpenEnv's own validator reads it
    assert parsed.capabilities.task_api and parsed.capabilities.declared_task_count["test"] > 0
    module_spec = importlib.util.spec_from_file_location("written_app", tmp_path / "server" / "app.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    with serving(module.app) as url:
        assert httpx.get(f"{url}/health", timeout=30).json()["status"] == "healthy"


def test_a_hung_session_call_does_not_keep_the_process_from_exiting():
    import subprocess
    import sys

    code = (
        "import time\n"
        "from agentgym.integrations.openenv_env import _SessionThread\n"
        "worker = _SessionThread()\n"
        "assert worker.submit(lambda x: x + 1, 1).result(5) == 2\n"
        "worker.submit(time.sleep, 3600)\n"
        "print('exiting')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "exiting" in done.stdout, done.stderr
