"""The wire format and the client's connection handling, without a server."""

from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
import pytest

from agentgym.core.messages import Message, ToolCall
from agentgym.core.task import Task
from agentgym.server import RemoteEnv, wire
from agentgym.server.client import ServerClient
from agentgym.server.host import SessionHost
from agentgym.server.wire import ServerError


def roundtrip(value):
    return wire.loads(wire.dumps(value))


def test_actions_come_back_as_the_same_type_and_value():
    msg = Message("assistant", "hi", tool_calls=(ToolCall("c1", "move", '{"d": "up"}'),))
    assert wire.decode_action(roundtrip(wire.encode_action(msg))) == msg
    assert wire.decode_action(roundtrip(wire.encode_action("text \ud800"))) == "text \ud800"
    assert wire.decode_action(roundtrip(wire.encode_action({"content": "5"}))) == {"content": "5"}
    foreign = wire.decode_action(roundtrip(wire.encode_action(42)))
    assert type(foreign).__name__ == "int" and not isinstance(foreign, int)
    with pytest.raises(ValueError):
        wire.decode_action({"nope": 1})


def test_info_is_written_as_the_trajectory_store_writes_it():
    info = {"t": (1, 2), 3: "int key", "obj": {1, 2}, "f": float("nan"), "big": 2**80, "np": np.int64(3)}
    assert json.loads(wire.dumps(info).decode()).keys() == {"t", "3", "obj", "f", "big", "np"}
    assert wire.dumps(info) == json.dumps(info, default=repr, ensure_ascii=True).encode()
    assert roundtrip(info)["big"] == 2**80


def test_rng_state_travels_exactly():
    rng = np.random.default_rng(123)
    rng.integers(10)
    copy = wire.decode_rng(roundtrip(wire.encode_rng(rng)))
    assert copy.integers(1 << 60, size=5).tolist() == rng.integers(1 << 60, size=5).tolist()
    wire.set_rng_state(rng, roundtrip(wire.encode_rng(copy)))
    assert rng.random() == copy.random()


def test_a_task_in_reset_options_travels_as_a_task():
    task = Task("toy", {"high": 5, "target": 3}, answer=3)
    options = wire.decode_options(roundtrip(wire.encode_options({"task": task, "x": 1})))
    assert options == {"task": task, "x": 1}


def test_host_answers_every_failure_as_typed_json():
    host = SessionHost(("puzzles/*",))
    status, body = host.handle("create", "s1", b'{"env_id": "toy/guess-v0"}')
    assert status == 422 and json.loads(body)["error"]["code"] == "invalid_config"
    status, body = host.handle("create", "s1", b'{"env_id": "puzzles/sat-v0"}')
    assert status == 200 and json.loads(body)["env_class"] == "GeneratedTaskEnv"
    assert host.handle("step", "s1", b'{"action": {"text": "x"}}')[0] == 409
    assert host.handle("reset", "s1", b"[1]")[0] == 400
    assert host.handle("warp", "s1", b"")[0] == 404
    assert host.handle("step", "s2", b'{"action": {"text": "x"}}')[0] == 410
    assert host.handle("close", "s1", b"")[0] == 200 and host.sessions == {}


def test_client_retries_a_refused_connection_a_bounded_number_of_times():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    client = ServerClient(f"http://127.0.0.1:{port}", retries=2, backoff_s=0.01)
    with pytest.raises(ServerError, match="cannot connect"):
        RemoteEnv(client.url, "puzzles/sat-v0", client=client).reset(seed=0)


def test_client_retry_reaches_a_server_that_comes_up_late():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = b'{"envs": []}'

    def late_server():
        time.sleep(0.3)
        with socket.socket() as srv:
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(("127.0.0.1", port))
            srv.listen()
            conn, _ = srv.accept()
            with conn:
                conn.recv(65536)
                head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(answer)}\r\nconnection: close\r\n\r\n"
                conn.sendall(head.encode() + answer)

    thread = threading.Thread(target=late_server)
    thread.start()
    client = ServerClient(f"http://127.0.0.1:{port}", retries=6, backoff_s=0.1)
    assert client.request("GET", "/envs") == {"envs": []}
    thread.join()
