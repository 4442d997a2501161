"""The :class:`Agent` protocol: chat messages (and tools) in, one assistant reply out."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec

if TYPE_CHECKING:
    from agentgym.core.env import Env

T = TypeVar("T")


@dataclass
class AgentReply:
    """An agent's reply, with the token ids and per-token log-probs where the agent has them."""

    message: Message
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    prompt_token_ids: list[int] | None = None
    tokens: list[str] | None = None
    usage: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class EpisodeContext:
    """What an agent may know about the episode it acts in (scripted agents use ``env``).

    ``rng`` is the agent's own generator for this episode, made on first use from ``agent_seed``.
    """

    episode_id: str
    env: Env
    agent_seed: int | None = None
    seed: int | None = None
    sample_index: int = 0
    _rng: np.random.Generator | None = field(default=None, repr=False)

    @property
    def rng(self) -> np.random.Generator:
        """The agent's RNG for this episode (seeded from ``agent_seed``)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.agent_seed)
        return self._rng


@runtime_checkable
class Agent(Protocol):
    """Anything that turns a conversation into the next assistant reply."""

    name: str

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Return the next assistant reply to ``messages``."""
        ...


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, also when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
