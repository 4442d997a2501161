"""An :class:`~agentgym.core.agent.Agent` backed by an OpenAI-compatible chat-completions endpoint.

Works with the OpenAI API and with local servers that speak its protocol (vLLM, SGLang, llama.cpp).
The ``openai`` SDK is an optional extra, imported only when an :class:`OpenAIAgent` is built. The
SDK's own retries are off; the agent retries connection errors, timeouts, 408, 429 and 5xx itself
with exponential backoff and full jitter drawn from its own seeded ``numpy`` generator.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import os
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.errors import AgentError, ConfigError
from agentgym.core.messages import Message, ToolCall, to_openai
from agentgym.core.tools import ToolSpec

_TOKEN_ID = re.compile(r"^token_id:(\d+)$")
_RETRY_STATUSES = frozenset({408, 429})


class OpenAIAgent:
    """Agent that asks an OpenAI-compatible ``/chat/completions`` endpoint for each reply."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_tokens: int | None = 1024,
        logprobs: bool = False,
        timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        seed: int | None = None,
        extra_body: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        if not model:
            raise ConfigError("OpenAIAgent needs a model name")
        if max_retries < 0 or timeout_s <= 0 or backoff_base_s < 0 or backoff_max_s < 0:
            raise ConfigError("max_retries/backoff must be >= 0 and timeout_s must be > 0")
        try:
            import openai
        except ImportError as exc:
            raise ConfigError("OpenAIAgent needs the openai SDK: pip install 'agentgym[openai]'") from exc
        self._openai = openai
        self.model = model
        self.base_url = base_url
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.temperature = temperature
        self.top_p = top_p
        self.max_tokens = max_tokens
        self.logprobs = logprobs
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.seed = seed
        self.extra_body = dict(extra_body or {})
        self.name = name or f"openai:{model}"
        self._rng = np.random.default_rng(seed)
        self._rng_lock = threading.Lock()
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"OpenAIAgent(model={self.model!r}, base_url={self.base_url!r})"

    def _get_client(self) -> Any:
        """Return the SDK client of the running event loop (an HTTP pool cannot span loops)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = self._openai.AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout_s,
                max_retries=0,
            )
            self._client_loop = loop
        return self._client

    def backoff_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (full jitter, or ``Retry-After``)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_s)
        cap = min(self.backoff_max_s, self.backoff_base_s * (2.0**attempt))
        with self._rng_lock:
            return float(self._rng.uniform(0.0, cap)) if cap > 0 else 0.0

    def _request_kwargs(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> dict:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai(messages),
            "temperature": self.temperature,
            "top_p": self.top_p,
        }
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        if tools:
            kwargs["tools"] = [t.to_openai() for t in tools]
        if self.logprobs:
            kwargs["logprobs"] = True
        if self.extra_body:
            kwargs["extra_body"] = dict(self.extra_body)
        return kwargs

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Send the conversation (and tools) to the endpoint and return the first choice."""
        kwargs = self._request_kwargs(messages, tools)
        client = self._get_client()
        openai = self._openai
        reason = "no attempt made"
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            start = time.perf_counter()
            try:
                response = await asyncio.wait_for(
                    client.chat.completions.create(**kwargs), timeout=self.timeout_s
                )
            except (asyncio.TimeoutError, openai.APITimeoutError):
                reason = f"timed out after {self.timeout_s:g}s"
            except openai.APIConnectionError as exc:
                reason = f"connection error ({_one_line(exc)})"
            except openai.APIStatusError as exc:
                status = exc.status_code
                reason = f"HTTP {status}: {_one_line(exc)}"
                if status < 500 and status not in _RETRY_STATUSES:
                    raise AgentError(self._failure(reason, attempt + 1)) from exc
                retry_after = _retry_after(exc.response.headers)
            except openai.APIError as exc:  # e.g. a response that does not parse
                raise AgentError(self._failure(f"bad response: {_one_line(exc)}", attempt + 1)) from exc
            else:
                return self._parse(response, attempt + 1, time.perf_counter() - start)
            if attempt + 1 < attempts:
                await asyncio.sleep(self.backoff_delay(attempt, retry_after))
        raise AgentError(self._failure(reason, attempts))

    def _failure(self, reason: str, attempts: int) -> str:
        return (
            f"OpenAI-compatible request failed after {attempts} attempt(s): {reason} "
            f"(model={self.model!r}, base_url={self.base_url or 'default'!r})"
        )

    def _parse(self, response: Any, attempts: int, latency_s: float) -> AgentReply:
        """Turn a ChatCompletion into an :class:`AgentReply`."""
        if not getattr(response, "choices", None):
            raise AgentError(self._failure("response has no choices", attempts))
        choice = response.choices[0]
        msg = choice.message
        calls = tuple(
            ToolCall(
                id=call.id or f"call_{i}",
                name=call.function.name or "",
                arguments=call.function.arguments or "{}",
            )
            for i, call in enumerate(getattr(msg, "tool_calls", None) or ())
            if getattr(call, "function", None) is not None
        )
        message = Message("assistant", msg.content or "", tool_calls=calls)
        usage: dict[str, int] = {}
        if response.usage is not None:
            for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                value = getattr(response.usage, key, None)
                if value is not None:
                    usage[key] = int(value)
        logprobs = tokens = token_ids = None
        content = getattr(choice.logprobs, "content", None) if choice.logprobs else None
        if content:
            logprobs = [float(t.logprob) for t in content]
            tokens = [t.token for t in content]
            ids = [_TOKEN_ID.match(t) for t in tokens]
            if all(ids):
                token_ids = [int(m.group(1)) for m in ids if m]
        raw_ids = getattr(choice, "token_ids", None)  # vLLM's `return_token_ids`
        if token_ids is None and isinstance(raw_ids, list):
            token_ids = [int(i) for i in raw_ids]
        prompt_ids = getattr(response, "prompt_token_ids", None)
        info: dict[str, Any] = {
            "finish_reason": choice.finish_reason,
            "latency_s": latency_s,
            "attempts": attempts,
            "model": getattr(response, "model", None) or self.model,
        }
        reasoning = getattr(msg, "reasoning_content", None) or getattr(msg, "reasoning", None)
        if isinstance(reasoning, str) and reasoning:
            info["reasoning"] = reasoning
        return AgentReply(
            message=message,
            token_ids=token_ids,
            logprobs=logprobs,
            prompt_token_ids=[int(i) for i in prompt_ids] if isinstance(prompt_ids, list) else None,
            tokens=tokens,
            usage=usage,
            info=info,
        )

    async def aclose(self) -> None:
        """Close the HTTP client (when it belongs to the running loop); the agent stays usable."""
        client, loop = self._client, self._client_loop
        self._client = self._client_loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.close()


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """The exception's message on one line, cut to ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(headers: Any) -> float | None:
    """Seconds named by ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), if any."""
    if headers is None:
        return None
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        return seconds if math.isfinite(seconds) else None
    date = headers.get("retry-after")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return None
