"""A real, scriptable HTTP server speaking the OpenAI chat-completions protocol, for tests.

Usage::

    with FakeOpenAIServer() as srv:
        srv.script.append(Fail(status=500))          # first request: HTTP 500
        srv.script.append(Reply(text="hello"))       # second request: "hello"
        agent = OpenAIAgent("fake-model", base_url=srv.base_url)
        ...
        assert len(srv.requests) == 2                # every request body, parsed from JSON

Behaviours are consumed one per ``POST /v1/chat/completions`` request, in order, from
``srv.script`` (a thread-safe deque). When the script is empty the server answers
``"echo: <text of the last user message>"``.

* :class:`Reply` - a normal completion: text and/or tool calls.
* :class:`Fail` - an HTTP error with an OpenAI-style JSON error body (optionally ``Retry-After``).
* :class:`Delay` - sleep before answering (to trigger client timeouts), then answer ``then``.

With ``"logprobs": true`` in the request, ``choices[0].logprobs.content`` has one entry per
whitespace-separated token of the reply text, with logprob ``-0.1 * (i + 1)`` for token ``i``
(see :func:`fake_logprobs`). With vLLM's ``"return_tokens_as_token_ids": true`` the tokens are
written ``"token_id:<n>"`` with ``n = fake_token_id(token)``. ``GET /v1/models`` lists the model.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """Answer with ``text`` (``None`` sends ``content: null``) and optional tool calls.

    Each tool call is a dict ``{"name": ..., "arguments": dict-or-JSON-string, "id": optional}``
    or any object with ``name``/``arguments``/``id`` attributes (e.g. ``agentgym`` ToolCall).
    ``finish_reason`` defaults to ``"tool_calls"`` when there are tool calls, else ``"stop"``.
    """

    text: str | None = None
    tool_calls: list[Any] = field(default_factory=list)
    finish_reason: str | None = None


@dataclass
class Fail:
    """Answer with HTTP ``status``; ``retry_after`` (seconds) is sent as ``Retry-After``."""

    status: int = 500
    retry_after: float | None = None
    message: str | None = None


@dataclass
class Delay:
    """Sleep ``seconds`` before answering with ``then`` (default: the echo reply)."""

    seconds: float
    then: Reply | Fail | None = None


Behaviour = Reply | Fail | Delay


def fake_token_id(token: str) -> int:
    """The deterministic token id the server reports for ``token``."""
    return zlib.crc32(token.encode("utf-8")) % 100_000


def fake_logprobs(text: str) -> list[float]:
    """The logprobs the server reports for ``text``: ``-0.1 * (i + 1)`` per whitespace token."""
    return [round(-0.1 * (i + 1), 6) for i in range(len(text.split()))]


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def _tool_call_dict(call: Any, index: int) -> dict[str, Any]:
    if isinstance(call, dict):
        name, args, call_id = call["name"], call.get("arguments", {}), call.get("id")
    else:
        name, args, call_id = call.name, call.arguments, getattr(call, "id", None)
    if not isinstance(args, str):
        args = json.dumps(args)
    return {
        "id": call_id or f"call_{index}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    }


class FakeOpenAIServer:
    """A threaded HTTP server on ``127.0.0.1`` (free port) serving the OpenAI chat API."""

    def __init__(self, model: str = "fake-model") -> None:
        self.model = model
        self.script: deque[Behaviour] = deque()
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._server is None:
            raise RuntimeError("server is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI ``base_url`` of this server, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        """Bind a free port and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        server = _Server(("127.0.0.1", 0), handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; pending Delays wake up and give up."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self) -> Behaviour | None:
        try:
            return self.script.popleft()
        except IndexError:
            return None

    def completion(self, body: dict[str, Any], reply: Reply | None) -> dict[str, Any]:
        """Build the chat-completion JSON answering ``body`` with ``reply`` (None: echo)."""
        messages = body.get("messages") or []
        if reply is None:
            last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
            reply = Reply(text=f"echo: {_message_text(last)}")
        calls = [_tool_call_dict(c, i) for i, c in enumerate(reply.tool_calls)]
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if calls:
            message["tool_calls"] = calls
        choice: dict[str, Any] = {
            "index": 0,
            "message": message,
            "finish_reason": reply.finish_reason or ("tool_calls" if calls else "stop"),
            "logprobs": None,
        }
        words = (reply.text or "").split()
        if body.get("logprobs"):
            as_ids = bool(body.get("return_tokens_as_token_ids"))
            entries = []
            for word, lp in zip(words, fake_logprobs(reply.text or ""), strict=True):
                token = f"token_id:{fake_token_id(word)}" if as_ids else word
                entries.append(
                    {
                        "token": token,
                        "logprob": lp,
                        "bytes": list(token.encode()),
                        "top_logprobs": [],
                    }
                )
            choice["logprobs"] = {"content": entries}
        prompt_tokens = sum(len(_message_text(m).split()) for m in messages)
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [choice],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(words),
                "total_tokens": prompt_tokens + len(words),
            },
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait on handlers sleeping in a Delay
    request_queue_size = 256  # many concurrent clients connect at once


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (e.g. timed out) before we answered
            self.close_connection = True

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        body = {"error": {"message": message, "type": "fake_error", "code": str(status)}}
        self._send(status, body, headers)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake"}
            self._send(200, {"object": "list", "data": [model]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._error(400, "request body is not JSON")
            return
        fake = self.fake
        with fake._lock:
            fake.requests.append(body)
            fake.request_headers.append({k.lower(): v for k, v in self.headers.items()})
            behaviour = fake._next()
        if isinstance(behaviour, Delay):
            if fake._stopping.wait(behaviour.seconds):
                self.close_connection = True
                return
            behaviour = behaviour.then
        if isinstance(behaviour, Fail):
            headers = {}
            if behaviour.retry_after is not None:
                headers["Retry-After"] = f"{behaviour.retry_after:g}"
            self._error(
                behaviour.status,
                behaviour.message or f"scripted failure {behaviour.status}",
                headers,
            )
            return
        if body.get("stream"):
            self._error(400, "the fake server does not stream")
            return
        with fake._lock:
            payload = fake.completion(body, behaviour)
        self._send(200, payload)
