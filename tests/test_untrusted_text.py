"""Model text that is not valid Unicode costs at most a turn, never the run (issue 22, failure 2).

An OpenAI-compatible endpoint can answer a lone surrogate (``"\\ud800"`` in its JSON); Python code
can hand over bytes decoded with ``surrogateescape``. Either is made storable where it enters (the
``Message`` it is put in), so the env sees and the store keeps the same, clean action.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentgym.cli.main import main
from agentgym.core.agent import AgentReply
from agentgym.core.env import Env, StepResult
from agentgym.core.messages import Message, ToolCall
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.rollout import RolloutConfig, run_rollouts
from agentgym.trajectory import TrajectoryStore
from tests.fake_openai_server import FakeOpenAIServer, Reply

ESCAPED = b"<answer>\xff\xfe 1</answer>".decode("utf-8", "surrogateescape")  # U+DCFF U+DCFE


def _cli_run(out: str, base_url: str, episodes: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    args = ["run", "puzzles/sat-v0", "--agent", "openai:fake-model", "--base-url", base_url]
    args += ["-n", str(episodes), "-c", "2", "--out", out, "--no-progress", "--json", "-d", "n_vars=3"]
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else {"stderr": captured.err})


@pytest.mark.parametrize(
    ("reply", "stored"),
    [
        (Reply(text="<answer>\ud800 1</answer>"), {"content": "<answer>\ufffd 1</answer>"}),
        (Reply(text=ESCAPED), {"content": "<answer>\ufffd\ufffd 1</answer>"}),
        (
            Reply(
                tool_calls=[{"id": "c\udc80", "name": "submit_answer", "arguments": '{"answer": "\ud800"}'}]
            ),
            {"tool": ("c\ufffd", "submit_answer", '{"answer": "\ufffd"}')},
        ),
        (
            Reply(tool_calls=[{"id": "c1", "name": "submit\udfff", "arguments": {"answer": "1"}}]),
            {"tool": ("c1", "submit\ufffd", '{"answer": "1"}')},
        ),
    ],
    ids=["content", "surrogateescape", "tool-arguments", "tool-name"],
)
def test_cli_run_against_an_endpoint_answering_lone_surrogates_stores_every_episode(
    tmp_path, capsys, monkeypatch, reply, stored
):
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    out = str(tmp_path / "run")
    with FakeOpenAIServer() as srv:
        srv.script.extend([reply] * 40)
        code, summary = _cli_run(out, srv.base_url, 6, capsys)
        assert code == 0, summary
        assert summary["episodes"] == 6
        # The conversation sent back to the model carries the cleaned reply, not the raw one.
        sent = [m for body in srv.requests[1:] for m in body["messages"] if m["role"] == "assistant"]
        assert sent and all("\ufffd" in json.dumps(m, ensure_ascii=False) for m in sent)
    lines = (tmp_path / "run" / "trajectories.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 6 and len({r["episode_id"] for r in records}) == 6
    for record in records:
        assert record["turns"], record["error"]
        action = record["turns"][0]["action"]
        if "content" in stored:
            assert action["content"] == stored["content"]
        else:
            call = action["tool_calls"][0]
            assert (call["id"], call["function"]["name"], call["function"]["arguments"]) == stored["tool"]
    # Resume: every episode is stored, so a rerun runs nothing and succeeds.
    with FakeOpenAIServer() as srv:
        code, summary = _cli_run(out, srv.base_url, 6, capsys)
        assert code == 0 and srv.requests == [], summary
    assert len((tmp_path / "run" / "trajectories.jsonl").read_text(encoding="utf-8").splitlines()) == 6


class RecordingEnv(Env):
    """Two turns; records every action it was given and puts the last one's text in its info."""

    step_in_thread = False

    def __init__(self, info_extra: dict[str, Any] | None = None, task_note: str = "") -> None:
        super().__init__()
        self.seen: list[Message] = []
        self.info_extra = info_extra or {}
        self.task_note = task_note

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        self.task = Task("toy", {"echo": True}, meta={"note": self.task_note})
        return [Message("user", "say something")], {}

    def _step(self, action: Message) -> StepResult:
        self.seen.append(action)
        done = len(self.seen) >= 2
        verdict = Verdict(1.0, True, "toy", {"said": action.text}) if done else None
        info = {"said": action.text, **self.info_extra}
        return StepResult([Message("user", "again")], 0.5, terminated=done, info=info, verdict=verdict)


class HFStyleAgent:
    """A custom agent that decodes model bytes the way local models can (and returns bad text)."""

    name = "hf-style"

    def __init__(self, texts: list[Any]) -> None:
        self.texts = texts
        self.calls = 0

    async def act(self, messages: Any, tools: Any = (), context: Any = None) -> AgentReply:
        text = self.texts[self.calls % len(self.texts)]
        self.calls += 1
        if isinstance(text, Message):
            return AgentReply(text, token_ids=[1, 2], logprobs=[-0.1, -0.2])
        return AgentReply(Message("assistant", text), token_ids=[1, 2], logprobs=[-0.1, -0.2])


def _run(tmp_path, agent, env_kwargs=None, episodes=3):
    envs: list[RecordingEnv] = []

    def factory() -> RecordingEnv:
        envs.append(RecordingEnv(**(env_kwargs or {})))
        return envs[-1]

    config = RolloutConfig(episodes=episodes, progress=False, concurrency=1)
    with TrajectoryStore(tmp_path) as store:
        result = run_rollouts(factory, agent, config, store=store)
    return result, envs[1:]  # the first env is the runner's up-front check


def test_the_stored_action_is_exactly_what_the_env_saw(tmp_path):
    raw = b"caf\xc3\xa9 \xff".decode("utf-8", "surrogateescape")  # valid UTF-8 then one bad byte
    call = Message("assistant", "", tool_calls=(ToolCall("id\ud800", "f\udfff", '{"a": "\udc80"}'),))
    agent = HFStyleAgent([raw, call])
    result, envs = _run(tmp_path, agent)
    assert result.finished == 3
    stored = TrajectoryStore(tmp_path).load()
    assert len(stored) == 3
    for traj, env in zip(stored, envs, strict=True):
        assert traj.status == "ok" and traj.error is None
        assert [t.action for t in traj.turns] == env.seen
        assert traj.turns[0].action.text == "café \ufffd"
        assert traj.turns[1].action.tool_calls == (ToolCall("id\ufffd", "f\ufffd", '{"a": "\ufffd"}'),)
        assert traj.turns[0].token_ids == [1, 2]


def test_nul_and_noncharacters_are_valid_utf8_and_kept(tmp_path):
    text = "a\x00b\ufffec\uffffd 😀"
    _result, envs = _run(tmp_path, HFStyleAgent([text]), episodes=1)
    (traj,) = TrajectoryStore(tmp_path).load()
    assert traj.turns[0].action.text == text == envs[0].seen[0].text
    assert traj.error is None and traj.turns[0].info["said"] == text


def test_an_agent_returning_plain_text_is_stored_as_a_message(tmp_path):
    class TextAgent:
        name = "text"

        async def act(self, messages: Any, tools: Any = (), context: Any = None) -> Any:
            return AgentReply("bad \ud800 text")  # type: ignore[arg-type]

    _result, envs = _run(tmp_path, TextAgent(), episodes=2)
    stored = TrajectoryStore(tmp_path).load()
    assert len(stored) == 2 and all(t.status == "ok" for t in stored)
    assert stored[0].turns[0].action == envs[0].seen[0] == Message("assistant", "bad \ufffd text")


def test_an_agent_returning_no_reply_is_an_agent_error(tmp_path):
    class NoReply:
        name = "none"

        async def act(self, messages: Any, tools: Any = (), context: Any = None) -> Any:
            return 42

    _result, _ = _run(tmp_path, NoReply(), episodes=2)
    stored = TrajectoryStore(tmp_path).load()
    assert [t.status for t in stored] == ["agent_error", "agent_error"]
    assert "expected an AgentReply" in stored[0].error


def test_env_text_the_store_cannot_encode_is_cleaned_and_noted_once(tmp_path):
    env_kwargs = {"info_extra": {"bad\udc80key": "v\ud800", "ok": 1}, "task_note": "task \udfff"}
    result, _ = _run(tmp_path, HFStyleAgent(["fine"]), env_kwargs=env_kwargs, episodes=2)
    assert result.finished == 2
    text = (tmp_path / "trajectories.jsonl").read_text(encoding="utf-8")
    assert "\ufffd" in text
    stored = TrajectoryStore(tmp_path).load()
    assert len(stored) == 2
    for traj in stored:
        assert traj.status == "ok" and traj.passed  # the episode's result is kept
        # the task was cleaned when it was built (Task), so only the info needed the store's note
        assert "lone surrogates" in traj.error and "turns[0].info" in traj.error
        info = traj.turns[0].info
        assert {k: info[k] for k in ("said", "bad\ufffdkey", "ok")} == {
            "said": "fine",
            "bad\ufffdkey": "v\ufffd",
            "ok": 1,
        }
        assert traj.task["meta"]["note"] == "task \ufffd"
    # Resuming with the same store skips both episodes.
    result, envs = _run(tmp_path, HFStyleAgent(["fine"]), env_kwargs=env_kwargs, episodes=2)
    assert result.skipped == 2 and result.finished == 0 and envs == []
    assert len(TrajectoryStore(tmp_path)) == 2


def test_values_json_cannot_hold_are_stored_as_text(tmp_path):
    cycle: list[Any] = []
    cycle.append(cycle)

    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cycle.append(cycle)  # shared twice: the walks must not multiply
    extra = {"tuple_keys": {(1, 2): "x", 3: "y"}, "cycle": cycle, "obj": BadRepr(), "s": "\ud800"}
    env_kwargs = {"info_extra": extra}
    _result, _ = _run(tmp_path, HFStyleAgent(["fine"]), env_kwargs=env_kwargs, episodes=1)
    (traj,) = TrajectoryStore(tmp_path).load()
    info = traj.turns[0].info
    assert info["tuple_keys"] == {"(1, 2)": "x", "3": "y"}
    assert "repr failed" in info["obj"] and info["cycle"] == ["[[...], [...]]", "[[...], [...]]"]
    assert "stored as text" in traj.error and "lone surrogates" in traj.error and info["s"] == "\ufffd"
