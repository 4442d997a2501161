"""OpenAIAgent against a real HTTP server speaking the OpenAI protocol (no client patching)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator

import pytest

from agentgym.agents.openai_agent import OpenAIAgent
from agentgym.core.agent import Agent, run_sync
from agentgym.core.errors import AgentError
from agentgym.core.messages import (
    Message,
    ToolCall,
    assistant,
    system,
    to_openai,
    tool_result,
    user,
)
from agentgym.core.tools import ToolSpec
from tests.fake_openai_server import (
    Delay,
    Fail,
    FakeOpenAIServer,
    Reply,
    fake_logprobs,
    fake_token_id,
)

ADD = ToolSpec(
    "add",
    "Add two integers.",
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)


@pytest.fixture
def srv() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def make_agent(srv: FakeOpenAIServer, **kw) -> OpenAIAgent:
    kw.setdefault("backoff_base_s", 0.001)
    kw.setdefault("backoff_max_s", 0.01)
    kw.setdefault("timeout_s", 5.0)
    return OpenAIAgent("fake-model", base_url=srv.base_url, seed=0, **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_plain_text_reply_and_request_body(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, temperature=0.3, top_p=0.9, max_tokens=77)
    srv.script.append(Reply(text="hello there"))
    msgs = [system("be brief"), user("hi")]
    reply = await agent.act(msgs)

    assert reply.message == Message("assistant", "hello there")
    assert reply.info["finish_reason"] == "stop"
    assert reply.info["latency_s"] > 0
    assert reply.usage["prompt_tokens"] == 3  # "be brief" + "hi"
    assert reply.usage["completion_tokens"] == 2
    assert reply.logprobs is None and reply.tokens is None and reply.token_ids is None
    (body,) = srv.requests
    assert body["model"] == "fake-model"
    assert body["messages"] == to_openai(msgs)
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.9
    assert body["max_tokens"] == 77
    assert "tools" not in body and "logprobs" not in body
    await agent.aclose()


async def test_default_echo_and_no_max_tokens(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, max_tokens=None)
    reply = await agent.act([user("ping 42")])
    assert reply.message.text == "echo: ping 42"
    assert "max_tokens" not in srv.requests[0]


async def test_tools_sent_and_native_tool_call_parsed(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv)
    srv.script.append(Reply(tool_calls=[{"id": "call_7", "name": "add", "arguments": {"a": 1, "b": 2}}]))
    reply = await agent.act([user("1+2?")], tools=[ADD])

    assert srv.requests[0]["tools"] == [ADD.to_openai()]
    assert reply.message.content == ""
    assert reply.message.tool_calls == (ToolCall("call_7", "add", json.dumps({"a": 1, "b": 2})),)
    assert reply.info["finish_reason"] == "tool_calls"

    # the tool-call turn and its result go back to the server in OpenAI form
    history = [user("1+2?"), reply.message, tool_result("call_7", "3", name="add")]
    await agent.act(history, tools=[ADD])
    sent = srv.requests[1]["messages"]
    assert sent == to_openai(history)
    assert sent[1]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 1, "b": 2}'}


async def test_text_and_tool_calls_together(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv)
    srv.script.append(Reply(text="let me add", tool_calls=[ToolCall("c1", "add", '{"a":1,"b":1}')]))
    reply = await agent.act([user("x")], tools=[ADD])
    assert reply.message == assistant("let me add", [ToolCall("c1", "add", '{"a":1,"b":1}')])


async def test_null_content_without_tool_calls_is_an_empty_reply(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv)
    srv.script.append(Reply(text=None, finish_reason="length"))
    reply = await agent.act([user("say nothing")])
    assert reply.message == Message("assistant", "")
    assert reply.info["finish_reason"] == "length"


async def test_logprobs_parsed(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, logprobs=True)
    srv.script.append(Reply(text="the cat sat"))
    reply = await agent.act([user("story")])

    assert srv.requests[0]["logprobs"] is True
    assert reply.tokens == ["the", "cat", "sat"]
    assert reply.logprobs == pytest.approx(fake_logprobs("the cat sat"))
    assert reply.logprobs == pytest.approx([-0.1, -0.2, -0.3])
    assert reply.token_ids is None  # plain token strings carry no ids


async def test_vllm_token_ids_from_extra_body(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, logprobs=True, extra_body={"return_tokens_as_token_ids": True})
    srv.script.append(Reply(text="a b c"))
    reply = await agent.act([user("x")])

    assert srv.requests[0]["return_tokens_as_token_ids"] is True
    assert reply.token_ids == [fake_token_id(t) for t in ("a", "b", "c")]
    assert reply.tokens == [f"token_id:{fake_token_id(t)}" for t in ("a", "b", "c")]
    assert len(reply.logprobs or []) == 3


async def test_retries_5xx_then_succeeds(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, max_retries=4)
    srv.script.extend([Fail(500), Fail(503), Reply(text="finally")])
    reply = await agent.act([user("x")])
    assert reply.message.text == "finally"
    assert len(srv.requests) == 3
    assert reply.info["attempts"] == 3


async def test_429_retry_after_is_respected(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, backoff_base_s=0.001, backoff_max_s=5.0)
    srv.script.extend([Fail(429, retry_after=0.3), Reply(text="ok")])
    start = time.perf_counter()
    reply = await agent.act([user("x")])
    elapsed = time.perf_counter() - start
    assert reply.message.text == "ok"
    assert len(srv.requests) == 2
    assert elapsed >= 0.3  # jitter alone would wait at most 1 ms


async def test_retry_after_is_capped_by_backoff_max(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, backoff_max_s=0.05)
    srv.script.extend([Fail(429, retry_after=60), Reply(text="ok")])
    start = time.perf_counter()
    reply = await agent.act([user("x")])
    assert reply.message.text == "ok"
    assert time.perf_counter() - start < 2.0


async def test_400_is_not_retried(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, max_retries=4)
    srv.script.extend([Fail(400, message="context too long"), Reply(text="never")])
    with pytest.raises(AgentError, match="HTTP 400") as err:
        await agent.act([user("x")])
    assert len(srv.requests) == 1
    assert "context too long" in str(err.value)
    assert "\n" not in str(err.value)


async def test_retries_exhausted_on_5xx(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, max_retries=2)
    srv.script.extend([Fail(502)] * 5)
    with pytest.raises(AgentError, match=r"after 3 attempt\(s\): HTTP 502") as err:
        await agent.act([user("x")])
    assert len(srv.requests) == 3
    assert "fake-model" in str(err.value) and srv.base_url in str(err.value)


async def test_endpoint_down_raises_after_all_attempts_quickly() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    agent = OpenAIAgent("m", base_url=base_url, max_retries=3, backoff_base_s=0.01, backoff_max_s=0.02)
    start = time.perf_counter()
    with pytest.raises(AgentError, match=r"after 4 attempt\(s\): connection error") as err:
        await agent.act([user("x")])
    assert time.perf_counter() - start < 3.0
    assert base_url in str(err.value)


async def test_timeout_is_retried_then_raises(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, timeout_s=0.2, max_retries=1)
    srv.script.extend([Delay(3.0), Delay(3.0), Reply(text="too late")])
    start = time.perf_counter()
    with pytest.raises(AgentError, match=r"after 2 attempt\(s\): timed out"):
        await agent.act([user("x")])
    assert len(srv.requests) == 2
    assert time.perf_counter() - start < 2.0


async def test_timeout_then_success(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv, timeout_s=0.2, max_retries=2)
    srv.script.extend([Delay(3.0), Reply(text="fast now")])
    reply = await agent.act([user("x")])
    assert reply.message.text == "fast now"
    assert len(srv.requests) == 2


async def test_twenty_concurrent_calls(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv)
    replies = await asyncio.gather(*(agent.act([user(f"q{i}")]) for i in range(20)))
    assert [r.message.text for r in replies] == [f"echo: q{i}" for i in range(20)]
    assert len(srv.requests) == 20
    await agent.aclose()


def test_usable_from_sync_code_across_event_loops(srv: FakeOpenAIServer) -> None:
    agent = make_agent(srv)
    first = run_sync(agent.act([user("one")]))
    second = run_sync(agent.act([user("two")]))  # a new loop: the client must follow it
    assert (first.message.text, second.message.text) == ("echo: one", "echo: two")


async def test_api_key_fallbacks(srv: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    await make_agent(srv).act([user("x")])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    await make_agent(srv).act([user("x")])
    await make_agent(srv, api_key="sk-arg").act([user("x")])
    auth = [h["authorization"] for h in srv.request_headers]
    assert auth == ["Bearer EMPTY", "Bearer sk-env", "Bearer sk-arg"]


def test_name_protocol_and_seeded_jitter() -> None:
    a = OpenAIAgent("m", seed=3, backoff_base_s=1.0, backoff_max_s=4.0)
    b = OpenAIAgent("m", seed=3, backoff_base_s=1.0, backoff_max_s=4.0)
    assert a.name == "openai:m" and OpenAIAgent("m", name="x").name == "x"
    assert isinstance(a, Agent)
    delays = [a.backoff_delay(i) for i in range(6)]
    assert delays == [b.backoff_delay(i) for i in range(6)]
    assert all(0 <= d <= min(4.0, 2.0**i) for i, d in enumerate(delays))
    assert len(set(delays)) == 6  # jittered, not constant
    assert a.backoff_delay(0, retry_after=2.5) == 2.5
    assert a.backoff_delay(0, retry_after=99.0) == 4.0


async def test_models_endpoint(srv: FakeOpenAIServer) -> None:
    import openai

    client = openai.AsyncOpenAI(api_key="x", base_url=srv.base_url, max_retries=0)
    models = await client.models.list()
    assert [m.id for m in models.data] == ["fake-model"]
    await client.close()
