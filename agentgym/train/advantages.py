"""Advantage estimators: GRPO, GAE over tokens or turns, discounted returns (numpy, no torch).

Turn-level results are broadcast to tokens with :func:`broadcast_to_tokens`; token-level ones
(:func:`token_gae`) run over the agent's tokens only, skipping prompt and env tokens, so an env
message between two turns is not a time step of the policy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from agentgym.core.errors import ConfigError


def grpo_advantages(
    rewards: Sequence[float], groups: Sequence[int], eps: float = 1e-6, scale: bool = True
) -> np.ndarray:
    """Group-relative advantages: ``(r - mean_group) / (std_group + eps)`` (no std with ``scale=False``).

    Each group's advantages sum to zero; a group of one (or of equal rewards) gets zeros.
    """
    r = np.asarray(rewards, dtype=np.float64)
    if len(r) != len(groups):
        raise ConfigError("rewards and groups differ in length")
    out = np.zeros_like(r)
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    for idx in members.values():
        vals = r[idx]
        centered = vals - vals.mean()
        if scale:
            centered = centered / (vals.std() + eps)
        out[idx] = centered
    return out


def gae(
    rewards: Sequence[float], values: Sequence[float], gamma: float = 1.0, lam: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimation over one episode; returns ``(advantages, returns)``.

    ``values[t]`` estimates the return from step ``t``; the episode ends after the last step
    (the value after it is 0). ``returns = advantages + values`` are the value targets.
    """
    r = np.asarray(rewards, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if r.shape != v.shape:
        raise ConfigError(f"rewards ({r.shape}) and values ({v.shape}) differ in shape")
    adv = np.zeros_like(r)
    last = 0.0
    for t in range(len(r) - 1, -1, -1):
        next_v = v[t + 1] if t + 1 < len(r) else 0.0
        delta = r[t] + gamma * next_v - v[t]
        last = delta + gamma * lam * last
        adv[t] = last
    return adv, adv + v


def discounted_returns(rewards: Sequence[float], gamma: float = 1.0) -> np.ndarray:
    """``G_t = sum_k gamma^k r_{t+k}`` for one episode."""
    out = np.zeros(len(rewards))
    acc = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        acc = float(rewards[t]) + gamma * acc
        out[t] = acc
    return out


def token_rewards(turn_rewards: Sequence[float], spans: Sequence[tuple[int, int]], length: int) -> np.ndarray:
    """A per-position array with turn ``t``'s reward on the last token of its span."""
    out = np.zeros(length)
    for reward, (start, end) in zip(turn_rewards, spans, strict=False):
        if end > start:
            out[end - 1] += reward
    return out


def token_gae(
    rewards: np.ndarray, values: np.ndarray, mask: Sequence[int], gamma: float = 1.0, lam: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """GAE over the positions where ``mask`` is 1 (the agent's tokens); zeros elsewhere.

    ``rewards`` and ``values`` are per position (values at a token: the value of the state before
    it is sampled). Returns ``(advantages, returns)`` per position.
    """
    idx = np.flatnonzero(np.asarray(mask))
    adv = np.zeros(len(mask))
    ret = np.zeros(len(mask))
    if len(idx):
        a, r = gae(rewards[idx], values[idx], gamma, lam)
        adv[idx], ret[idx] = a, r
    return adv, ret


def broadcast_to_tokens(
    turn_values: Sequence[float], spans: Sequence[tuple[int, int]], length: int
) -> np.ndarray:
    """A per-position array holding turn ``t``'s value on every token of its span, 0 elsewhere."""
    out = np.zeros(length)
    for value, (start, end) in zip(turn_values, spans, strict=False):
        out[start:end] = value
    return out


def whiten(values: np.ndarray, mask: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Normalize the masked entries to mean 0 and std 1 (others stay 0)."""
    sel = mask.astype(bool)
    if sel.sum() < 2:
        return np.where(sel, values, 0.0)
    mean, std = values[sel].mean(), values[sel].std()
    return np.where(sel, (values - mean) / (std + eps), 0.0)
