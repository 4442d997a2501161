"""Gymnasium spaces for chat environments: message-list observations, assistant-reply actions."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from agentgym.core.messages import Message

_ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789 .,<>/=:"))


def _random_text(rng: np.random.Generator, max_len: int = 64) -> str:
    n = int(rng.integers(1, max_len + 1))
    return "".join(rng.choice(_ALPHABET, size=n))


class MessageListSpace(gym.Space[list[Message]]):
    """Observations: a list of chat :class:`Message` objects (the messages new since the last step)."""

    def __init__(self, max_messages: int = 10_000, seed: int | None = None) -> None:
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_messages = max_messages

    @property
    def is_np_flattenable(self) -> bool:
        """Message lists cannot be flattened into arrays."""
        return False

    def contains(self, x: Any) -> bool:
        """True when ``x`` is a list of at most ``max_messages`` Message objects."""
        return isinstance(x, list) and len(x) <= self.max_messages and all(isinstance(m, Message) for m in x)

    def sample(self, mask: Any = None, probability: Any = None) -> list[Message]:
        """A one-message list of random user text (useful only for smoke tests)."""
        return [Message("user", _random_text(self.np_random))]

    def __repr__(self) -> str:
        return "MessageListSpace()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessageListSpace) and other.max_messages == self.max_messages


class ChatActionSpace(gym.Space[Any]):
    """Actions: the assistant's reply, as text or as an assistant :class:`Message` with tool calls."""

    def __init__(self, max_chars: int = 100_000, seed: int | None = None) -> None:
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_chars = max_chars

    @property
    def is_np_flattenable(self) -> bool:
        """Replies cannot be flattened into arrays."""
        return False

    def contains(self, x: Any) -> bool:
        """True for a str or assistant Message whose text is within ``max_chars``."""
        if isinstance(x, str):
            return len(x) <= self.max_chars
        return isinstance(x, Message) and x.role == "assistant" and len(x.text) <= self.max_chars

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """Random short text; envs offer a better random policy through ``Env.sample_action``."""
        return _random_text(self.np_random)

    def __repr__(self) -> str:
        return f"ChatActionSpace(max_chars={self.max_chars})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChatActionSpace) and other.max_chars == self.max_chars
